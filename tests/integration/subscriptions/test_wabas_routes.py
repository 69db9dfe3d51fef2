"""The admin routes, resolved as the api function resolves them, on moto and the simulator."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pixy_whatsapp.api import wabas_routes
from pixy_whatsapp.settings import Settings

from infra.local.graph_simulator import GraphSimulator
from tests.integration.subscriptions.conftest import Aws
from tests.integration.subscriptions.support import (
    APP_ID,
    NUMBER_A,
    SECRET_PREFIX,
    TOKEN_A,
    WABA_A,
    http_api_event,
    lambda_context,
)


@dataclass(frozen=True)
class Answer:
    status: int
    raw: str

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


Call = Callable[..., Answer]


@pytest.fixture
def call(
    aws: Aws, sim: GraphSimulator, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Call]:
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    # Built from the environment above on the first request, as in the api function.
    wabas_routes.manager_factory.set(None)
    app = APIGatewayHttpResolver(enable_validation=True)
    app.include_router(wabas_routes.router)

    def call(method: str, path: str, body: Any = None, **query: str) -> Answer:
        answer = app.resolve(
            http_api_event(method, path, body=body, query=query or None), lambda_context()
        )
        return Answer(answer["statusCode"], answer["body"])

    yield call
    wabas_routes.manager_factory.set(None)


def register_body(**changes: Any) -> dict[str, Any]:
    return {
        "waba_id": WABA_A,
        "access_token": TOKEN_A,
        "phone_number_ids": [NUMBER_A],
        **changes,
    }


def test_post_registers_and_answers_201(call: Call, sim: GraphSimulator, aws: Aws) -> None:
    answer = call("POST", "/v1/wabas", register_body())

    assert answer.status == 201
    body = answer.json
    assert body["waba_id"] == WABA_A
    assert body["state"] == "subscribed"
    assert body["app_id"] == APP_ID
    assert body["phone_number_ids"] == [NUMBER_A]
    assert body["last_check_result"] == "ok"
    assert body["registered_at"].endswith("Z") or body["registered_at"].endswith("+00:00")
    assert TOKEN_A not in answer.raw
    assert sim.simulation.accounts.subscription(WABA_A) is not None
    assert aws.token_secret(WABA_A, SECRET_PREFIX) == {"access_token": TOKEN_A}


def test_get_shows_the_state_and_404s_an_unknown_waba(call: Call) -> None:
    missing = call("GET", f"/v1/wabas/{WABA_A}")
    assert missing.status == 404
    assert missing.json["code"] == "not_found"

    call("POST", "/v1/wabas", register_body())
    found = call("GET", f"/v1/wabas/{WABA_A}")

    assert found.status == 200
    assert found.json["state"] == "subscribed"
    assert TOKEN_A not in found.raw


def test_meta_refusing_answers_502_with_its_code(call: Call) -> None:
    answer = call("POST", "/v1/wabas", register_body(access_token="revoked-or-wrong-token"))

    assert answer.status == 502
    body = answer.json
    assert body["code"] == "meta_refused"
    assert body["meta_code"] == 190
    assert body["meta_message"]
    assert body["waba"]["state"] == "failed"
    assert body["waba"]["meta_code"] == 190
    assert "revoked-or-wrong-token" not in answer.raw
    assert call("GET", f"/v1/wabas/{WABA_A}").json["state"] == "failed"


# What each request gets wrong, and the answer it should get.
INVALID_REQUESTS: list[tuple[dict[str, Any], int]] = [
    ({"waba_id": "not-a-graph-id"}, 422),
    ({"phone_number_ids": ["+15550001001"]}, 422),
    ({"unexpected": "field"}, 422),
    ({"access_token": ""}, 422),
    ({"override_callback_uri": "http://hooks.example.test/plain"}, 400),
    ({"access_token": "two words"}, 400),
]


def test_requests_that_cannot_be_right_are_4xx_and_never_echo_the_token(call: Call) -> None:
    for changes, status in INVALID_REQUESTS:
        answer = call("POST", "/v1/wabas", register_body(**changes))

        assert answer.status == status, changes
        assert TOKEN_A not in answer.raw
        assert "two words" not in answer.raw
    assert call("GET", f"/v1/wabas/{WABA_A}").status == 404


def test_delete_unsubscribes_and_forgets(call: Call, sim: GraphSimulator) -> None:
    call("POST", "/v1/wabas", register_body())

    answer = call("DELETE", f"/v1/wabas/{WABA_A}")

    assert answer.status == 200
    assert answer.json == {"waba_id": WABA_A, "unsubscribed": True, "reason": None}
    assert sim.simulation.accounts.subscription(WABA_A) is None
    assert call("GET", f"/v1/wabas/{WABA_A}").status == 404
    assert call("DELETE", f"/v1/wabas/{WABA_A}").status == 404


def test_delete_refused_by_meta_is_502_and_force_forgets_anyway(
    call: Call, sim: GraphSimulator
) -> None:
    call("POST", "/v1/wabas", register_body())
    sim.revoke_token(TOKEN_A)

    refused = call("DELETE", f"/v1/wabas/{WABA_A}")
    assert refused.status == 502
    assert refused.json["meta_code"] == 190
    assert call("GET", f"/v1/wabas/{WABA_A}").status == 200

    forced = call("DELETE", f"/v1/wabas/{WABA_A}", force="true")
    assert forced.status == 200
    assert forced.json["unsubscribed"] is False
    assert call("GET", f"/v1/wabas/{WABA_A}").status == 404


def test_the_token_is_not_logged(call: Call, caplog: pytest.LogCaptureFixture) -> None:
    # Lambda's level, and everything of our own (botocore's DEBUG dumps are not ours).
    caplog.set_level("INFO")
    caplog.set_level("DEBUG", logger="pixy_whatsapp")

    call("POST", "/v1/wabas", register_body())
    call("POST", "/v1/wabas", register_body(access_token="wrong-token-for-meta"))
    call("DELETE", f"/v1/wabas/{WABA_A}")

    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "WABA registered" in logged
    assert TOKEN_A not in logged
    assert "wrong-token-for-meta" not in logged


def test_the_routes_are_in_the_openapi_document() -> None:
    app = APIGatewayHttpResolver(enable_validation=True)
    app.include_router(wabas_routes.router)

    document = json.loads(app.get_openapi_json_schema(title="t", version="1"))

    assert {"post"} <= set(document["paths"]["/v1/wabas"])
    assert {"get", "delete"} <= set(document["paths"]["/v1/wabas/{waba_id}"])
    request = document["components"]["schemas"]["RegisterWabaRequest"]
    assert request["properties"]["access_token"]["writeOnly"] is True
