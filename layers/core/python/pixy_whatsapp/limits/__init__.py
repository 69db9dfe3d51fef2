"""Rate limits for sending: GCRA per phone number, recipient pair and WABA.

One number per key (the theoretical arrival time), one conditional DynamoDB write per
reservation, however many tokens it takes. See `limiter` for how the sender uses it
and `policies` for the numbers chosen.
"""

from pixy_whatsapp.limits.dynamodb_store import DynamoDBLimitStore
from pixy_whatsapp.limits.exceptions import (
    InvalidLimit,
    LimitError,
    LimitStoreUnavailable,
    ReservationTooLarge,
)
from pixy_whatsapp.limits.gcra import GcraOutcome, GcraPolicy
from pixy_whatsapp.limits.keys import LimitKey, LimitKind, number_config_pk
from pixy_whatsapp.limits.limiter import Limiter, wall_clock_ms
from pixy_whatsapp.limits.memory_store import InMemoryLimitStore
from pixy_whatsapp.limits.policies import (
    DEFAULT_NUMBER_MPS,
    MAX_NUMBER_MPS,
    LimitSettings,
)
from pixy_whatsapp.limits.reservations import (
    Grant,
    GrantReason,
    Reservation,
    WaitPlan,
    plan_wait,
)
from pixy_whatsapp.limits.store import LimitStore, TatSwap

__all__ = [
    "DEFAULT_NUMBER_MPS",
    "MAX_NUMBER_MPS",
    "DynamoDBLimitStore",
    "GcraOutcome",
    "GcraPolicy",
    "Grant",
    "GrantReason",
    "InMemoryLimitStore",
    "InvalidLimit",
    "LimitError",
    "LimitKey",
    "LimitKind",
    "LimitSettings",
    "LimitStore",
    "LimitStoreUnavailable",
    "Limiter",
    "Reservation",
    "ReservationTooLarge",
    "TatSwap",
    "WaitPlan",
    "number_config_pk",
    "plan_wait",
    "wall_clock_ms",
]
