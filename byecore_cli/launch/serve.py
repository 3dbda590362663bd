"""The proxy ``byecore run`` starts: ``python -m byecore_cli.launch.serve --port N``.

It is ``byecore proxy --host 127.0.0.1 --port N`` plus one thread that stops it when no
``run`` lease is left (``leases.watch``). Kept here so that ``byecore proxy`` itself
knows nothing of leases; a ``--while-leased`` option of its own would make this module
a two-line shim.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from byecore_cli.cli.main import app
    from byecore_cli.launch import leases

    leases.watch()
    app(["proxy", "--host", "127.0.0.1", *argv], prog_name="byecore")


if __name__ == "__main__":
    main(sys.argv[1:])
