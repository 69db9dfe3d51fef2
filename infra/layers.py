"""Lambda layers: the domain library as it is, and third-party wheels built for arm64.

The dependency layer is bundled on the host, without Docker: uv (or pip) downloads the
manylinux aarch64 CPython 3.13 wheels into ``python/``. Only wheels are accepted, so
nothing is compiled for the wrong machine.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ROOT = Path(__file__).resolve().parent.parent
CORE_DIR = ROOT / "layers" / "core"
DEPS_DIR = ROOT / "layers" / "deps"
REQUIREMENTS = DEPS_DIR / "requirements.txt"
RUNTIME_PROVIDED = DEPS_DIR / "runtime-provided.txt"
UV = ROOT / ".tools" / "bin" / "uv"

PYTHON_VERSION = "3.13"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
UV_PLATFORM = "aarch64-manylinux2014"
PIP_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")

# Host-side caches: never part of what Lambda runs.
NOT_SHIPPED = ["**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/.pytest_cache"]


def _names(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@jsii.implements(cdk.ILocalBundling)
class WheelBundler:
    """Installs ``requirements.txt`` for Lambda's arm64 Python 3.13 into ``<out>/python``."""

    def __init__(
        self,
        requirements: Path = REQUIREMENTS,
        runtime_provided: Path = RUNTIME_PROVIDED,
        uv: Path = UV,
    ) -> None:
        self._requirements = requirements
        self._runtime_provided = runtime_provided
        self._uv = uv

    def command(self, target: Path) -> list[str]:
        """The install command: uv when the project's copy exists, else pip."""
        common = ["--only-binary", ":all:", "--no-compile", "--target", str(target)]
        if self._uv.is_file():
            return [
                str(self._uv),
                "pip",
                "install",
                "--quiet",
                "--python-platform",
                UV_PLATFORM,
                "--python-version",
                PYTHON_VERSION,
                *common,
                "-r",
                str(self._requirements),
                # boto3 comes with the runtime; shipping another copy only adds 20 MB.
                "--excludes",
                str(self._runtime_provided),
            ]
        platforms = [arg for platform in PIP_PLATFORMS for arg in ("--platform", platform)]
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *platforms,
            "--implementation",
            "cp",
            "--python-version",
            PYTHON_VERSION,
            *common,
            "-r",
            str(self._requirements),
        ]

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        # jsii calls this positionally as (output_dir, options).
        target = Path(output_dir) / "python"
        subprocess.run(self.command(target), check=True)  # noqa: S603 - fixed argv
        _prune(target, provided=_names(self._runtime_provided))
        return True

    def fingerprint(self) -> str:
        """Changes whenever the bundle would: requirements, exclusions or install target."""
        digest = hashlib.sha256()
        # The interpreter's and the files' absolute paths differ between machines; what
        # they install does not.
        argv = [arg for arg in self.command(Path("python"))[1:] if not Path(arg).is_absolute()]
        for part in (
            self._requirements.read_bytes(),
            self._runtime_provided.read_bytes(),
            " ".join(argv).encode(),
        ):
            digest.update(part)
            digest.update(b"\0")
        return digest.hexdigest()


def _prune(target: Path, provided: list[str]) -> None:
    # pip cannot exclude transitive packages the way uv does; console scripts carry the
    # host's interpreter path and are useless in a layer.
    skip = {name.replace("-", "_").lower() for name in provided}
    for entry in target.iterdir():
        package = entry.name.split("-", 1)[0].lower()
        if entry.name == "bin" or package in skip:
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


class Layers(Construct):
    """``core``: ``layers/core`` shipped as is; ``deps``: wheels from ``layers/deps``."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.core = lambda_.LayerVersion(
            self,
            "Core",
            description="pixy_whatsapp domain library",
            code=lambda_.Code.from_asset(str(CORE_DIR), exclude=NOT_SHIPPED),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
        bundler = WheelBundler()
        self.deps = lambda_.LayerVersion(
            self,
            "Deps",
            description="third-party runtime dependencies (arm64, CPython 3.13)",
            code=lambda_.Code.from_asset(
                str(DEPS_DIR),
                # The hash follows the requirements and the install command, not the
                # folder's files alone, so a changed pin never reuses a stale bundle.
                asset_hash_type=cdk.AssetHashType.CUSTOM,
                asset_hash=bundler.fingerprint(),
                bundling=cdk.BundlingOptions(
                    local=bundler,
                    # Used only where local bundling is impossible and Docker is present.
                    image=cdk.DockerImage.from_registry("public.ecr.aws/sam/build-python3.13"),
                    platform="linux/arm64",
                    command=[
                        "bash",
                        "-c",
                        "pip install --no-compile --only-binary :all: "
                        "-r requirements.txt -t /asset-output/python",
                    ],
                ),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
