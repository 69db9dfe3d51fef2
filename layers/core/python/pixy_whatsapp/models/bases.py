"""Base classes the generated models build on (named in tools/generate_models.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer


class PayloadRecord(BaseModel):
    """A JSON record exchanged with Meta: it dumps exactly the keys it was given.

    Defaults and unset optional fields are left out of every dump, also when the record
    sits inside another model, so a send body never gains ``null``s or defaults Meta was
    not sent, and a webhook dumps back to what Meta delivered.
    """

    model_config = ConfigDict(populate_by_name=True)

    @model_serializer(mode="wrap")
    def _given_keys_only(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        fields = type(self).model_fields
        given = set(self.model_fields_set)
        given.update(
            alias
            for name in self.model_fields_set
            if name in fields and (alias := fields[name].alias) is not None
        )
        return {key: value for key, value in data.items() if key in given}


class WebhookRecord(PayloadRecord):
    """A record read from a Meta webhook: tolerant by design.

    Unknown keys are kept (and dumped again), nothing is required, and numbers sent where
    the spec says text are read as text (Meta's own group examples send ids as numbers).
    """

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)
