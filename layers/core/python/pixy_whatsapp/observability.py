"""Logger, metrics and tracer shared by every handler and library module.

Created once per process (as Powertools recommends) so handlers and the library
write to the same EMF blob and the same structured log.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE = "PixyWhatsApp"

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "pixy-whatsapp")

logger = Logger(service=_SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=_SERVICE)
tracer = Tracer(service=_SERVICE, disabled=os.environ.get("AWS_LAMBDA_FUNCTION_NAME") is None)


def mask_phone(value: str | None) -> str | None:
    """Keep enough of a phone number or BSUID to correlate, never the whole of it."""
    if not value:
        return value
    if len(value) <= 4:
        return "*" * len(value)
    return f"{value[:2]}{'*' * (len(value) - 4)}{value[-2:]}"
