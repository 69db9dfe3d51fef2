"""The OpenAPI document the API serves, and the contract files committed under docs/contract/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pixy_whatsapp import __version__
from pixy_whatsapp.api.export_contracts import (
    API_OPENAPI,
    SEND_REQUEST_SCHEMA,
    contract_files,
    main,
)
from pixy_whatsapp.api.models import SendRequestInput
from pixy_whatsapp.outbound import SendRequest

from .support import ApiClient

REPOSITORY = Path(__file__).parents[3]
CONTRACTS = REPOSITORY / "docs" / "contract"


def test_the_openapi_document_is_served_with_every_route(api: ApiClient) -> None:
    answer = api.get("/v1/openapi.json")

    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    document = answer.body
    assert document["info"]["title"] == "pixy-whatsapp"
    assert document["info"]["version"] == __version__
    paths = document["paths"]
    assert set(paths["/v1/messages"]) == {"post"}
    assert set(paths["/v1/messages/{message_id}"]) == {"get"}
    assert set(paths["/v1/health"]) == {"get"}
    assert "/v1/openapi.json" not in paths
    send = paths["/v1/messages"]["post"]["responses"]
    assert {"202", "207", "400", "422"} <= set(send)
    assert send["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SendMessagesResponse"
    )


def test_every_validation_answer_is_documented_as_an_error_body(api: ApiClient) -> None:
    document = api.get("/v1/openapi.json").body

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answer = operation["responses"].get("422")
            if answer is not None:
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_served_document_is_the_committed_one(api: ApiClient) -> None:
    served = api.get("/v1/openapi.json").body

    assert served == json.loads((CONTRACTS / API_OPENAPI).read_text())


@pytest.mark.parametrize("name", [SEND_REQUEST_SCHEMA, API_OPENAPI])
def test_committed_contracts_match_the_code(name: str) -> None:
    committed = (CONTRACTS / name).read_text(encoding="utf-8")

    assert committed == contract_files()[name], (
        f"docs/contract/{name} is stale: run python -m pixy_whatsapp.api.export_contracts"
    )


def test_the_export_command_writes_and_checks(tmp_path: Path) -> None:
    assert main(["--check", "--out", str(tmp_path)]) == 1
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--check", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(contract_files())


def _schema(model: type[Any]) -> dict[str, Any]:
    properties: dict[str, Any] = model.model_json_schema()["properties"]
    for field in properties.values():
        for key in ("title", "description", "default"):
            field.pop(key, None)
    return properties


def test_the_api_input_is_the_queue_contract_less_what_the_api_sets() -> None:
    contract, api_input = _schema(SendRequest), _schema(SendRequestInput)

    assert set(api_input) == set(contract) - {"version", "enqueued_at"}
    # Stricter on purpose: an optional id, a key SQS takes as deduplication id, a deadline
    # with a time zone (the sender compares it with an aware clock).
    stricter = {"id", "idempotency_key", "not_after"}
    for name in set(api_input) - stricter:
        assert api_input[name] == contract[name], name
    assert api_input["id"]["anyOf"][0]["pattern"] == contract["id"]["pattern"]
