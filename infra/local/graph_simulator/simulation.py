"""The simulated Meta behind the HTTP routes: accounts, limits, faults, records, webhooks.

Routes hand it what arrived and get back what to answer (`Answer`); it decides in the
order Graph does: token, object, body, then the send itself. Decisions run on the event
loop thread without awaiting, so the limits see requests one at a time.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from infra.local.graph_simulator import graph_errors
from infra.local.graph_simulator.accounts import Accounts, Subscription, TokenVerdict
from infra.local.graph_simulator.config import (
    FaultKind,
    FaultPhase,
    FaultRule,
    PhoneNumber,
    SimulatorConfig,
)
from infra.local.graph_simulator.faults import FaultPlan
from infra.local.graph_simulator.graph_errors import GraphError
from infra.local.graph_simulator.latency import draw_seconds
from infra.local.graph_simulator.limits import PairLimiter, SlidingWindowCounter
from infra.local.graph_simulator.records import AcceptedMessage, ReadReceipt, SimulatorRecords
from infra.local.graph_simulator.status_timeline import plan_statuses
from infra.local.graph_simulator.validation import Validator, describe_problems
from infra.local.graph_simulator.webhook_dispatcher import WebhookDispatcher, WebhookItem
from infra.local.graph_simulator.webhook_payloads import inbound_text_message

# Fields of these sub-settings merge one level deep on a run-time update; every other
# top-level field is replaced whole.
_MERGED_FIELDS = frozenset({"webhooks", "pair_limit"})
_OVERRIDE_URI_MAX = 200


@dataclass(frozen=True, slots=True)
class Answer:
    """What to answer, and when.

    `body` None with `reset` set means no answer: the connection is reset after `delay`.
    """

    status: int
    body: dict[str, Any] | None
    delay: float = 0.0
    reset: bool = False

    @staticmethod
    def error(error: GraphError, delay: float = 0.0) -> Answer:
        return Answer(error.http_status, error.body(), delay)


class Simulation:
    def __init__(self, config: SimulatorConfig, validate: Validator) -> None:
        self._config = config
        self.validate = validate
        self.records = SimulatorRecords()
        self.accounts = Accounts()
        # One stream per concern, so adding webhook draws does not move fault draws.
        self._fault_rng = random.Random(f"{config.seed}:faults")  # noqa: S311 - simulation, not secrets
        self._latency_rng = random.Random(f"{config.seed}:latency")  # noqa: S311
        self._webhook_rng = random.Random(f"{config.seed}:webhooks")  # noqa: S311
        self.faults = FaultPlan(config.faults, self._fault_rng, time.monotonic())
        self.throughput = SlidingWindowCounter(config.throughput_window_seconds)
        self.pairs = PairLimiter()
        self.dispatcher = WebhookDispatcher(lambda: self._config, self.accounts, self.records)
        self._wamid_sequence = itertools.count(1)
        if config.subscribed_at_start:
            for waba_id in sorted(config.known_waba_ids()):
                self.accounts.subscribe(waba_id, Subscription())

    @property
    def config(self) -> SimulatorConfig:
        return self._config

    def update_config(self, changes: Mapping[str, Any]) -> SimulatorConfig:
        """Apply new settings at run time; host, port and TLS keep their started values.

        Fault rules are re-armed (their windows count from now, their caps from zero).
        """
        current = self._config.model_dump()
        for name, value in changes.items():
            plain = value.model_dump() if isinstance(value, BaseModel) else value
            if name in _MERGED_FIELDS and isinstance(plain, Mapping):
                current[name] = {**current[name], **plain}
            else:
                current[name] = plain
        for fixed in ("host", "port", "tls_certfile", "tls_keyfile"):
            current[fixed] = getattr(self._config, fixed)
        updated = SimulatorConfig.model_validate(current)
        if "faults" in changes:
            self.faults = FaultPlan(updated.faults, self._fault_rng, time.monotonic())
        if updated.throughput_window_seconds != self._config.throughput_window_seconds:
            self.throughput = SlidingWindowCounter(updated.throughput_window_seconds)
        self._config = updated
        return updated

    # -- POST /{version}/{phone_number_id}/messages -------------------------------------

    def send(self, phone_number_id: str, token: str | None, raw_body: bytes) -> Answer:
        config = self._config
        latency = draw_seconds(config.latency, self._latency_rng)
        number = config.number(phone_number_id)
        refused = self._authorize(
            config, token, (phone_number_id, number.waba_id) if number else (phone_number_id,)
        )
        if refused is not None:
            return self._refuse(refused, latency)
        if number is None:
            return self._refuse(graph_errors.unknown_object(phone_number_id), latency)
        body = _json_object(raw_body)
        if body is None:
            return self._refuse(
                graph_errors.invalid_parameter("The request body must be a JSON object."), latency
            )
        if body.get("status") == "read":
            return self._mark_read(phone_number_id, body, latency)
        problems = self.validate(body)
        if problems:
            return self._refuse(
                graph_errors.invalid_parameter(describe_problems(problems)), latency
            )
        recipient, wa_id = _recipient_of(body)
        if recipient is None:
            return self._refuse(
                graph_errors.invalid_parameter("to: a recipient is required"), latency
            )

        now = time.monotonic()
        before = self.faults.draw(FaultPhase.BEFORE_ACCEPT, phone_number_id, now)
        if before is not None:
            return self._fault_before_acceptance(before, latency)

        throttled = self._take_allowance(config, phone_number_id, wa_id or recipient, now)
        if throttled is not None:
            return self._refuse(throttled, latency)

        after = self.faults.draw(FaultPhase.AFTER_ACCEPT, phone_number_id, now)
        message = AcceptedMessage(
            wamid=self._new_wamid(wa_id or recipient),
            phone_number_id=phone_number_id,
            waba_id=number.waba_id,
            recipient=recipient,
            wa_id=wa_id,
            body=body,
            biz_opaque_callback_data=_optional_str(body.get("biz_opaque_callback_data")),
            accepted_at=time.time(),
            fault=after.kind if after is not None else None,
        )
        self.records.add_accepted(message)
        failure = None
        if after is not None:
            self.records.count_fault(after.kind)
            if after.kind is FaultKind.UNDELIVERABLE:
                failure = graph_errors.undeliverable()
        self._schedule_statuses(message, number, failure)
        return self._answer_after_acceptance(message, after, latency)

    def _take_allowance(
        self, config: SimulatorConfig, phone_number_id: str, recipient: str, now: float
    ) -> GraphError | None:
        """Spend one message of both limits, or neither if either refuses."""
        pair, pair_limit = (phone_number_id, recipient), config.pair_limit
        if not self.throughput.allows(phone_number_id, config.mps_of(phone_number_id), now):
            return graph_errors.throughput_reached(config.throttle_http_status)
        if pair_limit.enabled and not self.pairs.allows(
            pair, pair_limit.interval_seconds, pair_limit.burst, now
        ):
            return graph_errors.pair_rate_limited(config.throttle_http_status)
        self.throughput.spend(phone_number_id, now)
        if pair_limit.enabled:
            self.pairs.spend(pair, pair_limit.interval_seconds, now)
        return None

    def _authorize(
        self, config: SimulatorConfig, token: str | None, object_ids: tuple[str, ...]
    ) -> GraphError | None:
        verdict = self.accounts.check_token(config, token, object_ids, time.monotonic())
        if verdict is TokenVerdict.UNKNOWN:
            return graph_errors.invalid_token()
        if verdict is TokenVerdict.REVOKED:
            return graph_errors.revoked_token()
        if verdict is TokenVerdict.NOT_PERMITTED:
            return graph_errors.unknown_object(object_ids[0])
        return None

    def _refuse(self, error: GraphError, delay: float) -> Answer:
        self.records.count_rejection(error.code)
        return Answer.error(error, delay)

    def _fault_before_acceptance(self, rule: FaultRule, latency: float) -> Answer:
        self.records.count_fault(rule.kind)
        if rule.kind is FaultKind.TIMEOUT:
            # Whoever still waits after the hold learns the message was not taken.
            return Answer.error(graph_errors.something_went_wrong(), rule.hold_seconds)
        if rule.kind is FaultKind.CONNECTION_RESET:
            return Answer(0, None, latency, reset=True)
        errors = {
            FaultKind.SERVER_ERROR: graph_errors.something_went_wrong,
            FaultKind.TOKEN_REVOKED: graph_errors.revoked_token,
            FaultKind.UNDELIVERABLE: graph_errors.undeliverable,
            FaultKind.POLICY_BLOCK: graph_errors.policy_blocked,
        }
        return self._refuse(errors[rule.kind](), latency)

    def _answer_after_acceptance(
        self, message: AcceptedMessage, rule: FaultRule | None, latency: float
    ) -> Answer:
        contact: dict[str, Any] = {"input": message.recipient}
        if message.wa_id is not None:
            contact["wa_id"] = message.wa_id
        else:
            contact["user_id"] = message.recipient
        accepted = {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": message.wamid}],
        }
        if rule is None or rule.kind is FaultKind.UNDELIVERABLE:
            return Answer(200, accepted, latency)
        if rule.kind is FaultKind.TIMEOUT:
            return Answer(200, accepted, rule.hold_seconds)
        if rule.kind is FaultKind.CONNECTION_RESET:
            return Answer(0, None, latency, reset=True)
        return self._refuse(graph_errors.something_went_wrong(), latency)

    def _mark_read(self, phone_number_id: str, body: Mapping[str, Any], latency: float) -> Answer:
        message_id = body.get("message_id")
        if body.get("messaging_product") != "whatsapp":
            return self._refuse(
                graph_errors.invalid_parameter("messaging_product: must be 'whatsapp'"), latency
            )
        if not isinstance(message_id, str) or not message_id:
            return self._refuse(graph_errors.invalid_parameter("message_id: required"), latency)
        typing = isinstance(body.get("typing_indicator"), Mapping)
        self.records.add_read_receipt(ReadReceipt(phone_number_id, message_id, typing, time.time()))
        return Answer(200, {"success": True}, latency)

    def _schedule_statuses(
        self, message: AcceptedMessage, number: PhoneNumber, failure: GraphError | None
    ) -> None:
        plan = plan_statuses(message, self._config.webhooks, self._webhook_rng, failure)
        for planned in plan.statuses:
            item = WebhookItem(
                message.waba_id,
                message.phone_number_id,
                number.display_phone_number,
                "statuses",
                planned.status,
            )
            self.dispatcher.schedule(item, planned.delay)
        self.records.count_webhook("statuses_planned", len(plan.statuses))
        if plan.duplicates:
            self.records.count_webhook("duplicates_planned", plan.duplicates)
        if plan.reordered:
            self.records.count_webhook("reordered_planned", plan.reordered)

    def _new_wamid(self, recipient: str) -> str:
        # Real wamids are base64 of an opaque binary blob; this one is unique and looks alike.
        blob = (
            recipient.encode()
            + next(self._wamid_sequence).to_bytes(6, "big")
            + secrets.token_bytes(9)
        )
        return "wamid." + base64.b64encode(blob).decode("ascii")

    # -- /{version}/{waba_id}/subscribed_apps --------------------------------------------

    def subscribed_apps(
        self, method: str, waba_id: str, token: str | None, params: Mapping[str, str]
    ) -> Answer:
        config = self._config
        refused = self._authorize(config, token, (waba_id,))
        if refused is not None:
            return self._refuse(refused, 0.0)
        if waba_id not in config.known_waba_ids() and not any(
            waba_id in grants for grants in config.tokens.values()
        ):
            return self._refuse(graph_errors.unknown_object(waba_id), 0.0)
        if method == "GET":
            return Answer(200, {"data": self._subscribed_app_data(waba_id)})
        if method == "DELETE":
            self.accounts.unsubscribe(waba_id)
            return Answer(200, {"success": True})
        override = params.get("override_callback_uri") or None
        verify_token = params.get("verify_token") or None
        if (override is None) != (verify_token is None):
            return self._refuse(
                graph_errors.invalid_parameter(
                    "override_callback_uri and verify_token must be given together"
                ),
                0.0,
            )
        if override is not None and len(override) > _OVERRIDE_URI_MAX:
            return self._refuse(
                graph_errors.invalid_parameter("override_callback_uri: at most 200 characters"),
                0.0,
            )
        self.accounts.subscribe(waba_id, Subscription(override, verify_token))
        return Answer(200, {"success": True})

    def _subscribed_app_data(self, waba_id: str) -> list[dict[str, Any]]:
        subscription = self.accounts.subscription(waba_id)
        if subscription is None:
            return []
        config = self._config
        entry: dict[str, Any] = {
            "whatsapp_business_api_data": {
                "id": config.app_id,
                "link": config.app_link,
                "name": config.app_name,
            }
        }
        if subscription.override_callback_uri is not None:
            entry["override_callback_uri"] = subscription.override_callback_uri
        return [entry]

    # -- test hooks ----------------------------------------------------------------------

    def inbound_text(
        self, phone_number_id: str, from_wa_id: str, text: str, profile_name: str
    ) -> str:
        """Have a user write to a business number; returns the inbound message's wamid."""
        number = self._config.number(phone_number_id)
        if number is None:
            raise KeyError(f"unknown phone number {phone_number_id}")
        wamid = self._new_wamid(from_wa_id)
        item = WebhookItem(
            number.waba_id,
            phone_number_id,
            number.display_phone_number,
            "messages",
            inbound_text_message(wamid, from_wa_id, text, int(time.time())),
            {"profile": {"name": profile_name}, "wa_id": from_wa_id},
        )
        self.dispatcher.schedule(item, 0.0)
        self.records.count_webhook("messages_planned")
        return wamid

    def reset_records(self) -> None:
        self.records.clear()
        self.pairs.reset()
        self.throughput = SlidingWindowCounter(self._config.throughput_window_seconds)

    def state(self) -> dict[str, Any]:
        """What the admin endpoint shows: counts, subscriptions, the latest sends."""
        accepted = self.records.accepted
        return {
            "accepted_total": len(accepted),
            "accepted_recent": [
                {
                    "wamid": message.wamid,
                    "phone_number_id": message.phone_number_id,
                    "recipient": message.recipient,
                    "biz_opaque_callback_data": message.biz_opaque_callback_data,
                    "accepted_at": message.accepted_at,
                    "fault": message.fault,
                }
                for message in accepted[-50:]
            ],
            "duplicates_by_callback_data": self.records.duplicates_by_callback_data(),
            "read_receipts": len(self.records.read_receipts),
            "rejections": {str(code): count for code, count in self.records.rejections.items()},
            "faults": self.records.faults,
            "webhooks": self.records.webhooks,
            "webhooks_pending": self.dispatcher.pending,
            "subscriptions": {
                waba_id: {"override_callback_uri": subscription.override_callback_uri}
                for waba_id, subscription in self.accounts.subscriptions().items()
            },
            "revoked_tokens": self.accounts.revoked_count(time.monotonic()),
            "fault_rules": [rule.model_dump(mode="json") for rule in self.faults.rules],
        }


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _recipient_of(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The recipient as sent, and its wa_id (None for a business-scoped user id)."""
    to = body.get("to")
    if isinstance(to, str) and to:
        # Meta answers with the digits of the number it resolved, without "+".
        return to, "".join(ch for ch in to if ch.isdigit()) or None
    recipient = body.get("recipient")
    if isinstance(recipient, str) and recipient:
        return recipient, None
    return None, None


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
