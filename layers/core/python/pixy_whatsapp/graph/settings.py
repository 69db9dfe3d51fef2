"""Where the Graph API is and how patiently to talk to it."""

from __future__ import annotations

import re

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pixy_whatsapp import __version__

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v24.0"

_API_VERSION = re.compile(r"^v\d+\.\d+$")


class GraphTimeouts(BaseModel):
    """Seconds allowed for each phase of a call.

    `connect` and `pool` failures are safe to retry (nothing was sent); `read`
    and `write` failures are ambiguous, so `read` is set well above Meta's
    usual latency to keep ambiguous outcomes rare.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect: float = Field(default=3.0, gt=0)
    read: float = Field(default=10.0, gt=0)
    write: float = Field(default=5.0, gt=0)
    pool: float = Field(default=5.0, gt=0)

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class GraphConnectionLimits(BaseModel):
    """Connection pool bounds. Over HTTP/2 one connection carries many concurrent calls."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_connections: int = Field(default=20, ge=1)
    max_keepalive_connections: int = Field(default=20, ge=0)
    # Short enough that a connection left idle while a Lambda environment was
    # frozen is dropped rather than reused after the far end forgot it.
    keepalive_expiry: float = Field(default=30.0, gt=0)

    def to_httpx(self) -> httpx.Limits:
        return httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_keepalive_connections,
            keepalive_expiry=self.keepalive_expiry,
        )


class GraphClientSettings(BaseModel):
    """Endpoint, API version and connection behaviour of a `GraphClient`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = DEFAULT_BASE_URL
    api_version: str = DEFAULT_API_VERSION
    timeouts: GraphTimeouts = GraphTimeouts()
    limits: GraphConnectionLimits = GraphConnectionLimits()
    http2: bool = True
    user_agent: str = f"pixy-whatsapp/{__version__}"

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        url = httpx.URL(value)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("base_url must be an absolute http(s) URL")
        if url.query or url.fragment:
            raise ValueError("base_url must not carry a query or a fragment")
        return value.rstrip("/")

    @field_validator("api_version")
    @classmethod
    def _check_api_version(cls, value: str) -> str:
        if not _API_VERSION.match(value):
            raise ValueError("api_version looks like 'v24.0'")
        return value
