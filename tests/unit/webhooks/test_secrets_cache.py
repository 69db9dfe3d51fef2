"""Cached webhook secrets on moto Secrets Manager: max age, forced refresh and its guard."""

from __future__ import annotations

from datetime import datetime, timedelta

import aws_lambda_powertools.utilities.parameters.base as parameters_base
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pixy_whatsapp.webhooks import SecretUnavailable, WebhookSecrets

from .support import APP_SECRET_NAME, VERIFY_TOKEN_NAME, Aws, FakeClock


def test_both_secrets_are_read_and_then_served_from_cache(
    aws: Aws, secrets: WebhookSecrets
) -> None:
    assert secrets.app_secret() == aws.app_secret
    assert secrets.verify_token() == aws.verify_token.encode()
    for _ in range(10):
        secrets.app_secret()
        secrets.verify_token()
    assert sorted(aws.secret_reads) == sorted([APP_SECRET_NAME, VERIFY_TOKEN_NAME])


def test_a_rotated_secret_is_served_once_the_cache_expires(
    aws: Aws, secrets: WebhookSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert secrets.app_secret() == aws.app_secret
    aws.rotate_app_secret("rotated-secret")
    assert secrets.app_secret() == aws.app_secret  # still cached

    # Powertools stamps its cache with datetime.now(); move that clock past the max age.
    later = datetime.now() + timedelta(seconds=301)

    class _Later(datetime):
        @classmethod
        def now(cls, tz: object = None) -> _Later:
            return cls.fromtimestamp(later.timestamp())

    monkeypatch.setattr(parameters_base, "datetime", _Later)
    assert secrets.app_secret() == b"rotated-secret"


def test_a_forced_refresh_returns_the_new_value_once(aws: Aws, secrets: WebhookSecrets) -> None:
    secrets.app_secret()
    aws.rotate_app_secret("rotated-secret")
    assert secrets.refresh_app_secret() == b"rotated-secret"
    assert secrets.app_secret() == b"rotated-secret"


def test_a_forced_refresh_of_an_unchanged_secret_returns_none(
    aws: Aws, secrets: WebhookSecrets
) -> None:
    secrets.app_secret()
    assert secrets.refresh_app_secret() is None
    assert len(aws.secret_reads) == 2


def test_forced_refreshes_are_rate_limited(
    aws: Aws, secrets: WebhookSecrets, clock: FakeClock
) -> None:
    secrets.app_secret()
    assert secrets.refresh_app_secret() is None
    reads = len(aws.secret_reads)

    aws.rotate_app_secret("rotated-secret")
    for _ in range(100):
        clock.advance(0.5)
        if secrets.refresh_app_secret() is not None:
            break
    # 100 attempts over 50 s, inside the 60 s interval: not one more Secrets Manager call.
    assert len(aws.secret_reads) == reads
    assert secrets.app_secret() == aws.app_secret

    clock.advance(10.0)
    assert secrets.refresh_app_secret() == b"rotated-secret"
    assert len(aws.secret_reads) == reads + 1


def test_each_secret_has_its_own_refresh_guard(aws: Aws, secrets: WebhookSecrets) -> None:
    secrets.app_secret()
    secrets.verify_token()
    assert secrets.refresh_app_secret() is None
    aws.secretsmanager.put_secret_value(SecretId=VERIFY_TOKEN_NAME, SecretString="new-token")
    assert secrets.refresh_verify_token() == b"new-token"


def test_surrounding_whitespace_is_not_part_of_the_secret(
    aws: Aws, secrets: WebhookSecrets
) -> None:
    aws.rotate_app_secret("  spaced-secret\n")
    assert secrets.app_secret() == b"spaced-secret"


def test_a_binary_secret_is_used_as_bytes(aws: Aws, secrets: WebhookSecrets) -> None:
    aws.secretsmanager.put_secret_value(SecretId=APP_SECRET_NAME, SecretBinary=b"\x01binary\xff")
    assert secrets.app_secret() == b"\x01binary\xff"


def test_an_empty_secret_is_refused(aws: Aws, secrets: WebhookSecrets) -> None:
    aws.rotate_app_secret("   ")
    with pytest.raises(SecretUnavailable, match="empty"):
        secrets.app_secret()


def test_a_missing_secret_is_unavailable(aws: Aws, clock: FakeClock) -> None:
    secrets = WebhookSecrets(
        SecretsProvider(boto3_client=aws.secretsmanager),
        app_secret_name="pixy/test/does-not-exist",
        verify_token_name=VERIFY_TOKEN_NAME,
        clock=clock,
    )
    with pytest.raises(SecretUnavailable):
        secrets.app_secret()


def test_a_failed_forced_refresh_keeps_the_cached_value(aws: Aws, secrets: WebhookSecrets) -> None:
    secrets.app_secret()
    aws.secretsmanager.delete_secret(SecretId=APP_SECRET_NAME, ForceDeleteWithoutRecovery=True)
    assert secrets.refresh_app_secret() is None
    assert secrets.app_secret() == aws.app_secret
