"""Values and helpers shared by the webhook Lambda tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from mypy_boto3_s3 import S3Client
from mypy_boto3_secretsmanager import SecretsManagerClient
from mypy_boto3_sqs import SQSClient
from pixy_whatsapp.settings import Settings

APP_SECRET = b"e1b2c3d4e5f60718293a4b5c6d7e8f90"
VERIFY_TOKEN = "a-long-random-verify-token"


def signed(body: bytes, secret: bytes = APP_SECRET) -> str:
    """The X-Hub-Signature-256 value Meta sends, computed here with hmac directly."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@dataclass
class Deployment:
    secretsmanager: SecretsManagerClient
    sqs: SQSClient
    s3: S3Client
    settings: Settings

    def queued(self) -> list[str]:
        bodies: list[str] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.settings.inbound_queue_url, MaxNumberOfMessages=10
            )
            if not got.get("Messages"):
                return bodies
            bodies.extend(m["Body"] for m in got["Messages"])

    def stored_keys(self) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.settings.webhook_bucket)
        return [o["Key"] for o in listed.get("Contents", [])]


def emitted_metrics(stdout: str) -> list[dict[str, Any]]:
    """The EMF blobs among the JSON lines a handler printed."""
    blobs = []
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blobs.append(json.loads(line))
    return blobs
