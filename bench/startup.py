"""How long does `byecore --help` (and `--version`) take? Target: median under 0.25 s.

Runs the installed `byecore` command as a user would, a number of times, and prints the
median and spread. Usage: python bench/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def measure(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    exe = shutil.which("byecore")
    base = [exe] if exe else [sys.executable, "-m", "byecore_cli"]
    measure(base + ["--version"], 3)  # warm the disk cache
    print(f"{'command':<22} {'median':>8} {'min':>8} {'max':>8}   ({args.runs} runs)")
    for extra in (["--help"], ["--version"], ["provider", "--help"]):
        times = measure(base + extra, args.runs)
        label = "byecore " + " ".join(extra)
        print(f"{label:<22} {statistics.median(times) * 1000:>6.0f}ms "
              f"{min(times) * 1000:>6.0f}ms {max(times) * 1000:>6.0f}ms")
    print("target: median of `byecore --help` under 250 ms")


if __name__ == "__main__":
    main()
