"""Per-stage configuration: `config/<stage>.json`, overridden by CDK context (`-c key=value`).

Only what differs between deployments lives here (Graph API version, default throughput,
shard count, alarm e-mail, log retention, tags, thresholds); names and sizes that every
deployment shares are in :mod:`infra.topology`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

# CloudWatch Logs accepts only these retention periods.
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557}
    | {2922, 3288, 3653}
)


def _json_if_text(value: object) -> object:
    # `cdk -c tags='{"team":"x"}'` arrives as text.
    if isinstance(value, str):
        return json.loads(value)
    return value


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


class StageConfig(BaseModel):
    """What one deployment (stage) may choose."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = "dev"
    graph_api_version: str = "v24.0"
    graph_base_url: str = "https://graph.facebook.com"
    default_mps: int = Field(default=80, ge=1, le=1_000)
    shard_count: int = Field(default=16, ge=1, le=1_024)
    callback_override_url: Annotated[str | None, BeforeValidator(_blank_to_none)] = None
    alarm_email: Annotated[str | None, BeforeValidator(_blank_to_none)] = None
    log_retention_days: int = 30
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    tags: Annotated[dict[str, str], BeforeValidator(_json_if_text)] = Field(default_factory=dict)
    retain_data: bool = Field(
        default=True, description="keep tables, bucket and secrets when the stack is deleted"
    )
    api_throttle_rate: int = Field(default=1_000, ge=1, description="requests/s, whole stage")
    api_throttle_burst: int = Field(default=2_000, ge=1)
    # alarm thresholds
    success_rate_percent: float = Field(default=95.0, gt=0, le=100)
    graph_p99_ms: int = Field(default=2_000, ge=1)
    outbound_oldest_age_seconds: int = Field(default=300, ge=60)
    inbound_oldest_age_seconds: int = Field(default=120, ge=60)
    rejected_webhooks_per_5_minutes: int = Field(default=20, ge=1)

    @field_validator("log_retention_days")
    @classmethod
    def _check_retention(cls, value: int) -> int:
        if value not in RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs allows only {sorted(RETENTION_DAYS)}")
        return value

    @classmethod
    def load(
        cls,
        stage: str,
        context: Mapping[str, object] | None = None,
        config_dir: Path = CONFIG_DIR,
    ) -> Self:
        """``config/<stage>.json`` when present, then every non-null ``context`` value."""
        values: dict[str, Any] = {}
        path = config_dir / f"{stage}.json"
        if path.is_file():
            values.update(json.loads(path.read_text(encoding="utf-8")))
        values.update({k: v for k, v in (context or {}).items() if v is not None})
        values["stage"] = stage
        return cls.model_validate(values)
