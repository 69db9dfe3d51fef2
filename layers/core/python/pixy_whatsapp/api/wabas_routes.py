"""Admin routes for onboarding WABAs: `POST /v1/wabas`, `GET` and `DELETE /v1/wabas/{waba_id}`.

Included by the API's resolver (`app.include_router(router)`); the routes are IAM-only like
all of `/v1`. The manager is built on first use from `Settings.from_env()`, so importing
this module reads no environment and opens no client.

The access token arrives in the POST body and goes only to Secrets Manager and to Meta:
no answer, log line or validation error carries it (Powertools' 422 answers name the
field and the error type only).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import boto3
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pixy_whatsapp.api.models import ErrorDetail
from pixy_whatsapp.errors import classify
from pixy_whatsapp.settings import Settings
from pixy_whatsapp.subscriptions.exceptions import (
    FailureKind,
    InvalidRegistration,
    RegistrationFailed,
    UnregistrationFailed,
    WabaNotFound,
)
from pixy_whatsapp.subscriptions.inputs import CALLBACK_URI_MAX_CHARS
from pixy_whatsapp.subscriptions.model import CheckResult, SubscriptionState, WabaRecord

if TYPE_CHECKING:
    from pixy_whatsapp.subscriptions.manager import SubscriptionManager

_T = TypeVar("_T")

_GRAPH_ID = r"^[0-9]{1,32}$"
_TAGS = ["WABAs"]

# --- bodies -------------------------------------------------------------------------------


class RegisterWabaRequest(BaseModel):
    """A WABA to receive webhooks for, and the token to act on it with."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "waba_id": "102290129340398",
                    "access_token": "EAAG...",
                    "phone_number_ids": ["106540352242922"],
                }
            ]
        },
    )

    waba_id: Annotated[str, Field(pattern=_GRAPH_ID, description="the WABA's Graph id")]
    access_token: Annotated[
        SecretStr,
        Field(
            min_length=1,
            max_length=4096,
            description="a system user token with whatsapp_business_management and "
            "whatsapp_business_messaging; stored in Secrets Manager, never returned",
        ),
    ]
    phone_number_ids: Annotated[
        list[Annotated[str, Field(pattern=_GRAPH_ID)]],
        Field(
            max_length=100,
            description="the WABA's business phone number ids, watched for shadow delivery",
        ),
    ] = []
    override_callback_uri: Annotated[
        str | None,
        Field(
            max_length=CALLBACK_URI_MAX_CHARS,
            description="https URL Meta should send this WABA's webhooks to instead of the "
            "app's callback; default: the deployment's configured override, if any",
        ),
    ] = None


class WabaView(BaseModel):
    """What the registry knows about a WABA's webhook subscription."""

    waba_id: str
    state: SubscriptionState
    reason: str | None = Field(None, description="why the state is not `subscribed`")
    meta_code: int | None = Field(None, description="Meta's error code behind `reason`")
    phone_number_ids: list[str]
    app_id: str | None = Field(None, description="our app's id as Meta lists it")
    override_callback_uri: str | None
    registered_at: datetime
    updated_at: datetime
    last_check_at: datetime | None
    last_check_result: CheckResult | None
    repairs: int = Field(description="times the schedule restored a lost subscription")
    silent_phone_number_ids: list[str] = Field(
        description="numbers whose accepted sends got no status webhooks (shadow delivery)"
    )

    @classmethod
    def of(cls, record: WabaRecord) -> WabaView:
        return cls(
            waba_id=record.waba_id,
            state=record.state,
            reason=record.reason,
            meta_code=record.meta_code,
            phone_number_ids=list(record.phone_number_ids),
            app_id=record.app_id,
            override_callback_uri=record.override_callback_uri,
            registered_at=_utc(record.registered_at_ms),
            updated_at=_utc(record.updated_at_ms),
            last_check_at=_utc(record.last_check_at_ms) if record.last_check_at_ms else None,
            last_check_result=record.last_check_result,
            repairs=record.repairs,
            silent_phone_number_ids=list(record.silent_phone_number_ids),
        )


class UnregisteredView(BaseModel):
    waba_id: str
    unsubscribed: bool = Field(
        description="false only with force=true when Meta could not be told: its webhooks "
        "for this WABA may still arrive"
    )
    reason: str | None = None


class WabaErrorBody(BaseModel):
    """Why a WABA request did not go through; Meta's code and message when Meta refused.

    The API's usual error body (`error`, `details`) with a few fields more.
    """

    error: str
    details: list[ErrorDetail] = []
    code: str = Field(description="invalid_request, not_found, or a failure kind")
    meta_code: int | None = None
    meta_message: str | None = None
    waba: WabaView | None = Field(None, description="the WABA as now recorded, if it is")


def _utc(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


# --- the manager, built on first use ------------------------------------------------------


class ManagerFactory:
    """Builds the manager once, from the environment, when a route first needs it.

    `set()` installs another one (tests, the local stack); `set(None)` forgets it, so the
    next request builds a fresh one from the environment as it is then.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._manager: SubscriptionManager | None = None
        # One loop kept across requests, so the Graph client's connections stay warm.
        self._runner: asyncio.Runner | None = None

    def get(self) -> SubscriptionManager:
        with self._lock:
            if self._manager is None:
                # The token provider, registry and shadow check only serve these admin
                # routes: sends and status reads never load them.
                from pixy_whatsapp.subscriptions.runtime import SubscriptionClients, build_manager

                self._manager = build_manager(
                    Settings.from_env(),
                    SubscriptionClients(
                        dynamodb=boto3.client("dynamodb"), secrets=boto3.client("secretsmanager")
                    ),
                )
            return self._manager

    def set(self, manager: SubscriptionManager | None) -> None:
        with self._lock:
            self._manager = manager
            # The old manager's connections live on the loop: closing it closes them.
            if self._runner is not None:
                self._runner.close()
                self._runner = None

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run a manager coroutine from a (synchronous) route, one at a time."""
        with self._lock:
            if self._runner is None:
                self._runner = asyncio.Runner()
            return self._runner.run(coroutine)


manager_factory = ManagerFactory()
get_manager = manager_factory.get


# --- routes -------------------------------------------------------------------------------

# Powertools leaves the router's constructor unannotated.
router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


def _answer(description: str, model: type[BaseModel]) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


_BAD_REQUEST = _answer("the request cannot be right", WabaErrorBody)
_NOT_FOUND = _answer("no such WABA is registered", WabaErrorBody)
_BAD_GATEWAY = _answer("Meta refused or did not answer; `meta_code` says why", WabaErrorBody)
_UNAVAILABLE = _answer("the token or the verify token could not be read or stored", WabaErrorBody)


def _json(status: int, body: BaseModel) -> Response[dict[str, Any]]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
    )


def _error(
    status: int,
    message: str,
    code: str,
    *,
    path: str | None = None,
    meta_code: int | None = None,
    meta_message: str | None = None,
    record: WabaRecord | None = None,
) -> Response[dict[str, Any]]:
    return _json(
        status,
        WabaErrorBody(
            error=message,
            details=[ErrorDetail(path=path, message=message)] if path else [],
            code=code,
            meta_code=meta_code,
            meta_message=meta_message,
            waba=WabaView.of(record) if record is not None else None,
        ),
    )


# Our own side failing (Secrets Manager, the verify token) is ours to fix, not Meta's.
_FAILURE_STATUS = {
    FailureKind.META_REFUSED: HTTPStatus.BAD_GATEWAY,
    FailureKind.META_UNREACHABLE: HTTPStatus.BAD_GATEWAY,
    FailureKind.NOT_SUBSCRIBED: HTTPStatus.BAD_GATEWAY,
    FailureKind.TOKEN_NOT_STORED: HTTPStatus.SERVICE_UNAVAILABLE,
    FailureKind.VERIFY_TOKEN_UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
    FailureKind.TOKEN_MISSING: HTTPStatus.CONFLICT,
}


def _failure_status(kind: FailureKind, meta_code: int | None) -> HTTPStatus:
    """Meta refusing the caller's WABA id or token is the caller's to fix: 400, not 502."""
    if kind is FailureKind.META_REFUSED and not classify(meta_code, http_status=400).retryable:
        return HTTPStatus.BAD_REQUEST
    return _FAILURE_STATUS[kind]


@router.post(
    "/v1/wabas",
    summary="Register a WABA: store its token, subscribe this app to its webhooks, verify",
    responses={
        201: _answer("subscribed and verified", WabaView),
        400: _BAD_REQUEST,
        502: _BAD_GATEWAY,
        503: _UNAVAILABLE,
    },
    tags=_TAGS,
)
def register_waba(request: RegisterWabaRequest) -> Response[dict[str, Any]]:
    manager = get_manager()
    try:
        record = manager_factory.run(
            manager.register(
                request.waba_id,
                request.access_token,
                phone_number_ids=request.phone_number_ids,
                override_callback_uri=request.override_callback_uri,
            )
        )
    except InvalidRegistration as invalid:
        return _error(
            HTTPStatus.BAD_REQUEST, str(invalid), "invalid_request", path=invalid.field or "body"
        )
    except RegistrationFailed as failed:
        status = _failure_status(failed.kind, failed.meta_code)
        return _error(
            status,
            failed.reason,
            failed.kind.value,
            # A 400 is about what the caller sent: the WABA id or its token.
            path="body" if status == HTTPStatus.BAD_REQUEST else None,
            meta_code=failed.meta_code,
            meta_message=failed.meta_message,
            record=failed.record,
        )
    return _json(HTTPStatus.CREATED, WabaView.of(record))


@router.get(
    "/v1/wabas/<waba_id>",
    summary="A WABA's webhook subscription as last verified",
    responses={200: _answer("the WABA", WabaView), 404: _NOT_FOUND},
    tags=_TAGS,
)
def get_waba(
    waba_id: Annotated[str, Path(pattern=_GRAPH_ID)],
) -> Response[dict[str, Any]]:
    try:
        record = get_manager().status(waba_id)
    except WabaNotFound as missing:
        return _error(HTTPStatus.NOT_FOUND, str(missing), "not_found", path="path.waba_id")
    return _json(HTTPStatus.OK, WabaView.of(record))


@router.delete(
    "/v1/wabas/<waba_id>",
    summary="Unsubscribe this app from a WABA, delete its token and forget it",
    responses={
        200: _answer("unsubscribed and forgotten", UnregisteredView),
        404: _NOT_FOUND,
        409: _answer("no token is stored to tell Meta with: use force=true", WabaErrorBody),
        502: _BAD_GATEWAY,
    },
    tags=_TAGS,
)
def delete_waba(
    waba_id: Annotated[str, Path(pattern=_GRAPH_ID)],
    force: Annotated[
        bool, Query(description="forget the WABA even if Meta cannot be told to stop")
    ] = False,
) -> Response[dict[str, Any]]:
    manager = get_manager()
    try:
        result = manager_factory.run(manager.unregister(waba_id, force=force))
    except WabaNotFound as missing:
        return _error(HTTPStatus.NOT_FOUND, str(missing), "not_found", path="path.waba_id")
    except UnregistrationFailed as failed:
        return _error(
            _FAILURE_STATUS[failed.kind],
            failed.reason,
            failed.kind.value,
            meta_code=failed.meta_code,
            meta_message=failed.meta_message,
        )
    return _json(
        HTTPStatus.OK,
        UnregisteredView(
            waba_id=result.waba_id, unsubscribed=result.unsubscribed, reason=result.reason
        ),
    )
