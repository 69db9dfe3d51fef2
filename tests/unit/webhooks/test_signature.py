"""X-Hub-Signature-256: only the HMAC of the exact bytes, with our secret, is accepted."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pixy_whatsapp.webhooks import RejectReason, SignatureRejected, sign_body, verify_signature

SECRET = b"0123456789abcdef0123456789abcdef"
# A body as Meta serialises it: non-ASCII and '@' escaped, no spaces.
META_BODY = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":'
    b'[{"value":{"messaging_product":"whatsapp","messages":[{"from":"16315551181",'
    b'"id":"wamid.ABGGFlA5Fpa","timestamp":"1504902988","type":"text","text":'
    b'{"body":"caf\\u00e9 \\u0040 10\\u20ac \\ud83d\\ude00"}}]},"field":"messages"}]}]}'
)


def reference_header(body: bytes, secret: bytes) -> str:
    """Computed here with hmac directly, independent of the code under test."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def rejection(body: bytes, header: str | None, secret: bytes = SECRET) -> RejectReason | None:
    try:
        verify_signature(body, header, secret)
    except SignatureRejected as rejected:
        return rejected.reason
    return None


def test_a_valid_signature_is_accepted() -> None:
    assert rejection(META_BODY, reference_header(META_BODY, SECRET)) is None


def test_sign_body_matches_the_reference_hmac() -> None:
    assert sign_body(META_BODY, SECRET) == reference_header(META_BODY, SECRET)


def test_hex_digits_in_upper_case_are_the_same_signature() -> None:
    header = reference_header(META_BODY, SECRET)
    assert rejection(META_BODY, "sha256=" + header[7:].upper()) is None


def test_surrounding_whitespace_in_the_header_is_ignored() -> None:
    assert rejection(META_BODY, "  " + reference_header(META_BODY, SECRET) + " ") is None


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_signature_is_rejected(header: str | None) -> None:
    assert rejection(META_BODY, header) is RejectReason.MISSING_SIGNATURE


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda h: h[7:], id="no-prefix"),
        pytest.param(lambda h: "sha1=" + h[7:], id="other-algorithm"),
        pytest.param(lambda h: "SHA256=" + h[7:], id="prefix-case"),
        pytest.param(lambda h: h[:-1], id="63-digits"),
        pytest.param(lambda h: h + "0", id="65-digits"),
        pytest.param(lambda h: h[:-1] + "g", id="non-hex"),
        pytest.param(lambda h: h[:9] + " " + h[9:], id="space-inside"),
        pytest.param(lambda h: h + "," + h, id="two-values"),
        pytest.param(lambda h: h[:-1] + "\N{FULLWIDTH DIGIT ZERO}", id="non-ascii-digit"),
    ],
)
def test_a_malformed_signature_is_rejected(mangle: object) -> None:
    assert callable(mangle)
    header = mangle(reference_header(META_BODY, SECRET))
    assert rejection(META_BODY, header) is RejectReason.MALFORMED_SIGNATURE


def test_a_signature_made_with_another_secret_is_rejected() -> None:
    header = reference_header(META_BODY, b"not-our-app-secret")
    assert rejection(META_BODY, header) is RejectReason.BAD_SIGNATURE


def test_one_flipped_byte_of_the_body_is_rejected() -> None:
    header = reference_header(META_BODY, SECRET)
    for index in (0, len(META_BODY) // 2, len(META_BODY) - 1):
        tampered = bytearray(META_BODY)
        tampered[index] ^= 0x01
        assert rejection(bytes(tampered), header) is RejectReason.BAD_SIGNATURE


def test_one_changed_hex_digit_of_the_signature_is_rejected() -> None:
    header = reference_header(META_BODY, SECRET)
    for position in range(7, len(header)):
        replacement = "1" if header[position] == "0" else "0"
        wrong = header[:position] + replacement + header[position + 1 :]
        assert rejection(META_BODY, wrong) is RejectReason.BAD_SIGNATURE


@pytest.mark.parametrize(
    "reserialise",
    [
        pytest.param(lambda d: json.dumps(d), id="default-spacing"),
        pytest.param(lambda d: json.dumps(d, separators=(",", ":")), id="compact-ascii"),
        pytest.param(
            lambda d: json.dumps(d, separators=(",", ":"), ensure_ascii=False), id="raw-utf8"
        ),
        pytest.param(lambda d: json.dumps(d, indent=2), id="indented"),
    ],
)
def test_a_reserialised_body_is_rejected(reserialise: object) -> None:
    assert callable(reserialise)
    header = reference_header(META_BODY, SECRET)
    again = reserialise(json.loads(META_BODY)).encode("utf-8")
    assert json.loads(again) == json.loads(META_BODY)  # same data, different bytes
    assert again != META_BODY
    assert rejection(again, header) is RejectReason.BAD_SIGNATURE


def test_an_empty_body_needs_its_own_signature() -> None:
    assert rejection(b"", reference_header(b"", SECRET)) is None
    assert rejection(b"", None) is RejectReason.MISSING_SIGNATURE
    assert rejection(b"", reference_header(b"{}", SECRET)) is RejectReason.BAD_SIGNATURE


# --- properties -------------------------------------------------------------------------

bodies = st.binary(max_size=2048)
secrets = st.binary(min_size=1, max_size=64)
hex_digests = st.text(alphabet="0123456789abcdefABCDEF", min_size=64, max_size=64)


@st.composite
def candidate_headers(draw: st.DrawFn, body: bytes, secret: bytes) -> str:
    """Headers an attacker or a bug might send for `body`, valid ones included."""
    kind = draw(st.sampled_from(["text", "random-hex", "other-body", "other-secret", "valid"]))
    if kind == "text":
        return draw(st.text(max_size=80))
    if kind == "random-hex":
        return "sha256=" + draw(hex_digests)
    if kind == "other-body":
        return reference_header(draw(bodies), secret)
    if kind == "other-secret":
        return reference_header(body, draw(secrets))
    return reference_header(body, secret)


@given(data=st.data(), body=bodies, secret=secrets)
def test_only_the_hmac_of_those_exact_bytes_is_accepted(
    data: st.DataObject, body: bytes, secret: bytes
) -> None:
    header = data.draw(candidate_headers(body, secret))
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    value = header.strip()
    is_the_hmac = value.startswith("sha256=") and value[7:].lower() == expected
    assert (rejection(body, header, secret) is None) == is_the_hmac


@st.composite
def changed_bodies(draw: st.DrawFn, body: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip-bit", "append", "prepend", "truncate", "other"]))
    if kind == "flip-bit" and body:
        index = draw(st.integers(min_value=0, max_value=len(body) - 1))
        bit = draw(st.integers(min_value=0, max_value=7))
        flipped = bytearray(body)
        flipped[index] ^= 1 << bit
        return bytes(flipped)
    if kind == "append":
        return body + draw(st.binary(min_size=1, max_size=8))
    if kind == "prepend":
        return draw(st.binary(min_size=1, max_size=8)) + body
    if kind == "truncate" and body:
        return body[: draw(st.integers(min_value=0, max_value=len(body) - 1))]
    return draw(bodies)


@given(data=st.data(), body=bodies, secret=secrets)
def test_any_change_to_the_body_is_rejected(
    data: st.DataObject, body: bytes, secret: bytes
) -> None:
    changed = data.draw(changed_bodies(body))
    assume(changed != body)
    assert rejection(changed, reference_header(body, secret), secret) is (
        RejectReason.BAD_SIGNATURE
    )


@given(body=bodies, secret=secrets, other=secrets)
def test_a_signature_under_another_secret_is_rejected(
    body: bytes, secret: bytes, other: bytes
) -> None:
    # HMAC pads short keys with zeros, so keys equal up to trailing NULs are the same key.
    assume(other.rstrip(b"\x00") != secret.rstrip(b"\x00"))
    assert rejection(body, reference_header(body, other), secret) is RejectReason.BAD_SIGNATURE
