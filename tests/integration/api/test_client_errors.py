"""Whatever a client sends, the answer explains itself and is never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .support import NUMBER, WABA, ApiClient, Deployment, text


def post_raw(api: ApiClient, body: bytes, content_type: str = "application/json") -> Any:
    return api.call("POST", "/v1/messages", body=body, headers={"content-type": content_type})


def assert_explained(answer: Any) -> None:
    """A 4xx whose body says what is wrong, and where."""
    assert 400 <= answer.status < 500, answer
    assert isinstance(answer.body, dict), answer
    assert isinstance(answer.body["error"], str)
    assert answer.body["error"]
    for detail in answer.body["details"]:
        assert set(detail) == {"path", "message"}


NOT_JSON = [
    b'{"messages": [',
    b"{'messages': []}",
    b'{"messages": [{"metadata": {"n": NaN}}]}',
    b'{"n": Infinity}',
    b'{"n": 1e999}',
    b'{"n": ' + b"9" * 5000 + b"}",
    b"[" * 100_000 + b"]" * 100_000,
]


def test_a_body_that_is_not_json_is_a_400(api: ApiClient, deployment: Deployment) -> None:
    for body in NOT_JSON:
        answer = post_raw(api, body)

        assert answer.status == 400, body[:40]
        assert_explained(answer)
        assert answer.body["error"] == "the request body is not valid JSON"
        assert answer.problems["body"].startswith("is not valid JSON")
    assert deployment.outbound_depth() == 0


WRONG_SHAPES = [
    (b"[]", "must be a JSON object"),
    (b'"messages"', "must be a JSON object"),
    (b"null", "is required"),
    (b"", "is required"),
    (b'{"messages": {}}', "must be a JSON array"),
]


def test_a_body_of_the_wrong_shape_is_a_422(api: ApiClient) -> None:
    for body, problem in WRONG_SHAPES:
        answer = post_raw(api, body)

        assert answer.status == 422, body
        assert_explained(answer)
        assert problem in answer.problems.values(), body


def test_a_body_that_is_not_json_text_is_a_415(api: ApiClient) -> None:
    for content_type in ("text/plain", "multipart/form-data", "application/x-www-form-urlencoded"):
        answer = post_raw(api, b"messages=1", content_type)

        assert answer.status == 415
        assert_explained(answer)
        assert "header.content-type" in answer.problems


def test_a_base64_body_is_read_and_one_that_is_not_utf8_refused(
    api: ApiClient, deployment: Deployment
) -> None:
    document = json.dumps({"messages": [text(id="b64")]}).encode()

    ok = api.call("POST", "/v1/messages", body=document, base64_body=True)
    refused = api.call("POST", "/v1/messages", body=b"\xff\xfe{}", base64_body=True)

    assert ok.status == 202
    assert refused.status == 400
    assert_explained(refused)


def test_unknown_routes_are_404s_that_say_so(api: ApiClient) -> None:
    for method, path in [("GET", "/v1/nothing"), ("GET", "/"), ("POST", "/v1/messages/x/y")]:
        answer = api.call(method, path)

        assert answer.status == 404
        assert_explained(answer)
        assert answer.body["error"] == f"no route for {method} {path}"


def test_a_known_path_with_the_wrong_method_is_a_405_naming_the_right_ones(
    api: ApiClient,
) -> None:
    for method, path, allowed in [
        ("DELETE", "/v1/messages", "POST"),
        ("GET", "/v1/messages", "POST"),
        ("POST", "/v1/messages/some-id", "GET"),
        ("PUT", "/v1/health", "GET"),
    ]:
        answer = api.call(method, path)

        assert answer.status == 405
        assert_explained(answer)
        assert answer.body["error"] == f"{method} is not allowed on {path}"
        assert answer.headers["Allow"] == allowed


def test_invalid_requests_leave_no_trace(api: ApiClient, deployment: Deployment) -> None:
    answer = api.send(text(id="kept-out"), text(id="bad", waba_id="x"))

    assert answer.status == 422
    assert api.get("/v1/messages/kept-out").status == 404
    assert deployment.outbound_depth() == 0


def test_messages_enqueued_is_counted(api: ApiClient, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()

    assert api.send(text("1", id="one"), text("2", id="two"), text("3", id="one")).status == 202

    blobs = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and '"_aws"' in line
    ]
    [blob] = [b for b in blobs if "MessagesEnqueued" in b]
    assert blob["MessagesEnqueued"] == [2.0]
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "PixyWhatsApp"


# --- property: no input yields a 5xx ---------------------------------------------------------

_text = st.text(st.characters(exclude_categories=()), max_size=12)
_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


def _plausible_or(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a value of the right type (any content), sometimes any JSON at all."""
    return st.one_of(plausible, plausible, plausible, _json)


def _near_valid_message() -> st.SearchStrategy[dict[str, Any]]:
    """Requests of the right shape with arbitrary content: they reach the queue and table."""
    message = st.one_of(
        st.builds(lambda body: {"type": "text", "text": {"body": body}}, _text),
        st.builds(lambda m: {"type": "image", "image": m}, st.dictionaries(_text, _json)),
        st.builds(lambda t: {"type": "template", "template": t}, st.dictionaries(_text, _json)),
        st.dictionaries(_text, _json, max_size=3),
    )
    return st.fixed_dictionaries(
        {
            "waba_id": st.just(WABA),
            "phone_number_id": st.just(NUMBER),
            "to": _plausible_or(_text),
            "message": message,
        },
        optional={
            "id": _plausible_or(st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True)),
            "metadata": _plausible_or(st.dictionaries(_text, _json, max_size=4)),
            "category": _plausible_or(st.sampled_from(["marketing", "utility", "service"])),
            "client_reference": _plausible_or(_text),
            "idempotency_key": _plausible_or(_text),
            "not_after": _plausible_or(st.just("2999-01-01T00:00:00Z")),
        },
    )


_bodies = st.one_of(
    _json,
    st.builds(lambda messages: {"messages": messages}, st.lists(_json, max_size=3)),
    st.builds(
        lambda messages: {"messages": messages},
        st.lists(_near_valid_message(), min_size=1, max_size=3),
    ),
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=_bodies)
def test_no_json_body_yields_a_5xx(api: ApiClient, document: Any) -> None:
    answer = api.post_json("/v1/messages", document)

    event(f"HTTP {answer.status}")
    assert answer.status < 500, answer
    if answer.status >= 400:
        assert_explained(answer)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=64), encoded=st.booleans())
def test_no_byte_body_yields_a_5xx(api: ApiClient, raw: bytes, encoded: bool) -> None:
    if encoded:
        answer = api.call("POST", "/v1/messages", body=raw, base64_body=True)
    else:
        # API Gateway hands a text body over as UTF-8.
        answer = api.call("POST", "/v1/messages", body=raw.decode("utf-8", "replace").encode())

    assert answer.status < 500, answer


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# An event is UTF-8 JSON: no surrogates in paths or query strings (bodies can escape them).
@given(segment=st.text(max_size=12).filter(lambda s: "/" not in s), value=st.text(max_size=12))
def test_no_path_or_query_yields_a_5xx(api: ApiClient, segment: str, value: str) -> None:
    for answer in (
        api.get(f"/v1/messages/{segment}"),
        api.get("/v1/health", {"phone_number_id": value, "waba_id": segment}),
    ):
        assert answer.status < 500, answer


_finite_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_valid_requests = st.fixed_dictionaries(
    {
        "id": st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
        "waba_id": st.just(WABA),
        "phone_number_id": st.just(NUMBER),
        "to": st.from_regex(r"\+1555[0-9]{7}", fullmatch=True),
        "message": st.builds(
            lambda body: {"type": "text", "text": {"body": body}},
            st.text(min_size=1, max_size=40).filter(str.strip),
        ),
    },
    optional={
        "metadata": st.dictionaries(st.text(max_size=6), _finite_json, max_size=4),
        "client_reference": st.text(max_size=40),
        "idempotency_key": st.from_regex(r"[!-~]{1,20}", fullmatch=True),
        "category": st.sampled_from(["marketing", "utility", "authentication", "service"]),
    },
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=_valid_requests)
def test_any_content_is_queued_and_reads_back_or_is_refused(
    api: ApiClient, request: dict[str, Any]
) -> None:
    answer = api.send(request)

    event(f"HTTP {answer.status}")
    assert answer.status in (202, 422), answer
    if answer.status == 422:
        assert_explained(answer)
        return
    record = api.get(f"/v1/messages/{request['id']}")
    assert record.status == 200
    if answer.body["messages"][0]["status"] == "queued":
        assert as_doubles(record.body["metadata"]) == as_doubles(request.get("metadata", {}))
        assert record.body["client_reference"] == request.get("client_reference")


def as_doubles(value: Any) -> Any:
    """Numbers as a JSON reader takes them: DynamoDB keeps a number's value, not its type."""
    if isinstance(value, dict):
        return {k: as_doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_doubles(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value
