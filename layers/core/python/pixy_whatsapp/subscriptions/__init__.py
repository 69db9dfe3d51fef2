"""Webhook subscriptions of the registered WABAs: onboarding, drift repair, shadow delivery.

Usage::

    manager = build_manager(Settings.from_env(), SubscriptionClients(dynamodb, secrets))
    record = await manager.register(waba_id, SecretStr(token), phone_number_ids=[number_id])
    report = await manager.check_all()  # every 15 minutes, from the subscriptions function

The sender feeds shadow-delivery detection with one call after each accepted send::

    watch = DeliveryWatch(dynamodb, settings.control_table)
    watch.note_accepted(phone_number_id, message_id, waba_id=waba_id)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixy_whatsapp._lazy import lazy_exports
from pixy_whatsapp.subscriptions.exceptions import (
    FailureKind,
    InvalidRegistration,
    RegistrationFailed,
    ShadowCheckUnavailable,
    SubscriptionError,
    UnregistrationFailed,
    WabaNotFound,
)

if TYPE_CHECKING:
    from pixy_whatsapp.subscriptions.inputs import (
        CALLBACK_URI_MAX_CHARS,
        check_callback_uri,
        check_graph_id,
    )
    from pixy_whatsapp.subscriptions.manager import DEFAULT_CONCURRENCY, SubscriptionManager
    from pixy_whatsapp.subscriptions.model import (
        CheckReport,
        CheckResult,
        SilentNumber,
        SubscriptionState,
        Unregistered,
        WabaCheck,
        WabaRecord,
    )
    from pixy_whatsapp.subscriptions.registry import WabaRegistry
    from pixy_whatsapp.subscriptions.runtime import SubscriptionClients, build_manager
    from pixy_whatsapp.subscriptions.shadow import DeliveryWatch, ShadowDeliveryCheck, ShadowScan

# Loaded on first use rather than with the package: the sender imports
# `subscriptions.shadow` for its canary write, and Python loads this package first, which
# would otherwise bring the manager, the Graph client, the token provider and the
# registry into the sender's cold start.
_LAZY = {
    "CALLBACK_URI_MAX_CHARS": "inputs",
    "DEFAULT_CONCURRENCY": "manager",
    "SubscriptionManager": "manager",
    "check_callback_uri": "inputs",
    "check_graph_id": "inputs",
    "CheckReport": "model",
    "CheckResult": "model",
    "SilentNumber": "model",
    "SubscriptionState": "model",
    "Unregistered": "model",
    "WabaCheck": "model",
    "WabaRecord": "model",
    "WabaRegistry": "registry",
    "SubscriptionClients": "runtime",
    "build_manager": "runtime",
    "DeliveryWatch": "shadow",
    "ShadowDeliveryCheck": "shadow",
    "ShadowScan": "shadow",
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)

__all__ = [
    "CALLBACK_URI_MAX_CHARS",
    "DEFAULT_CONCURRENCY",
    "CheckReport",
    "CheckResult",
    "DeliveryWatch",
    "FailureKind",
    "InvalidRegistration",
    "RegistrationFailed",
    "ShadowCheckUnavailable",
    "ShadowDeliveryCheck",
    "ShadowScan",
    "SilentNumber",
    "SubscriptionClients",
    "SubscriptionError",
    "SubscriptionManager",
    "SubscriptionState",
    "Unregistered",
    "UnregistrationFailed",
    "WabaCheck",
    "WabaNotFound",
    "WabaRecord",
    "WabaRegistry",
    "build_manager",
    "check_callback_uri",
    "check_graph_id",
]
