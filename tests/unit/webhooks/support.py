"""Shared values and helpers for the webhook library tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from mypy_boto3_s3 import S3Client
from mypy_boto3_secretsmanager import SecretsManagerClient
from mypy_boto3_sqs import SQSClient

APP_SECRET = "0123456789abcdef0123456789abcdef"
VERIFY_TOKEN = "verify-me-please"
APP_SECRET_NAME = "pixy/test/whatsapp-app-secret"
VERIFY_TOKEN_NAME = "pixy/test/whatsapp-verify-token"
BUCKET = "pixy-test-webhook-bodies"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Aws:
    secretsmanager: SecretsManagerClient
    sqs: SQSClient
    s3: S3Client
    queue_url: str
    secret_reads: list[str] = field(default_factory=list)
    app_secret: bytes = APP_SECRET.encode()
    verify_token: str = VERIFY_TOKEN
    bucket: str = BUCKET

    def rotate_app_secret(self, value: str) -> None:
        self.secretsmanager.put_secret_value(SecretId=APP_SECRET_NAME, SecretString=value)

    def queued(self) -> list[str]:
        """Bodies of every message now on the inbound queue (received once, left in flight)."""
        bodies: list[str] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return bodies
            bodies.extend(m["Body"] for m in messages)

    def stored_keys(self) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=BUCKET)
        return [o["Key"] for o in listed.get("Contents", [])]
