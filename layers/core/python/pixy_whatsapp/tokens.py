"""Per-WABA access tokens, kept in Secrets Manager and cached in memory.

One secret per WABA, named `{prefix}{waba_id}`, whose value is either the token
itself or JSON `{"access_token": "..."}`. Tokens are wrapped in `SecretStr` so
no repr, log line or exception shows them. A credentials error from Meta calls
`invalidate()` so the next send reads the secret again at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import SecretStr

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

DEFAULT_MAX_AGE_SECONDS = 300


class TokenNotFoundError(LookupError):
    """No secret holds a token for this WABA (it was never registered)."""


@dataclass(frozen=True, slots=True)
class WabaToken:
    waba_id: str
    token: SecretStr = field(repr=False)

    @property
    def version(self) -> str:
        """A fingerprint that changes when the token does (what the breaker waits for)."""
        return hashlib.sha256(self.token.get_secret_value().encode()).hexdigest()[:16]


def _parse(raw: str) -> str:
    text = raw.strip()
    if text.startswith("{"):
        value = json.loads(text).get("access_token")
        if not isinstance(value, str) or not value:
            raise ValueError("secret JSON has no 'access_token' string")
        return value
    return text


class TokenProvider:
    def __init__(
        self,
        secrets: SecretsManagerClient,
        prefix: str,
        *,
        max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
    ) -> None:
        self._client = secrets
        self._provider = SecretsProvider(boto3_client=secrets)
        self._prefix = prefix
        self._max_age = max_age_seconds
        self._stale: set[str] = set()

    def secret_name(self, waba_id: str) -> str:
        return f"{self._prefix}{waba_id}"

    def get(self, waba_id: str) -> WabaToken:
        force = waba_id in self._stale
        try:
            raw = self._provider.get(
                self.secret_name(waba_id), max_age=self._max_age, force_fetch=force
            )
        except Exception as exc:
            if "ResourceNotFoundException" in repr(exc):
                raise TokenNotFoundError(f"no token stored for WABA {waba_id}") from None
            raise
        self._stale.discard(waba_id)
        if raw is None:
            raise TokenNotFoundError(f"the token secret of WABA {waba_id} is empty")
        if not isinstance(raw, str):
            raw = raw.decode() if isinstance(raw, bytes) else json.dumps(raw)
        return WabaToken(waba_id=waba_id, token=SecretStr(_parse(raw)))

    def invalidate(self, waba_id: str) -> None:
        self._stale.add(waba_id)

    def store(self, waba_id: str, token: SecretStr) -> None:
        """Create or rotate the WABA's token secret."""
        name = self.secret_name(waba_id)
        value = json.dumps({"access_token": token.get_secret_value()})
        try:
            self._client.put_secret_value(SecretId=name, SecretString=value)
        except self._client.exceptions.ResourceNotFoundException:
            self._client.create_secret(Name=name, SecretString=value)
        self.invalidate(waba_id)

    def delete(self, waba_id: str) -> None:
        with contextlib.suppress(self._client.exceptions.ResourceNotFoundException):
            self._client.delete_secret(SecretId=self.secret_name(waba_id), RecoveryWindowInDays=7)
        self.invalidate(waba_id)
