"""A real `app.py` synth, as `make synth` runs it: local bundling (no Docker) and cdk-nag.

Slower than the assertion tests (it downloads or reuses the wheels and zips nothing, but
bundles for real), so it runs once and checks everything that needs a real bundle.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ELF_MACHINE_AARCH64 = 183  # e_machine of an ELF built for ARM 64-bit
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")


@pytest.fixture(scope="module")
def cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("synth")
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    env = os.environ | {
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        # Any attempt to use Docker fails loudly instead of quietly building elsewhere.
        "CDK_DOCKER": str(ROOT / "tests" / "infra" / "no-docker"),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, check=True, timeout=300)
    return outdir


def _deps_layer(assembly: Path) -> Path:
    template = json.loads((assembly / "PixyWhatsApp-dev.template.json").read_text())
    layers = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::LayerVersion"
        and "third-party" in resource["Properties"]["Description"]
    ]
    (layer,) = layers
    # The code's S3 key is the asset hash, which names the staged folder in the assembly.
    asset_hash = layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")
    return assembly / f"asset.{asset_hash}" / "python"


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF"
    return int.from_bytes(header[18:20], "little")


def test_synth_passes_cdk_nag(cloud_assembly: Path) -> None:
    report: dict[str, Any] = json.loads((cloud_assembly / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []


def test_layer_holds_cp313_aarch64_wheels(cloud_assembly: Path) -> None:
    site = _deps_layer(cloud_assembly)
    (core,) = site.glob("pydantic_core/_pydantic_core.cpython-313-aarch64-linux-gnu.so")
    assert _elf_machine(core) == ELF_MACHINE_AARCH64

    (wheel,) = site.glob("pydantic_core-*.dist-info/WHEEL")
    tags = [
        line.split(": ", 1)[1] for line in wheel.read_text().splitlines() if line.startswith("Tag:")
    ]
    assert tags
    assert all(tag.startswith("cp313-cp313-manylinux") and tag.endswith("aarch64") for tag in tags)

    for package in ("aws_lambda_powertools", "httpx", "h2", "pydantic", "aws_xray_sdk"):
        assert (site / package).is_dir(), package


def test_layer_ships_no_host_artifacts_or_runtime_packages(cloud_assembly: Path) -> None:
    site = _deps_layer(cloud_assembly)
    assert not list(site.rglob("*.pyc"))
    assert not (site / "bin").exists()
    for package in RUNTIME_PROVIDED:
        assert not (site / package).exists(), package
    # Every compiled extension in the layer is for Lambda's CPU.
    for extension in site.rglob("*.so"):
        assert _elf_machine(extension) == ELF_MACHINE_AARCH64, extension.name
