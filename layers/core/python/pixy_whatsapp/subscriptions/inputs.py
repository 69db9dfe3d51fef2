"""Checks on what a WABA registration names, apart from the manager that acts on it:
the send API's admin routes need them at import time, the manager's Graph and token
machinery only when a registration arrives."""

from __future__ import annotations

import re

import httpx

from pixy_whatsapp.subscriptions.exceptions import InvalidRegistration

CALLBACK_URI_MAX_CHARS = 200  # Meta's limit on override_callback_uri

# Graph node ids are decimal; anything else cannot be a WABA or a phone number id.
_GRAPH_ID = re.compile(r"^[0-9]{1,32}$")
_OVERRIDE = "override_callback_uri"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def check_graph_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _GRAPH_ID.match(value):
        raise InvalidRegistration(f"{what} must be a Graph id (digits only)", field=what)
    return value


def check_callback_uri(uri: str) -> str:
    """Meta's rules for `override_callback_uri`: an https URL of at most 200 characters.

    Plain http is let through for loopback hosts only, for the local stack.
    """
    if len(uri) > CALLBACK_URI_MAX_CHARS:
        raise InvalidRegistration(
            f"override_callback_uri is longer than {CALLBACK_URI_MAX_CHARS} characters",
            field=_OVERRIDE,
        )
    try:
        url = httpx.URL(uri)
    except httpx.InvalidURL:
        raise InvalidRegistration("override_callback_uri is not a URL", field=_OVERRIDE) from None
    if not url.host or url.fragment:
        raise InvalidRegistration(
            "override_callback_uri must be an absolute URL, no fragment", field=_OVERRIDE
        )
    if url.scheme != "https" and not (url.scheme == "http" and url.host in _LOOPBACK_HOSTS):
        raise InvalidRegistration("override_callback_uri must be an https URL", field=_OVERRIDE)
    return uri
