"""Meta's webhook verification request (`GET ?hub.mode=subscribe&hub.verify_token=...`).

>>> subscription_challenge(
...     {"hub.mode": "subscribe", "hub.verify_token": "t0k3n", "hub.challenge": "1158201444"},
...     b"t0k3n",
... )
'1158201444'
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from pixy_whatsapp.webhooks.exceptions import HandshakeRejected

MODE_PARAM = "hub.mode"
TOKEN_PARAM = "hub.verify_token"  # noqa: S105 - a query parameter name, not a secret
CHALLENGE_PARAM = "hub.challenge"
SUBSCRIBE = "subscribe"


def subscription_challenge(query: Mapping[str, str], verify_token: bytes) -> str:
    """The challenge to echo when the request presents `verify_token`; else `HandshakeRejected`."""
    if query.get(MODE_PARAM) != SUBSCRIBE:
        raise HandshakeRejected("hub.mode is not 'subscribe'")
    challenge = query.get(CHALLENGE_PARAM)
    if not challenge:
        raise HandshakeRejected("hub.challenge is missing")
    presented = query.get(TOKEN_PARAM)
    if not presented:
        raise HandshakeRejected("hub.verify_token is missing")
    if not token_matches(presented, verify_token):
        raise HandshakeRejected("hub.verify_token does not match", wrong_token=True)
    return challenge


def token_matches(presented: str | None, verify_token: bytes) -> bool:
    """Constant-time comparison of a presented token with the stored one."""
    if not presented:
        return False
    # compare_digest refuses non-ASCII str, so compare the UTF-8 bytes instead.
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), verify_token)
