"""functions/webhook/handler.handler with real HTTP API v2 events, on moto SQS/S3/Secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pixy_whatsapp.webhooks import load_webhook_body

from .conftest import Invoke
from .events import http_api_event
from .support import APP_SECRET, VERIFY_TOKEN, Deployment, emitted_metrics, signed

# Meta's serialisation: non-ASCII and '@' escaped, no spaces after separators.
BODY = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":'
    b'[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":'
    b'"15550783881","phone_number_id":"106540352242922"},"messages":[{"from":"16505551234",'
    b'"id":"wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=","timestamp":'
    b'"1749416383","type":"text","text":{"body":"ol\\u00e1 \\u0040 voc\\u00ea \\ud83d\\udc4b"}}'
    b']},"field":"messages"}]}]}'
)
RECEIVED_AT = 1_764_064_800_123

# A successful handshake or a 500 emits no application metric, and Powertools says so.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


def post(
    body: bytes | None, signature: str | None, *, base64_body: bool = False, **kw: Any
) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    return http_api_event(
        "POST",
        headers=headers,
        body=body,
        base64_body=base64_body,
        time_epoch=RECEIVED_AT,
        **kw,
    )


def handshake(**query: str) -> dict[str, Any]:
    return http_api_event("GET", query={k.replace("_", ".", 1): v for k, v in query.items()})


# --- GET: verification handshake -------------------------------------------------------


def test_the_handshake_echoes_the_challenge(invoke: Invoke) -> None:
    response = invoke(
        handshake(hub_mode="subscribe", hub_verify_token=VERIFY_TOKEN, hub_challenge="1158201444")
    )
    assert response["statusCode"] == 200
    assert response["body"] == "1158201444"
    assert response["headers"]["Content-Type"] == "text/plain"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(
            {"hub_mode": "subscribe", "hub_verify_token": "wrong", "hub_challenge": "1"},
            id="wrong-token",
        ),
        pytest.param(
            {"hub_mode": "unsubscribe", "hub_verify_token": VERIFY_TOKEN, "hub_challenge": "1"},
            id="wrong-mode",
        ),
        pytest.param({"hub_mode": "subscribe", "hub_challenge": "1"}, id="no-token"),
        pytest.param({"hub_mode": "subscribe", "hub_verify_token": VERIFY_TOKEN}, id="no-chall"),
        pytest.param({"hub_verify_token": VERIFY_TOKEN, "hub_challenge": "1"}, id="no-mode"),
        pytest.param({}, id="no-query"),
    ],
)
def test_any_other_handshake_is_forbidden(
    invoke: Invoke, query: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    response = invoke(handshake(**query))
    assert response["statusCode"] == 403
    assert "1" not in response["body"]
    assert _rejections(capsys.readouterr().out) == ["handshake"]


def test_the_handshake_works_under_a_named_stage(invoke: Invoke) -> None:
    event = http_api_event(
        "GET",
        query={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
        stage="prod",
    )
    assert invoke(event)["body"] == "42"


# --- POST: signature, then hand-off ----------------------------------------------------


def test_a_signed_body_is_queued_and_answered_200(
    invoke: Invoke, deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    response = invoke(post(BODY, signed(BODY)))

    assert response["statusCode"] == 200
    [message] = deployment.queued()
    assert load_webhook_body(message, deployment.s3) == (BODY, RECEIVED_AT)
    names = _metric_names(capsys.readouterr().out)
    assert "WebhooksAccepted" in names
    assert "WebhooksRejected" not in names


def test_a_base64_encoded_body_is_decoded_before_the_check(
    invoke: Invoke, deployment: Deployment
) -> None:
    response = invoke(post(BODY, signed(BODY), base64_body=True))
    assert response["statusCode"] == 200
    [message] = deployment.queued()
    assert load_webhook_body(message, deployment.s3)[0] == BODY


def test_a_binary_base64_body_is_kept_byte_for_byte(invoke: Invoke, deployment: Deployment) -> None:
    body = b'{"x":"\xc3\x28 not utf-8"}'
    assert invoke(post(body, signed(body), base64_body=True))["statusCode"] == 200
    [message] = deployment.queued()
    assert load_webhook_body(message, deployment.s3)[0] == body


def test_the_signature_header_name_is_case_insensitive(
    invoke: Invoke, deployment: Deployment
) -> None:
    event = http_api_event(
        "POST", headers={"X-Hub-Signature-256": signed(BODY)}, body=BODY, time_epoch=RECEIVED_AT
    )
    assert invoke(event)["statusCode"] == 200
    assert len(deployment.queued()) == 1


def _flip_byte(body: bytes) -> bytes:
    flipped = bytearray(body)
    flipped[len(body) // 2] ^= 0x20
    return bytes(flipped)


def _flip_hex_digit(signature: str) -> str:
    digit = signature[-5]
    return signature[:-5] + ("0" if digit != "0" else "1") + signature[-4:]


@pytest.mark.parametrize(
    ("body", "signature", "reason"),
    [
        pytest.param(BODY, None, "missing_signature", id="missing"),
        pytest.param(BODY, "", "missing_signature", id="empty-header"),
        pytest.param(BODY, "sha1=" + "0" * 40, "malformed_signature", id="sha1"),
        pytest.param(BODY, signed(BODY)[7:], "malformed_signature", id="no-prefix"),
        pytest.param(BODY, signed(BODY, b"another-secret"), "bad_signature", id="wrong-secret"),
        pytest.param(_flip_byte(BODY), signed(BODY), "bad_signature", id="flipped-body-byte"),
        pytest.param(BODY, _flip_hex_digit(signed(BODY)), "bad_signature", id="flipped-hex"),
        pytest.param(
            json.dumps(json.loads(BODY)).encode(), signed(BODY), "bad_signature", id="reserialised"
        ),
        pytest.param(
            json.dumps(json.loads(BODY), ensure_ascii=False, separators=(",", ":")).encode(),
            signed(BODY),
            "bad_signature",
            id="reserialised-compact-utf8",
        ),
        pytest.param(b"", None, "missing_signature", id="empty-unsigned"),
        pytest.param(b"", signed(BODY), "bad_signature", id="empty-with-other-signature"),
    ],
)
def test_a_bad_signature_is_401_and_nothing_is_kept(
    invoke: Invoke,
    deployment: Deployment,
    capsys: pytest.CaptureFixture[str],
    body: bytes,
    signature: str | None,
    reason: str,
) -> None:
    response = invoke(post(body, signature))

    assert response["statusCode"] == 401
    assert reason in response["body"]
    assert deployment.queued() == []
    assert deployment.stored_keys() == []
    assert _rejections(capsys.readouterr().out) == [reason]


def test_an_empty_signed_body_is_accepted_and_kept(invoke: Invoke, deployment: Deployment) -> None:
    assert invoke(post(b"", signed(b"")))["statusCode"] == 200
    [message] = deployment.queued()
    assert load_webhook_body(message, deployment.s3) == (b"", RECEIVED_AT)


def test_a_request_without_any_body_is_an_empty_body(
    invoke: Invoke, deployment: Deployment
) -> None:
    assert invoke(post(None, signed(b"")))["statusCode"] == 200
    assert invoke(post(None, None))["statusCode"] == 401
    assert len(deployment.queued()) == 1


def test_a_three_megabyte_body_goes_to_s3_and_comes_back_identical(
    invoke: Invoke, deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = BODY[len(b'{"object":"whatsapp_business_account","entry":[') : -2]
    head = b'{"object":"whatsapp_business_account","entry":['
    body = head + b",".join([entry] * ((3_000_000 - len(head)) // (len(entry) + 1))) + b"]}"
    assert 2_900_000 < len(body) <= 3_000_000

    response = invoke(post(body, signed(body), base64_body=True))

    assert response["statusCode"] == 200
    [message] = deployment.queued()
    pointer = json.loads(message)
    assert "body" not in pointer
    assert pointer["s3"]["bucket"] == deployment.settings.webhook_bucket
    assert deployment.stored_keys() == [pointer["s3"]["key"]]
    assert load_webhook_body(message, deployment.s3) == (body, RECEIVED_AT)
    assert "WebhookBodiesOffloaded" in _metric_names(capsys.readouterr().out)


def test_a_rotated_app_secret_is_picked_up(invoke: Invoke, deployment: Deployment) -> None:
    assert invoke(post(BODY, signed(BODY)))["statusCode"] == 200  # old secret now cached
    deployment.secretsmanager.put_secret_value(
        SecretId=deployment.settings.app_secret_name, SecretString="rotated-app-secret"
    )

    assert invoke(post(BODY, signed(BODY, b"rotated-app-secret")))["statusCode"] == 200
    assert invoke(post(BODY, signed(BODY, APP_SECRET)))["statusCode"] == 401
    assert len(deployment.queued()) == 2


def test_a_failed_enqueue_answers_500_so_meta_retries(
    invoke: Invoke, deployment: Deployment
) -> None:
    deployment.sqs.delete_queue(QueueUrl=deployment.settings.inbound_queue_url)
    response = invoke(post(BODY, signed(BODY)))
    assert response["statusCode"] == 500


def test_a_failed_s3_write_answers_500_and_enqueues_nothing(
    invoke: Invoke, deployment: Deployment
) -> None:
    deployment.s3.delete_bucket(Bucket=deployment.settings.webhook_bucket)
    body = b"z" * (deployment.settings.webhook_inline_limit_bytes + 1)
    assert invoke(post(body, signed(body)))["statusCode"] == 500
    assert deployment.queued() == []


def test_an_unreadable_app_secret_answers_500(invoke: Invoke, deployment: Deployment) -> None:
    deployment.secretsmanager.delete_secret(
        SecretId=deployment.settings.app_secret_name, ForceDeleteWithoutRecovery=True
    )
    assert invoke(post(BODY, signed(BODY)))["statusCode"] == 500
    assert deployment.queued() == []


def test_other_routes_are_not_found(invoke: Invoke) -> None:
    assert invoke(http_api_event("POST", "/webhooks", body=b"{}"))["statusCode"] == 404


def _metric_names(stdout: str) -> set[str]:
    names: set[str] = set()
    for blob in emitted_metrics(stdout):
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            names.update(m["Name"] for m in directive["Metrics"])
    return names


def _rejections(stdout: str) -> list[str]:
    """Reason dimension values of every WebhooksRejected data point."""
    reasons = []
    for blob in emitted_metrics(stdout):
        if "WebhooksRejected" in blob and "Reason" in blob:
            reasons.append(blob["Reason"])
    return reasons
