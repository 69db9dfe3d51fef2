"""The sender's tunables, with the defaults the deployment uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SenderPolicy:
    max_attempts: int = 8
    # A previous attempt left `sending` (crash or ambiguous timeout) is not sent again until
    # this long after it started: a status webhook carrying our id settles it in the meantime.
    ambiguous_window_s: int = 600
    # Waits up to this long are slept inside the invocation; longer ones go back to SQS.
    max_sleep_s: float = 1.0
    backoff_base_s: float = 2.0
    backoff_cap_s: int = 300
    # SQS visibility can be at most 12 h; staying well under also bounds head-of-line blocking.
    max_visibility_s: int = 900
    # Deferrals count as receives: fail a message with its reason before SQS would move
    # it to the DLQ without one.
    max_receive_count: int = 100
