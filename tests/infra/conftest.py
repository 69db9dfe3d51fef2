"""Fixtures for the CDK tests: the stack synthesized once per test process, bundling skipped.

Session scope rather than module scope: under pytest-xdist tests of one module spread
over workers, and each extra synth costs a second or more.
"""

from __future__ import annotations

import os

import pytest

# Before any jsii import: jsii prints a banner on every start under Node 20.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from .cdk_support import Synthesized, synthesize


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))
