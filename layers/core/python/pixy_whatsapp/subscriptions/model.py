"""What the registry knows about a WABA, and what a check run found."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class SubscriptionState(StrEnum):
    PENDING = "pending"
    """A registration started and has not finished (or crashed half-way)."""
    SUBSCRIBED = "subscribed"
    """The last `GET subscribed_apps` showed this app, with the expected callback override."""
    FAILED = "failed"
    """Meta refused, or the app is not subscribed and subscribing again did not take."""
    UNVERIFIED = "unverified"
    """It was subscribed, but the last check could not ask Meta (token, network, limits)."""


class CheckResult(StrEnum):
    OK = "ok"
    REPAIRED = "repaired"
    FAILED = "failed"


class WabaRecord(BaseModel):
    """One registered WABA (item `waba#{waba_id}` of the wabas table). Holds no token."""

    model_config = ConfigDict(frozen=True)

    waba_id: str
    state: SubscriptionState
    phone_number_ids: tuple[str, ...] = ()
    registered_at_ms: int
    updated_at_ms: int
    reason: str | None = None
    meta_code: int | None = None
    # Our app's id as Meta lists it once subscribed; later checks look for exactly this id.
    app_id: str | None = None
    apps_seen: tuple[str, ...] = ()
    override_callback_uri: str | None = None
    last_check_at_ms: int | None = None
    last_check_result: CheckResult | None = None
    repairs: int = 0
    silent_phone_number_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WabaCheck:
    """The outcome of checking one WABA."""

    waba_id: str
    result: CheckResult
    state: SubscriptionState
    reason: str | None = None
    meta_code: int | None = None


@dataclass(frozen=True, slots=True)
class SilentNumber:
    """A phone number whose accepted sends got no status webhook for too long."""

    phone_number_id: str
    waba_id: str | None
    message_id: str
    awaiting_since_ms: int
    silent_since_ms: int


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What one `check_all` run found."""

    checks: tuple[WabaCheck, ...] = ()
    silent: tuple[SilentNumber, ...] = ()
    shadow_check_failed: bool = False
    numbers_watched: int = 0

    @property
    def repaired(self) -> tuple[str, ...]:
        return tuple(c.waba_id for c in self.checks if c.result is CheckResult.REPAIRED)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.waba_id for c in self.checks if c.result is CheckResult.FAILED)

    def summary(self) -> dict[str, object]:
        """Counts and ids, for the Lambda's return value and the run's log line."""
        return {
            "checked": len(self.checks),
            "repaired": list(self.repaired),
            "failed": list(self.failed),
            "silent_phone_number_ids": [s.phone_number_id for s in self.silent],
            "shadow_check_failed": self.shadow_check_failed,
        }


@dataclass(frozen=True, slots=True)
class Unregistered:
    waba_id: str
    # False only when forced: Meta may still send this WABA's webhooks here.
    unsubscribed: bool
    reason: str | None = None
