"""Write the shell completion scripts in completions/ from the typer app.

Run after changing commands: ``python scripts/gen_completions.py``. A test fails
when the committed files differ from what this would write.
"""

from __future__ import annotations

from pathlib import Path

from typer.completion import get_completion_script

SHELLS = {"bash": "byecore.bash", "zsh": "_byecore", "fish": "byecore.fish"}
OUT = Path(__file__).resolve().parent.parent / "completions"


def render(shell: str) -> str:
    # The scripts call back into `byecore` for the candidates, so they stay correct as
    # commands are added; what changes them is the program name and the variable below.
    script = get_completion_script(
        prog_name="byecore", complete_var="_BYECORE_COMPLETE", shell=shell
    )
    return script.rstrip("\n") + "\n"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for shell, filename in SHELLS.items():
        (OUT / filename).write_text(render(shell))
        print(f"wrote completions/{filename}")


if __name__ == "__main__":
    main()
