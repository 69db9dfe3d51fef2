"""moto-backed AWS resources for the webhook library tests."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from moto import mock_aws
from pixy_whatsapp.webhooks import WebhookReceiver, WebhookSecrets

from .support import (
    APP_SECRET,
    APP_SECRET_NAME,
    BUCKET,
    VERIFY_TOKEN,
    VERIFY_TOKEN_NAME,
    Aws,
    FakeClock,
)


@pytest.fixture(scope="session")
def boto_session(aws_region: str) -> boto3.Session:
    # One session per run parses the service models once instead of once per test.
    return boto3.Session(region_name=aws_region)


@pytest.fixture
def aws(boto_session: boto3.Session) -> Iterator[Aws]:
    with mock_aws():
        # moto clears boto3's default session for each mock; hand it the shared one.
        boto3.DEFAULT_SESSION = boto_session
        secretsmanager = boto3.client("secretsmanager")
        secretsmanager.create_secret(Name=APP_SECRET_NAME, SecretString=APP_SECRET)
        secretsmanager.create_secret(Name=VERIFY_TOKEN_NAME, SecretString=VERIFY_TOKEN)
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName="pixy-test-inbound")["QueueUrl"]
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        aws = Aws(secretsmanager=secretsmanager, sqs=sqs, s3=s3, queue_url=queue_url)

        def count_read(params: dict[str, object], **_: object) -> None:
            aws.secret_reads.append(str(params["SecretId"]))

        # Observes the real client's calls; the code under test is not replaced.
        secretsmanager.meta.events.register(
            "provide-client-params.secrets-manager.GetSecretValue", count_read
        )
        yield aws


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def secrets(aws: Aws, clock: FakeClock) -> WebhookSecrets:
    return WebhookSecrets(
        SecretsProvider(boto3_client=aws.secretsmanager),
        app_secret_name=APP_SECRET_NAME,
        verify_token_name=VERIFY_TOKEN_NAME,
        max_age_seconds=300,
        min_refresh_interval_seconds=60,
        clock=clock,
    )


@pytest.fixture
def receiver(aws: Aws, secrets: WebhookSecrets) -> WebhookReceiver:
    return WebhookReceiver(
        secrets=secrets,
        sqs_client=aws.sqs,
        queue_url=aws.queue_url,
        s3_client=aws.s3,
        bucket=BUCKET,
    )
