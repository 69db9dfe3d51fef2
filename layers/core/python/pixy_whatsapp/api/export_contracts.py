"""Write the published contracts to docs/contract/ (or check that they are current).

    python -m pixy_whatsapp.api.export_contracts            # write them
    python -m pixy_whatsapp.api.export_contracts --check    # exit 1 if they are stale

- `send-request.schema.json`: JSON Schema of a `SendRequest`, the body other systems put
  on the outbound queue directly;
- `api-openapi.json`: the OpenAPI document of the `/v1` API, as `GET /v1/openapi.json`
  serves it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pixy_whatsapp.api.app import ApiServices, build_app, openapi_json
from pixy_whatsapp.outbound import send_request_json_schema

COMMAND = "pixy_whatsapp.api.export_contracts"
DEFAULT_DIRECTORY = Path("docs/contract")
SEND_REQUEST_SCHEMA = "send-request.schema.json"
API_OPENAPI = "api-openapi.json"


def _no_services() -> ApiServices:
    raise RuntimeError("the contract export builds the routes only; it serves no request")


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def contract_files() -> dict[str, str]:
    """Each contract file's name and the text the code generates for it."""
    return {
        SEND_REQUEST_SCHEMA: _text(send_request_json_schema()),
        API_OPENAPI: _text(json.loads(openapi_json(build_app(_no_services)))),
    }


def stale_files(directory: Path) -> list[str]:
    """Names of the contract files in `directory` that differ from the generated ones."""
    stale = []
    for name, text in contract_files().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {COMMAND}")
    parser.add_argument("--out", type=Path, default=DEFAULT_DIRECTORY, help="target directory")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is stale"
    )
    args = parser.parse_args(argv)
    directory: Path = args.out
    if args.check:
        stale = stale_files(directory)
        for name in stale:
            print(f"{directory / name} is stale: run python -m {COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in contract_files().items():
        (directory / name).write_text(text, encoding="utf-8")
        print(directory / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
