"""schemathesis against the API's own OpenAPI document, served by the real handler in-process.

The api function is cold-started inside moto (queues, tables, secrets as the stack builds
them) with the Graph simulator standing in for Meta behind `POST /v1/wabas`; requests
reach it through `HttpApiWsgi`, which turns them into API Gateway's payload 2.0 events.
The schema is the one the function serves at `GET /v1/openapi.json`.

Checked for every generated request, positive and negative:

- no 5xx (`not_a_server_error`), and the handler never raises;
- status code, content type, headers and body conform to the document;
- invalid input is refused (`negative_data_rejection`);
- every 4xx explains itself: a non-empty `error` and a `details` list of path/message
  pairs (non-empty for 400 and 422).

`POST /v1/wabas` goes to the simulator, which accepts any token (as Meta does a valid one),
so generated registrations go through to the end and later GET/DELETE calls find them.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from moto import mock_aws
from pixy_whatsapp.api import ApiServices, build_app, openapi_json, wabas_routes
from pixy_whatsapp.settings import Settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.local.graph_simulator import PhoneNumber, SimulatorConfig, run_simulator
from tests.fuzz.http_api_wsgi import HttpApiWsgi, explains_itself
from tests.fuzz.sizes import fuzz_examples
from tests.integration.api.support import create_queues, create_tables

HANDLER_MODULE = "functions.api.handler"
EXAMPLES = fuzz_examples(30)
REGISTER_WABA = "POST /v1/wabas"
# The WABA and number of the document's examples: Meta (the simulator) knows them.
EXAMPLE_WABA, EXAMPLE_NUMBER = "102290129340398", "106540352242922"

# Most answers emit no application metric, and Powertools says so on each.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def assert_meta_refused_the_caller(status: int, body: dict[str, Any]) -> None:
    """The one 5xx a client's input may cause: Meta refusing the WABA it names.

    `POST /v1/wabas` answers 502 (documented) when Meta refuses to subscribe the app to a
    WABA; the simulator refuses, as Meta does, a WABA id it does not know. Anything else
    (our own fault, a 500, Meta unreachable) still fails the test.
    """
    assert status == 502, (status, body)
    assert body.get("code") == "meta_refused", body
    assert isinstance(body.get("meta_code"), int), body
    assert str(body.get("error") or "").startswith("Meta refused"), body


@dataclass
class ApiUnderTest:
    app: HttpApiWsgi
    module: ModuleType


def _create_wabas_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture(scope="module")
def api_under_test(aws_region: str) -> Iterator[ApiUnderTest]:
    session = boto3.Session(region_name=aws_region)
    simulator_config = SimulatorConfig(
        phone_numbers={EXAMPLE_NUMBER: PhoneNumber(waba_id=EXAMPLE_WABA)},
        accept_any_token=True,
        subscribed_at_start=False,
    )
    with (
        mock_aws(),
        run_simulator(simulator_config) as simulator,
        pytest.MonkeyPatch.context() as env,
    ):
        boto3.DEFAULT_SESSION = session
        sqs, dynamodb = session.client("sqs"), session.client("dynamodb")
        secrets = session.client("secretsmanager")
        create_tables(dynamodb, messages="pixy-fuzz-messages", control="pixy-fuzz-control")
        _create_wabas_table(dynamodb, "pixy-fuzz-wabas")
        queues = create_queues(sqs)
        secrets.create_secret(Name="pixy/fuzz/meta-app-secret", SecretString="app-secret")
        secrets.create_secret(Name="pixy/fuzz/verify-token", SecretString="verify-token")
        deployment = Settings(
            stage="fuzz",
            messages_table="pixy-fuzz-messages",
            control_table="pixy-fuzz-control",
            contacts_table="pixy-fuzz-contacts",
            wabas_table="pixy-fuzz-wabas",
            idempotency_table="pixy-fuzz-idempotency",
            outbound_queue_url=queues["outbound"],
            outbound_dlq_url=queues["outbound_dlq"],
            inbound_queue_url=queues["inbound"],
            inbound_dlq_url=queues["inbound_dlq"],
            webhook_bucket="pixy-fuzz-webhook-bodies",
            event_bus="pixy-fuzz-bus",
            app_secret_name="pixy/fuzz/meta-app-secret",
            verify_token_name="pixy/fuzz/verify-token",
            waba_secret_prefix="pixy/fuzz/waba/",
            graph_base_url=simulator.base_url,
            graph_timeout_seconds=2.0,
        )
        for name, value in deployment.to_env().items():
            env.setenv(name, value)
        wabas_routes.manager_factory.set(None)
        if HANDLER_MODULE in sys.modules:
            module = importlib.reload(sys.modules[HANDLER_MODULE])
        else:
            module = importlib.import_module(HANDLER_MODULE)
        APP.handler = module.handler
        served = APP.get_json("/v1/openapi.json")
        assert served == DOCUMENT, "the handler serves another document than was loaded"
        try:
            yield ApiUnderTest(app=APP, module=module)
        finally:
            APP.handler = None
            wabas_routes.manager_factory.set(None)
            module.services.close()


def _served_document() -> dict[str, Any]:
    """The document `GET /v1/openapi.json` serves, built without AWS behind it.

    schemathesis needs the schema when tests are collected, before any fixture runs
    (its `from_fixture` loader does not work with this pytest); the fixture checks that
    the running handler serves this same document.
    """
    document: dict[str, Any] = json.loads(openapi_json(build_app(_no_services)))
    return document


def _no_services() -> ApiServices:
    raise AssertionError("building the OpenAPI document must not need AWS")


DOCUMENT = _served_document()
# Requests go in-process to whichever handler the fixture installs.
APP = HttpApiWsgi()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = APP


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
def test_every_answer_conforms_and_no_input_causes_a_5xx(
    case: Case[Any], api_under_test: ApiUnderTest, fuzz_tally: Counter[str]
) -> None:
    label = case.operation.label
    fuzz_tally[f"api {label}"] += 1
    raised_before = len(api_under_test.app.errors)
    if label == REGISTER_WABA:
        response = case.call_and_validate(checks=[c for c in CHECKS if c is not not_a_server_error])
        if response.status_code >= 500:
            assert_meta_refused_the_caller(response.status_code, response.json())
    else:
        response = case.call_and_validate(checks=CHECKS)
    assert len(api_under_test.app.errors) == raised_before, api_under_test.app.errors[-1]
    fuzz_tally[f"api {label} -> {response.status_code}"] += 1
    if 400 <= response.status_code < 500:
        problem = explains_itself(response.status_code, response.content)
        assert problem is None, problem
        if response.status_code in (400, 422):
            assert response.json()["details"], f"{response.status_code} without details"


# The inputs the fuzz first failed on, kept as examples (both used to break the document:
# their 404/400 bodies lacked the `code` the WABA routes' error body requires).
@pytest.mark.parametrize(
    ("path", "method", "fields"),
    [
        pytest.param(
            "/v1/wabas/{waba_id}", "GET", {"path_parameters": {"waba_id": "\x84"}}, id="get-waba"
        ),
        pytest.param(
            "/v1/wabas/{waba_id}",
            "DELETE",
            {"path_parameters": {"waba_id": "\x84"}, "query": {"force": "true"}},
            id="delete-waba",
        ),
        pytest.param(
            "/v1/wabas",
            "POST",
            {"body": {}, "media_type": "application/json", "raw_body": b"\x00"},
            id="not-json",
        ),
    ],
)
def test_answers_the_fuzz_once_got_wrong_conform(
    api_under_test: ApiUnderTest, path: str, method: str, fields: dict[str, Any]
) -> None:
    fields = dict(fields)
    raw = fields.pop("raw_body", None)
    case = schema[path][method].Case(**fields)
    sent = {"data": raw} if raw is not None else {}
    response = case.call_and_validate(checks=CHECKS, **sent)
    assert response.status_code == (400 if raw is not None else 404)
    assert explains_itself(response.status_code, response.content) is None
    assert response.json()["code"]
