"""Settings of the Graph API simulator.

One pydantic model, so the CLI, the local stack and tests load the same thing from JSON,
flags or Python. Every random choice the simulator makes comes from generators seeded with
`SimulatorConfig.seed`, so a run with the same settings and the same request order makes the
same choices.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

GRAPH_VERSION = "v24.0"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FixedLatency(_Settings):
    kind: Literal["fixed"] = "fixed"
    seconds: float = Field(0.0, ge=0)


class UniformLatency(_Settings):
    kind: Literal["uniform"] = "uniform"
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.high < self.low:
            raise ValueError("uniform latency needs low <= high")
        return self


class LognormalLatency(_Settings):
    kind: Literal["lognormal"] = "lognormal"
    median: float = Field(gt=0)
    sigma: float = Field(0.5, ge=0)
    # A lognormal tail is unbounded; a cap keeps one unlucky draw from stalling a test run.
    cap: float = Field(10.0, gt=0)


Latency = Annotated[FixedLatency | UniformLatency | LognormalLatency, Field(discriminator="kind")]


def parse_latency(spec: str) -> Latency:
    """Read a latency from its short form.

    `0.05` or `fixed:0.05`, `uniform:0.01,0.2`, `lognormal:0.12` or `lognormal:0.12,0.6`
    (median, sigma), all in seconds.
    """
    kind, _, arguments = spec.partition(":")
    if not arguments:
        kind, arguments = "fixed", spec
    values = [float(part) for part in arguments.split(",") if part.strip()]
    if kind == "fixed" and len(values) == 1:
        return FixedLatency(seconds=values[0])
    if kind == "uniform" and len(values) == 2:
        return UniformLatency(low=values[0], high=values[1])
    if kind == "lognormal" and len(values) in (1, 2):
        return LognormalLatency(median=values[0], sigma=values[1] if len(values) == 2 else 0.5)
    raise ValueError(f"not a latency: {spec!r} (try 0.05, uniform:0.01,0.2 or lognormal:0.12,0.5)")


class PhoneNumber(_Settings):
    """A business phone number the simulator knows, and the WABA that owns it."""

    waba_id: str = Field(min_length=1)
    display_phone_number: str = "15550000000"
    # None: the simulator's default_mps.
    mps: int | None = Field(None, gt=0)


class PairLimit(_Settings):
    """Meta's limit per (business number, recipient), as a GCRA.

    Meta documents one message every 6 s sustained and bursts of up to 45 that borrow from
    future quota, which is exactly a GCRA with this interval and burst.
    """

    enabled: bool = True
    interval_seconds: float = Field(6.0, gt=0)
    burst: int = Field(45, ge=1)


class FaultKind(StrEnum):
    SERVER_ERROR = "server_error"
    """HTTP 500, code 131000."""
    TIMEOUT = "timeout"
    """The request is held for `hold_seconds`, past any sensible client read timeout; a
    client that still waits then gets a 500 (before acceptance) or the normal answer."""
    CONNECTION_RESET = "connection_reset"
    """The TCP connection is reset without an answer (over HTTP/2, with every stream on it)."""
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - a fault name, not a secret
    """HTTP 401, code 190, whatever the token."""
    UNDELIVERABLE = "undeliverable"
    """Code 131026: a 400 before acceptance, or a `failed` status webhook after it."""
    POLICY_BLOCK = "policy_block"
    """HTTP 403, code 368."""


class FaultPhase(StrEnum):
    BEFORE_ACCEPT = "before_accept"
    """The message is not accepted: nothing is recorded, no webhook follows."""
    AFTER_ACCEPT = "after_accept"
    """The message is accepted and recorded and its status webhooks follow, but the answer
    is lost or wrong: the ambiguous sends a real client has to live with."""


_BEFORE_ONLY = frozenset({FaultKind.TOKEN_REVOKED, FaultKind.POLICY_BLOCK})


class TimeWindow(_Settings):
    """Seconds counted from the moment the fault rules were applied."""

    start: float = Field(ge=0)
    end: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("a time window needs start < end")
        return self


class FaultRule(_Settings):
    """One kind of fault, drawn for each send to `/messages`.

    A rule is active inside any of its windows (always, when it has none); while active it
    fires with probability `rate`, at most `max_count` times. Rules are tried in order and
    the first that fires wins.
    """

    kind: FaultKind
    rate: float = Field(1.0, ge=0, le=1)
    phase: FaultPhase = FaultPhase.BEFORE_ACCEPT
    windows: tuple[TimeWindow, ...] = ()
    # Empty: every phone number.
    phone_number_ids: tuple[str, ...] = ()
    max_count: int | None = Field(None, ge=0)
    # For timeouts: how long the request is held before the simulator answers anyway.
    hold_seconds: float = Field(30.0, ge=0)

    @model_validator(mode="after")
    def _phase_makes_sense(self) -> Self:
        if self.phase is FaultPhase.AFTER_ACCEPT and self.kind in _BEFORE_ONLY:
            raise ValueError(f"{self.kind} faults refuse the message, so only before_accept")
        return self


def parse_fault(spec: str) -> FaultRule:
    """Read a fault rule from its short form: `KIND[:RATE][:PHASE][@START-END]`.

    `server_error:0.05`, `timeout:0.01:after_accept`, `token_revoked@10-40` (always, from
    10 s to 40 s after start), `undeliverable:0.1:after_accept` (a `failed` webhook).
    """
    head, _, window = spec.partition("@")
    kind, *rest = head.split(":")
    fields: dict[str, object] = {"kind": kind}
    for part in rest:
        if part in {phase.value for phase in FaultPhase}:
            fields["phase"] = part
        else:
            fields["rate"] = float(part)
    if window:
        start, _, end = window.partition("-")
        fields["windows"] = ({"start": float(start), "end": float(end)},)
    return FaultRule.model_validate(fields)


class WebhookSettings(_Settings):
    """Status webhooks: where they go, how they are signed, what they hold and when."""

    # The app's callback. A WABA's override_callback_uri (from subscribed_apps) wins over it.
    url: str | None = None
    app_secret: str = "local-app-secret"  # noqa: S105 - the local stand-in's default
    # Meta sends nothing for a WABA that is not subscribed to the app ("shadow delivery").
    require_subscription: bool = True
    sent_probability: float = Field(1.0, ge=0, le=1)
    delivered_probability: float = Field(0.95, ge=0, le=1)
    read_probability: float = Field(0.6, ge=0, le=1)
    # Meta may skip `delivered` when `read` follows, since read implies it.
    implied_delivered_rate: float = Field(0.0, ge=0, le=1)
    sent_delay: Latency = FixedLatency(seconds=0.05)
    delivered_delay: Latency = FixedLatency(seconds=0.2)
    read_delay: Latency = FixedLatency(seconds=1.0)
    failed_delay: Latency = FixedLatency(seconds=0.1)
    duplicate_rate: float = Field(0.0, ge=0, le=1)
    duplicate_delay: Latency = FixedLatency(seconds=0.05)
    # Chance that a status swaps places with the one after it.
    reorder_rate: float = Field(0.0, ge=0, le=1)
    # Statuses due together for the same number may share one POST, as Meta batches them.
    max_statuses_per_post: int = Field(1, ge=1, le=1000)
    # Items due within this many seconds of each other are posted together (early).
    batch_window_seconds: float = Field(0.0, ge=0)
    pricing_on: Literal["sent", "delivered"] = "sent"
    # Pricing category of template sends, by template name; others get the default.
    template_categories: dict[str, str] = Field(default_factory=dict)
    default_template_category: str = "utility"
    # Meta retries for days; locally a few quick attempts are enough to exercise the path.
    max_attempts: int = Field(4, ge=1)
    retry_backoff_seconds: float = Field(0.2, ge=0)
    request_timeout_seconds: float = Field(5.0, gt=0)
    max_concurrent_posts: int = Field(32, ge=1)


class SimulatorConfig(_Settings):
    """Everything the simulator can be told.

    Example:
        SimulatorConfig(
            phone_numbers={"1001": PhoneNumber(waba_id="2001")},
            tokens={"token-a": ["2001"]},
            webhooks=WebhookSettings(url="http://127.0.0.1:9000/webhook"),
        )
    """

    host: str = "127.0.0.1"
    # 0: an ephemeral port, read back from `base_url` once started.
    port: int = Field(0, ge=0, le=65535)
    # Both set: HTTPS, with HTTP/2 offered by ALPN as graph.facebook.com does.
    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    seed: int = 0

    phone_numbers: dict[str, PhoneNumber] = Field(default_factory=dict)
    # Numbers not listed belong to this WABA; None: they are unknown objects (code 100).
    default_waba_id: str | None = None
    # token -> WABA ids and phone number ids it may act on.
    tokens: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    accept_any_token: bool = False

    app_id: str = "100000000000001"
    app_name: str = "pixy-whatsapp-local"
    app_link: str = "https://www.facebook.com/games/?app_id=100000000000001"
    # WABAs of the listed numbers start subscribed to the app, as after onboarding.
    subscribed_at_start: bool = True

    latency: Latency = FixedLatency(seconds=0.0)
    default_mps: int = Field(80, gt=0)
    throughput_window_seconds: float = Field(1.0, gt=0)
    pair_limit: PairLimit = PairLimit()
    # Meta's older table says 400 for the throttling codes, BSP copies say 429; clients must
    # classify by code, so either can be chosen to prove it.
    throttle_http_status: Literal[400, 429] = 400
    faults: tuple[FaultRule, ...] = ()

    webhooks: WebhookSettings = WebhookSettings()

    @model_validator(mode="after")
    def _tls_pair(self) -> Self:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("tls_certfile and tls_keyfile go together")
        return self

    def waba_of(self, phone_number_id: str) -> str | None:
        number = self.phone_numbers.get(phone_number_id)
        return number.waba_id if number is not None else self.default_waba_id

    def number(self, phone_number_id: str) -> PhoneNumber | None:
        number = self.phone_numbers.get(phone_number_id)
        if number is None and self.default_waba_id is not None:
            return PhoneNumber(waba_id=self.default_waba_id)
        return number

    def mps_of(self, phone_number_id: str) -> int:
        number = self.phone_numbers.get(phone_number_id)
        if number is not None and number.mps is not None:
            return number.mps
        return self.default_mps

    def known_waba_ids(self) -> set[str]:
        wabas = {number.waba_id for number in self.phone_numbers.values()}
        if self.default_waba_id is not None:
            wabas.add(self.default_waba_id)
        return wabas
