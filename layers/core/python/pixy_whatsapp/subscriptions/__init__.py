"""Webhook subscriptions of the registered WABAs: onboarding, drift repair, shadow delivery.

Usage::

    manager = build_manager(Settings.from_env(), SubscriptionClients(dynamodb, secrets))
    record = await manager.register(waba_id, SecretStr(token), phone_number_ids=[number_id])
    report = await manager.check_all()  # every 15 minutes, from the subscriptions function

The sender feeds shadow-delivery detection with one call after each accepted send::

    watch = DeliveryWatch(dynamodb, settings.control_table)
    watch.note_accepted(phone_number_id, message_id, waba_id=waba_id)
"""

from pixy_whatsapp.subscriptions.exceptions import (
    FailureKind,
    InvalidRegistration,
    RegistrationFailed,
    ShadowCheckUnavailable,
    SubscriptionError,
    UnregistrationFailed,
    WabaNotFound,
)
from pixy_whatsapp.subscriptions.manager import (
    CALLBACK_URI_MAX_CHARS,
    DEFAULT_CONCURRENCY,
    SubscriptionManager,
    check_callback_uri,
    check_graph_id,
)
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
