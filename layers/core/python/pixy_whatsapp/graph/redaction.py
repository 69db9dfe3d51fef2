"""Keeping access tokens out of log records and error texts.

The client itself never logs headers or bodies. The leak it guards against is
lower down: the HPACK library that encodes HTTP/2 headers writes every header,
`authorization` included, to its DEBUG log (plain, or Huffman-coded, which is
just as readable). A filter on its loggers replaces the header arguments of
those records before any handler sees them.
"""

from __future__ import annotations

import logging
import threading

REDACTED = "[redacted]"

# Loggers of the HTTP/2 header codec, used by both httpx (client side) and
# hypercorn (the local stack's servers).
_HEADER_CODEC_LOGGERS = ("hpack.hpack", "hpack.table")

_install_lock = threading.Lock()


class HeaderArgumentsFilter(logging.Filter):
    """Blanks every argument of a record that could carry header names or values.

    Numbers and flags are kept so the records still say what happened.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_blank(arg) for arg in args)
        elif args is not None:
            record.args = {key: _blank(value) for key, value in args.items()}
        return True


def _blank(value: object) -> object:
    if isinstance(value, bool | int | float) or value is None:
        return value
    return REDACTED


def install_log_redaction() -> None:
    """Attach the header filter to the header codec's loggers (idempotent)."""
    with _install_lock:
        for name in _HEADER_CODEC_LOGGERS:
            target = logging.getLogger(name)
            if not any(isinstance(f, HeaderArgumentsFilter) for f in target.filters):
                target.addFilter(HeaderArgumentsFilter())


def scrub(text: str, secret: str) -> str:
    """`text` with every occurrence of `secret` replaced, for texts echoed by Meta."""
    if not secret:
        return text
    return text.replace(secret, REDACTED)
