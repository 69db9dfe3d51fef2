"""Base classes the generated models build on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WebhookRecord(BaseModel):
    """A record read from a Meta webhook: tolerant by design.

    Unknown keys are kept (and dumped again), nothing is required, and numbers sent where
    the spec says text are read as text (Meta's own group examples send ids as numbers).
    """

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, populate_by_name=True)
