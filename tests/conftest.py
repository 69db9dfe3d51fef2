"""Session-wide test settings: fake AWS credentials so nothing can reach a real account."""

from __future__ import annotations

import os

import pytest

_FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "PixyWhatsApp",
    "POWERTOOLS_SERVICE_NAME": "pixy-whatsapp-tests",
}
for _name, _value in _FAKE_AWS.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def aws_region() -> str:
    return _FAKE_AWS["AWS_DEFAULT_REGION"]
