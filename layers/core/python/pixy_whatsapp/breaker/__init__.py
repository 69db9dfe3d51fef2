"""Circuit breakers per phone number and per WABA, with state shared through DynamoDB.

See `breaker` for the state machine, the caching rules and why it fails safe.
"""

from pixy_whatsapp.breaker.breaker import CircuitBreaker, wall_clock_ms
from pixy_whatsapp.breaker.dynamodb_store import DynamoDBBreakerStore
from pixy_whatsapp.breaker.events import (
    BreakerEvent,
    BreakerEventKind,
    BreakerListener,
    EventLog,
)
from pixy_whatsapp.breaker.exceptions import BreakerError, BreakerUnavailable
from pixy_whatsapp.breaker.memory_store import InMemoryBreakerStore
from pixy_whatsapp.breaker.model import (
    BreakerRecord,
    BreakerState,
    Circuit,
    Decision,
    Scope,
    Verdict,
)
from pixy_whatsapp.breaker.settings import BreakerSettings
from pixy_whatsapp.breaker.store import BreakerStore, Replaced

__all__ = [
    "BreakerError",
    "BreakerEvent",
    "BreakerEventKind",
    "BreakerListener",
    "BreakerRecord",
    "BreakerSettings",
    "BreakerState",
    "BreakerStore",
    "BreakerUnavailable",
    "Circuit",
    "CircuitBreaker",
    "Decision",
    "DynamoDBBreakerStore",
    "EventLog",
    "InMemoryBreakerStore",
    "Replaced",
    "Scope",
    "Verdict",
    "wall_clock_ms",
]
