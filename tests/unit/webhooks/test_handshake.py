"""The GET verification handshake, pure and through the receiver (stored token on moto)."""

from __future__ import annotations

import pytest
from pixy_whatsapp.webhooks import HandshakeRejected, WebhookReceiver
from pixy_whatsapp.webhooks.handshake import subscription_challenge

from .support import Aws, FakeClock

TOKEN = b"verify-me-please"
GOOD = {"hub.mode": "subscribe", "hub.verify_token": "verify-me-please", "hub.challenge": "1158"}


def test_the_challenge_is_echoed_for_the_right_token() -> None:
    assert subscription_challenge(GOOD, TOKEN) == "1158"


@pytest.mark.parametrize(
    ("query", "wrong_token"),
    [
        pytest.param({**GOOD, "hub.verify_token": "verify-me-pleasE"}, True, id="wrong-token"),
        pytest.param({**GOOD, "hub.verify_token": "verify-me-pleas"}, True, id="prefix-token"),
        pytest.param({**GOOD, "hub.verify_token": "vérify"}, True, id="non-ascii-token"),
        pytest.param({**GOOD, "hub.mode": "unsubscribe"}, False, id="wrong-mode"),
        pytest.param({**GOOD, "hub.mode": "Subscribe"}, False, id="mode-case"),
        pytest.param({k: v for k, v in GOOD.items() if k != "hub.mode"}, False, id="no-mode"),
        pytest.param(
            {k: v for k, v in GOOD.items() if k != "hub.verify_token"}, False, id="no-token"
        ),
        pytest.param({**GOOD, "hub.verify_token": ""}, False, id="empty-token"),
        pytest.param(
            {k: v for k, v in GOOD.items() if k != "hub.challenge"}, False, id="no-challenge"
        ),
        pytest.param({**GOOD, "hub.challenge": ""}, False, id="empty-challenge"),
        pytest.param({}, False, id="nothing"),
    ],
)
def test_anything_else_is_rejected(query: dict[str, str], wrong_token: bool) -> None:
    with pytest.raises(HandshakeRejected) as rejected:
        subscription_challenge(query, TOKEN)
    assert rejected.value.wrong_token is wrong_token


def test_the_receiver_checks_against_the_stored_token(receiver: WebhookReceiver) -> None:
    assert receiver.verify_subscription(GOOD) == "1158"
    with pytest.raises(HandshakeRejected):
        receiver.verify_subscription({**GOOD, "hub.verify_token": "guess"})


def test_a_changed_stored_token_is_picked_up_at_once(
    aws: Aws, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    assert receiver.verify_subscription(GOOD) == "1158"  # cached from here on
    aws.secretsmanager.put_secret_value(
        SecretId="pixy/test/whatsapp-verify-token", SecretString="a-new-token"
    )
    assert receiver.verify_subscription({**GOOD, "hub.verify_token": "a-new-token"}) == "1158"
    with pytest.raises(HandshakeRejected):
        receiver.verify_subscription(GOOD)


def test_a_bad_mode_does_not_cost_a_secret_read(aws: Aws, receiver: WebhookReceiver) -> None:
    receiver.verify_subscription(GOOD)
    reads = len(aws.secret_reads)
    for _ in range(5):
        with pytest.raises(HandshakeRejected):
            receiver.verify_subscription({**GOOD, "hub.mode": "nope"})
    assert len(aws.secret_reads) == reads
