"""The app secret and verify token, read from Secrets Manager and cached in memory.

Both are plain-string secrets (`SecretString`; surrounding whitespace is ignored, so a
value written from a file with a trailing newline still works). Each is cached for
`max_age_seconds`. When a request fails the check against the cached value, the caller
may ask for one forced re-read, so a rotated secret is picked up at once instead of after
the cache expires; a forced re-read happens at most once per `min_refresh_interval_seconds`
per secret, so a flood of badly signed requests costs at most one Secrets Manager call per
interval and per Lambda instance.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from pixy_whatsapp.webhooks.exceptions import SecretUnavailable

DEFAULT_MAX_AGE_SECONDS = 300
DEFAULT_MIN_REFRESH_INTERVAL_SECONDS = 60.0

_log = logging.getLogger(__name__)


class _CachedSecret:
    def __init__(
        self,
        provider: SecretsProvider,
        name: str,
        max_age_seconds: int,
        min_refresh_interval_seconds: float,
        clock: Callable[[], float],
    ) -> None:
        self._provider = provider
        self._name = name
        self._max_age = max_age_seconds
        self._min_interval = min_refresh_interval_seconds
        self._clock = clock
        self._last_forced: float | None = None
        self._last_value: bytes | None = None
        self._lock = threading.Lock()

    def get(self) -> bytes:
        return self._fetch(force=False)

    def refresh(self) -> bytes | None:
        """A newer value than the cached one, or None (unchanged, throttled or unreadable)."""
        with self._lock:
            now = self._clock()
            if self._last_forced is not None and now - self._last_forced < self._min_interval:
                return None
            # Counted before the call, so a failing Secrets Manager is not retried per request.
            self._last_forced = now
        previous = self._last_value
        try:
            current = self._fetch(force=True)
        except SecretUnavailable:
            _log.warning("forced re-read of a webhook secret failed", extra={"secret": self._name})
            return None
        if previous is not None and hmac.compare_digest(previous, current):
            return None
        _log.info("webhook secret changed since it was cached", extra={"secret": self._name})
        return current

    def _fetch(self, *, force: bool) -> bytes:
        try:
            value = self._provider.get(self._name, max_age=self._max_age, force_fetch=force)
        except GetParameterError as exc:
            raise SecretUnavailable(f"cannot read secret {self._name!r}") from exc
        if isinstance(value, str):
            raw = value.strip().encode("utf-8")
        elif isinstance(value, bytes):
            raw = value.strip()
        else:
            raise SecretUnavailable(f"secret {self._name!r} is not a plain string")
        # An empty key would make every HMAC computable by anyone: refuse to use it.
        if not raw:
            raise SecretUnavailable(f"secret {self._name!r} is empty")
        self._last_value = raw
        return raw


class WebhookSecrets:
    """Cached access to the two webhook secrets, with a guarded forced refresh.

    >>> secrets = WebhookSecrets(
    ...     SecretsProvider(boto3_client=secretsmanager),
    ...     app_secret_name="pixy/whatsapp/app-secret",
    ...     verify_token_name="pixy/whatsapp/verify-token",
    ... )
    >>> key = secrets.app_secret()
    """

    def __init__(
        self,
        provider: SecretsProvider,
        *,
        app_secret_name: str,
        verify_token_name: str,
        max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
        min_refresh_interval_seconds: float = DEFAULT_MIN_REFRESH_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app_secret = _CachedSecret(
            provider, app_secret_name, max_age_seconds, min_refresh_interval_seconds, clock
        )
        self._verify_token = _CachedSecret(
            provider, verify_token_name, max_age_seconds, min_refresh_interval_seconds, clock
        )

    def app_secret(self) -> bytes:
        """The Meta app secret (HMAC key), from cache while it is younger than the max age."""
        return self._app_secret.get()

    def refresh_app_secret(self) -> bytes | None:
        """Re-read the app secret now; the new value if it changed, else None.

        Also None when a forced re-read already happened within the minimum interval.
        """
        return self._app_secret.refresh()

    def verify_token(self) -> bytes:
        """The verify token configured in Meta's webhook settings."""
        return self._verify_token.get()

    def refresh_verify_token(self) -> bytes | None:
        """Same as `refresh_app_secret`, for the verify token."""
        return self._verify_token.refresh()
