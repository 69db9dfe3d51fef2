"""The error answers the simulator gives, in the Graph API's shape.

Codes, titles and HTTP statuses follow Meta's error-code table; `details` texts are the
simulator's own wording. Webhook errors (in a `failed` status) reuse the same entries.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

ERROR_CODES_HREF = (
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes"
)


@dataclass(frozen=True, slots=True)
class GraphError:
    http_status: int
    code: int
    title: str
    details: str | None = None
    # Most Graph errors read "(#code) title"; token errors have their own sentence.
    message: str | None = None
    error_type: str = "OAuthException"
    subcode: int | None = None

    def body(self, fbtrace_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message or f"(#{self.code}) {self.title}",
            "type": self.error_type,
            "code": self.code,
        }
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id or new_fbtrace_id()
        return {"error": error}

    def webhook_error(self) -> dict[str, Any]:
        """The same error as it appears in a `failed` status webhook."""
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details or self.title},
            "href": ERROR_CODES_HREF,
        }


def new_fbtrace_id() -> str:
    return secrets.token_urlsafe(17)[:23]


def invalid_parameter(details: str) -> GraphError:
    return GraphError(400, 100, "Invalid parameter", details)


def unknown_object(object_id: str) -> GraphError:
    # Graph gives the same answer for an id that does not exist and one the token may not
    # see, so a client cannot probe ids it has no right to.
    return GraphError(
        400,
        100,
        "Unsupported post request",
        message=(
            f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation. Please read "
            "the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ),
        error_type="GraphMethodException",
        subcode=33,
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(
        400, 2500, "Unknown path components", message=f"Unknown path components: {path}"
    )


def invalid_token() -> GraphError:
    return GraphError(
        401,
        190,
        "Invalid OAuth access token",
        message="Invalid OAuth access token - Cannot parse access token",
    )


def revoked_token() -> GraphError:
    return GraphError(
        401,
        190,
        "Access token has expired",
        message=(
            "Error validating access token: The session has been invalidated because the user "
            "changed their password or Facebook has changed the session for security reasons."
        ),
    )


def throughput_reached(http_status: int) -> GraphError:
    return GraphError(
        http_status, 130429, "Rate limit hit", "Cloud API message throughput has been reached."
    )


def pair_rate_limited(http_status: int) -> GraphError:
    return GraphError(
        http_status,
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    )


def something_went_wrong() -> GraphError:
    return GraphError(
        500, 131000, "Something went wrong", "Message failed to send due to an unknown error."
    )


def undeliverable() -> GraphError:
    return GraphError(400, 131026, "Message undeliverable", "Message Undeliverable.")


def policy_blocked() -> GraphError:
    return GraphError(
        403,
        368,
        "Temporarily blocked for policies violations",
        "The WhatsApp Business Account is restricted from messaging for a policy violation.",
    )
