"""What the sender does about an error: the action, the breaker it feeds, the metrics class."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """The response to one failed Graph API call."""

    RETRY_BACKOFF = "retry_backoff"
    RETRY_AFTER = "retry_after"
    THROTTLE_NUMBER = "throttle_number"
    THROTTLE_WABA = "throttle_waba"
    PAUSE_CREDENTIALS = "pause_credentials"
    PAUSE_ACCOUNT = "pause_account"
    FAIL_PERMANENT = "fail_permanent"
    RESTART_PAGINATION = "restart_pagination"

    @property
    def retries(self) -> bool:
        """Whether the same request may be sent again (within the rule's attempt cap)."""
        return self in _RETRYING

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_RETRYING = frozenset(
    {
        Action.RETRY_BACKOFF,
        Action.RETRY_AFTER,
        Action.THROTTLE_NUMBER,
        Action.THROTTLE_WABA,
        Action.PAUSE_CREDENTIALS,
        Action.PAUSE_ACCOUNT,
    }
)

_DESCRIPTIONS: dict[Action, str] = {
    Action.RETRY_BACKOFF: (
        "transient fault on Meta's side: retry with exponential back-off (the caller adds "
        "jitter); counts toward the phone number's breaker"
    ),
    Action.RETRY_AFTER: (
        "retry only after the delay Meta asks for; no breaker, since nothing is broken"
    ),
    Action.THROTTLE_NUMBER: (
        "the phone number is over its throughput: slow its limiter down and retry later"
    ),
    Action.THROTTLE_WABA: (
        "the app or WABA is over its request allowance: slow the WABA down and retry later"
    ),
    Action.PAUSE_CREDENTIALS: (
        "the WABA's token or permissions are not usable: open the WABA breaker until the "
        "secret is replaced, keep the message queued"
    ),
    Action.PAUSE_ACCOUNT: (
        "the account or number is in a state only an operator or Meta can change: open the "
        "breaker for that scope, keep the message queued"
    ),
    Action.FAIL_PERMANENT: (
        "sending the same request again cannot succeed: fail the message with Meta's code "
        "and reason, no retry"
    ),
    Action.RESTART_PAGINATION: (
        "a paging cursor is no longer valid: start listing again from the first page"
    ),
}


class BreakerScope(StrEnum):
    """Which circuit breaker, if any, a failure counts toward or opens."""

    NONE = "none"
    NUMBER = "number"
    WABA = "waba"


class ErrorClass(StrEnum):
    """Low-cardinality label for metrics and events; the code itself stays a separate field."""

    TRANSIENT = "transient"
    THROTTLED = "throttled"
    PAIR_LIMITED = "pair_limited"
    CREDENTIALS = "credentials"
    ACCOUNT = "account"
    RECIPIENT = "recipient"
    TEMPLATE = "template"
    PERMANENT = "permanent"
    PAGINATION = "pagination"
    UNKNOWN = "unknown"

    @property
    def description(self) -> str:
        return _CLASS_DESCRIPTIONS[self]


_CLASS_DESCRIPTIONS: dict[ErrorClass, str] = {
    ErrorClass.TRANSIENT: "Meta-side outage or maintenance; expected to clear by itself",
    ErrorClass.THROTTLED: "a throughput or request-rate limit of the number, WABA or app",
    ErrorClass.PAIR_LIMITED: "too many messages to one recipient in a short time",
    ErrorClass.CREDENTIALS: "token expired, revoked or missing a permission",
    ErrorClass.ACCOUNT: "WABA or phone number state: policy, billing, registration",
    ErrorClass.RECIPIENT: "a business outcome about this recipient (window, opt-out, reach)",
    ErrorClass.TEMPLATE: "the template or Flow used by the message",
    ErrorClass.PERMANENT: "the request itself is wrong; fix the producer",
    ErrorClass.PAGINATION: "a Groups API paging cursor expired",
    ErrorClass.UNKNOWN: "a code missing from the table, or no code at all",
}
