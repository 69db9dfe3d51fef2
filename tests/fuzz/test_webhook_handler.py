"""hypothesis on the webhook function: no unsigned body in, every signed body in, never a 5xx.

The function is cold-started once inside moto (app secret, verify token, inbound queue,
body bucket: its dependencies are up) and called with API Gateway HTTP API events built
from arbitrary bodies (text or base64, up to past the inline limit so some go to S3) and
arbitrary headers, the signature header among them: missing, junk, a digest of another
body or key, or Meta's exact signature in the spellings Meta may use.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from pixy_whatsapp.settings import Settings

from tests.fuzz.sizes import fuzz_examples
from tests.fuzz.strategies import SQS_TEXT
from tests.integration.webhook.events import LambdaContextStub, http_api_event

HANDLER_MODULE = "functions.webhook.handler"
APP_SECRET = b"f00dfacecafe0123456789abcdef0123"
VERIFY_TOKEN = "fuzz-verify-token-0123456789"
SIGNATURE = "x-hub-signature-256"
INLINE_LIMIT = 4_096  # small, so bodies of a few KB already take the S3 path

FUZZ = settings(
    max_examples=fuzz_examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="module")
def invoke(aws_region: str) -> Iterator[Invoke]:
    session = boto3.Session(region_name=aws_region)
    with mock_aws(), pytest.MonkeyPatch.context() as env:
        boto3.DEFAULT_SESSION = session
        secrets = session.client("secretsmanager")
        sqs, s3 = session.client("sqs"), session.client("s3")
        secrets.create_secret(Name="pixy/fuzz/app-secret", SecretString=APP_SECRET.decode())
        secrets.create_secret(Name="pixy/fuzz/verify-token", SecretString=VERIFY_TOKEN)
        inbound = sqs.create_queue(QueueName="pixy-fuzz-inbound")["QueueUrl"]
        s3.create_bucket(Bucket="pixy-fuzz-webhook-bodies")
        deployment = Settings(
            stage="fuzz",
            messages_table="m",
            control_table="c",
            contacts_table="k",
            wabas_table="w",
            idempotency_table="i",
            outbound_queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/out.fifo",
            outbound_dlq_url="https://sqs.us-east-1.amazonaws.com/123456789012/out-dlq.fifo",
            inbound_queue_url=inbound,
            inbound_dlq_url="https://sqs.us-east-1.amazonaws.com/123456789012/in-dlq",
            webhook_bucket="pixy-fuzz-webhook-bodies",
            webhook_inline_limit_bytes=INLINE_LIMIT,
            event_bus="b",
            app_secret_name="pixy/fuzz/app-secret",
            verify_token_name="pixy/fuzz/verify-token",
            waba_secret_prefix="pixy/fuzz/waba/",
        )
        for name, value in deployment.to_env().items():
            env.setenv(name, value)
        if HANDLER_MODULE in sys.modules:
            module = importlib.reload(sys.modules[HANDLER_MODULE])
        else:
            module = importlib.import_module(HANDLER_MODULE)

        def call(event: dict[str, Any]) -> dict[str, Any]:
            answer: dict[str, Any] = module.handler(event, LambdaContextStub())
            return answer

        yield call


def meta_signature(body: bytes, secret: bytes = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def is_signed(body: bytes, header: str | None) -> bool:
    """The oracle: the header is `sha256=` and the HMAC of exactly these bytes, any hex case."""
    if header is None:
        return False
    value = header.strip()
    return value.startswith("sha256=") and value[7:].lower() == meta_signature(body)[7:]


def _repeat(seed: bytes, size: int) -> bytes:
    return (seed * (size // len(seed) + 1))[:size] if seed else b"\x00" * size


BODIES = st.one_of(
    st.binary(max_size=1024),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    st.builds(
        _repeat,
        st.binary(min_size=1, max_size=64),
        st.integers(min_value=INLINE_LIMIT - 64, max_value=INLINE_LIMIT * 3),
    ),
)
HEADER_NAMES = st.one_of(
    st.sampled_from(["content-type", "user-agent", "x-forwarded-for", "x-hub-signature"]),
    st.from_regex(r"\A[a-z][a-z0-9-]{0,20}\Z"),
)
OTHER_HEADERS = st.dictionaries(HEADER_NAMES, SQS_TEXT, max_size=5).map(
    lambda headers: {k: v for k, v in headers.items() if k != SIGNATURE}
)


@st.composite
def signature_headers(draw: st.DrawFn, body: bytes) -> str | None:
    """A signature header for `body`: missing, junk, wrong, or right in one of its spellings."""
    good = meta_signature(body)
    choice = draw(st.integers(min_value=0, max_value=11))
    if choice == 0:
        return None
    if choice == 1:
        return draw(SQS_TEXT)
    if choice == 2:
        return "sha256=" + draw(st.from_regex(r"\A[0-9a-fA-F]{64}\Z"))
    if choice == 3:  # another body's signature
        other = draw(st.binary(max_size=64).filter(lambda b: b != body))
        return meta_signature(other)
    if choice == 4:  # another key's
        return meta_signature(body, draw(st.binary(max_size=40).filter(lambda k: k != APP_SECRET)))
    if choice == 5:  # a near miss: one hex digit off, or cut short
        index = draw(st.integers(min_value=7, max_value=len(good) - 1))
        flipped = "0" if good[index] != "0" else "1"
        return draw(st.sampled_from([good[:index] + flipped + good[index + 1 :], good[:index]]))
    if choice == 6:  # prefixes Meta never sends
        return draw(st.sampled_from(["SHA256=", "sha1=", "sha256:", "", " sha256 ="])) + good[7:]
    if choice == 7:  # API Gateway joins a repeated header with commas
        return f"{good},{good}"
    # Meta's signature, as sent or with upper-case hex and surrounding blanks.
    return draw(st.sampled_from([good, "sha256=" + good[7:].upper(), f" {good}\t"]))


@st.composite
def webhook_posts(draw: st.DrawFn) -> tuple[bytes, str | None, dict[str, str], bool]:
    body = draw(BODIES)
    signature = draw(signature_headers(body))
    headers = draw(OTHER_HEADERS)
    try:
        body.decode("utf-8")
        base64_body = draw(st.booleans())
    except UnicodeDecodeError:
        base64_body = True  # API Gateway hands binary bodies over base64
    return body, signature, headers, base64_body


@FUZZ
@given(post=webhook_posts())
def test_only_bodies_signed_with_the_app_secret_are_accepted(
    invoke: Invoke,
    post: tuple[bytes, str | None, dict[str, str], bool],
    fuzz_tally: Counter[str],
) -> None:
    body, signature, headers, base64_body = post
    if signature is not None:
        headers = {**headers, SIGNATURE: signature}
    event = http_api_event(
        "POST", headers=headers, body=body or None, base64_body=base64_body and bool(body)
    )

    status = invoke(event)["statusCode"]

    signed = is_signed(body, signature)
    fuzz_tally[f"webhook POST ({'signed' if signed else 'unsigned or wrongly signed'})"] += 1
    assert status == (200 if signed else 401), (status, signature)


QUERY_KEYS = st.one_of(
    st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "hub_mode"]), SQS_TEXT
)


@FUZZ
@given(
    query=st.dictionaries(QUERY_KEYS, SQS_TEXT, max_size=4),
    meta=st.fixed_dictionaries(
        {
            "hub.mode": st.sampled_from(["subscribe", "Subscribe", "unsubscribe"]),
            "hub.verify_token": st.sampled_from([VERIFY_TOKEN, VERIFY_TOKEN + " ", "x"]),
            "hub.challenge": st.one_of(st.from_regex(r"\A[0-9]{1,12}\Z"), SQS_TEXT),
        }
    ),
    use_meta=st.booleans(),
)
def test_only_the_verify_token_completes_the_handshake(
    invoke: Invoke,
    query: dict[str, str],
    meta: dict[str, str],
    use_meta: bool,
    fuzz_tally: Counter[str],
) -> None:
    if use_meta:
        query = {**query, **meta}
    assume("\x00" not in "".join(query) + "".join(query.values()))
    response = invoke(http_api_event("GET", query=query or None))

    expected = (
        query.get("hub.mode") == "subscribe"
        and bool(query.get("hub.challenge"))
        and query.get("hub.verify_token") == VERIFY_TOKEN
    )
    fuzz_tally[f"webhook GET ({'verified' if expected else 'refused'})"] += 1
    assert response["statusCode"] == (200 if expected else 403), query
    if expected:
        assert response["body"] == query["hub.challenge"]
