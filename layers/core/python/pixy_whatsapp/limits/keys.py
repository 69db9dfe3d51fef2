"""What a limit applies to, and the control-table keys its state lives under."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LimitKind(StrEnum):
    NUMBER = "number"  # a business phone number's throughput (Meta's 80 / 1,000 mps)
    PAIR = "pair"  # one business number to one recipient (Meta's pair rate limit)
    WABA = "waba"  # a whole WhatsApp Business Account (optional)


@dataclass(frozen=True, slots=True)
class LimitKey:
    """One rate-limited thing; build it with `number()`, `pair()` or `waba()`."""

    kind: LimitKind
    id: str

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a limit key needs a non-empty id")

    @classmethod
    def number(cls, phone_number_id: str) -> LimitKey:
        return cls(LimitKind.NUMBER, phone_number_id)

    @classmethod
    def pair(cls, phone_number_id: str, recipient: str) -> LimitKey:
        """`recipient` is the phone number or business-scoped user id sent to."""
        return cls(LimitKind.PAIR, f"{phone_number_id}#{recipient}")

    @classmethod
    def waba(cls, waba_id: str) -> LimitKey:
        return cls(LimitKind.WABA, waba_id)

    @property
    def pk(self) -> str:
        return f"limit#{self.kind.value}#{self.id}"

    @property
    def phone_number_id(self) -> str | None:
        """The business number the key belongs to (None for a WABA key)."""
        if self.kind is LimitKind.WABA:
            return None
        return self.id.split("#", 1)[0]


def number_config_pk(phone_number_id: str) -> str:
    """The item holding a number's throughput override (`mps`)."""
    return f"config#number#{phone_number_id}"
