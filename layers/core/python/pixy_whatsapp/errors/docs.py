"""Write the error table to ``docs/error-codes.md``.

``python -m pixy_whatsapp.errors.docs [PATH]`` writes the page (default
``docs/error-codes.md``, relative to the working directory); with ``--check`` it only
compares and exits 1 when the file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pixy_whatsapp.errors.markdown import render_markdown

DEFAULT_PATH = Path("docs/error-codes.md")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    paths = [arg for arg in args if arg != "--check"]
    path = Path(paths[0]) if paths else DEFAULT_PATH
    text = render_markdown()
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            print(f"{path} is stale; run: python -m pixy_whatsapp.errors.docs", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
