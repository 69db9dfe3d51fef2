"""Meta's `X-Hub-Signature-256` header: HMAC-SHA256 of the raw request bytes.

The HMAC is always taken over the bytes exactly as they arrived. Meta signs its own
serialisation (it escapes some characters, `@` among them, that `json.dumps` would not),
so a body that was parsed and serialised again no longer matches.

    >>> secret = b"app-secret"
    >>> header = sign_body(b'{"object":"whatsapp_business_account"}', secret)
    >>> verify_signature(b'{"object":"whatsapp_business_account"}', header, secret)
    >>> signature_matches(b'{"object": "whatsapp_business_account"}',
    ...                   parse_signature_header(header), secret)
    False
"""

from __future__ import annotations

import hashlib
import hmac
import re

from pixy_whatsapp.webhooks.exceptions import RejectReason, SignatureRejected

SIGNATURE_HEADER = "X-Hub-Signature-256"

_PREFIX = "sha256="
# Exactly one SHA-256 digest: bytes.fromhex alone would also take spaces between bytes.
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def sign_body(body: bytes, secret: bytes) -> str:
    """The header value Meta would send for `body` (used by the simulator and tests)."""
    return _PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def parse_signature_header(value: str | None) -> bytes:
    """The 32-byte digest carried by a header value, or `SignatureRejected`.

    A missing or blank header is refused outright rather than treated as "nothing to
    check", which is the bypass Meta's own sample once shipped.
    """
    if value is None or not value.strip():
        raise SignatureRejected(RejectReason.MISSING_SIGNATURE)
    value = value.strip()
    if not value.startswith(_PREFIX):
        raise SignatureRejected(RejectReason.MALFORMED_SIGNATURE)
    hex_digest = value[len(_PREFIX) :]
    if _HEX_DIGEST.fullmatch(hex_digest) is None:
        raise SignatureRejected(RejectReason.MALFORMED_SIGNATURE)
    return bytes.fromhex(hex_digest)


def signature_matches(body: bytes, digest: bytes, secret: bytes) -> bool:
    """Whether `digest` is the HMAC-SHA256 of `body` under `secret` (constant time)."""
    expected = hmac.new(secret, body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, digest)


def verify_signature(body: bytes, header: str | None, secret: bytes) -> None:
    """Return if `header` signs exactly `body` with `secret`; raise `SignatureRejected` if not."""
    if not signature_matches(body, parse_signature_header(header), secret):
        raise SignatureRejected(RejectReason.BAD_SIGNATURE)
