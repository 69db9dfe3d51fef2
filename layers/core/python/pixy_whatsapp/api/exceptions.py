"""Errors a route raises to answer with a 4xx and its explanation."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

from pixy_whatsapp.api.models import ErrorDetail


class ApiError(Exception):
    """A client error: answered with `status_code` and an `ErrorBody`."""

    def __init__(
        self, status_code: HTTPStatus, error: str, details: Sequence[ErrorDetail] = ()
    ) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error
        self.details = list(details)


class MessageNotFound(ApiError):
    def __init__(self, message_id: str, retention_days: int) -> None:
        super().__init__(
            HTTPStatus.NOT_FOUND,
            "message not found",
            [
                ErrorDetail(
                    path="path.message_id",
                    message=f"no message has the id {message_id!r}: it was never accepted, "
                    f"or its record expired (records are kept for {retention_days} days)",
                )
            ],
        )
