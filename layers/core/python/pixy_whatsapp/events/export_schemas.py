"""Write each event detail's JSON Schema to ``docs/contract/events/<detail-type>.schema.json``.

    python -m pixy_whatsapp.events.export_schemas            # (re)write the files
    python -m pixy_whatsapp.events.export_schemas --check    # exit 1 if they are stale

Run from the project root, or give ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pixy_whatsapp.events.details import DETAIL_MODELS, DetailType
from pixy_whatsapp.events.publisher import DEFAULT_SOURCE

DEFAULT_OUT = Path("docs/contract/events")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_file_name(detail_type: DetailType) -> str:
    return f"{detail_type.value}.schema.json"


def detail_schema(detail_type: DetailType) -> dict[str, Any]:
    """The JSON Schema of one detail type's ``detail``, as consumers receive it."""
    model = DETAIL_MODELS[detail_type]
    body = model.model_json_schema(mode="serialization")
    intro = (model.__doc__ or "").strip()
    envelope = (
        f'EventBridge events with "source": "{DEFAULT_SOURCE}" (the configured event source) '
        f'and "detail-type": "{detail_type.value}" carry this object as their "detail".'
    )
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://pixy-whatsapp/contract/events/{detail_type.value}.v1.json",
        **body,
        "title": detail_type.value,
        "description": f"{intro}\n\n{envelope}" if intro else envelope,
    }


def render_schemas() -> dict[str, str]:
    """File name -> file text, for every detail type."""
    return {
        schema_file_name(detail_type): json.dumps(detail_schema(detail_type), indent=2) + "\n"
        for detail_type in DetailType
    }


def stale_files(out: Path) -> list[str]:
    """Schema files under ``out`` that are missing or differ from the models."""
    stale = []
    for name, text in render_schemas().items():
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the event detail JSON Schemas.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="schema folder")
    parser.add_argument(
        "--check", action="store_true", help="only report stale files; exit 1 if any"
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0
    for path in write_schemas(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
