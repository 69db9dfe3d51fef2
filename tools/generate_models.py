"""Generate the pydantic models in ``pixy_whatsapp/models/_generated_*.py`` from Meta's spec.

Run from the repository root::

    python -m tools.generate_models           # (re)write the committed modules
    python -m tools.generate_models --check   # exit 1 if they differ from a fresh run

The spec is read from ``$PIXY_META_SPEC`` or, by default, from
``../shared/meta-openapi/business-messaging-api_v23.0.yaml`` next to the repository; it
is never copied into the project. For each module the generator selects the component
schemas reachable from a few roots, applies the corrections in ``tools/spec_errata.py``,
rewrites the slice with ``tools/openapi_reduce.py`` (prose stripped, enums opened, unions
folded), runs datamodel-code-generator on it and formats the result with ruff. Output
depends only on the spec and these tools: no timestamps, stable ordering.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools import openapi_reduce as reduce
from tools.spec_errata import SEND_ERRATA, WEBHOOK_ERRATA, Erratum, apply_errata

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC_ENV = "PIXY_META_SPEC"
DEFAULT_SPEC = Path("../shared/meta-openapi/business-messaging-api_v23.0.yaml")
MODELS_DIR = REPO_ROOT / "layers/core/python/pixy_whatsapp/models"
GENERATED_GLOB = "_generated_*.py"


@dataclass(frozen=True)
class ModulePlan:
    """One generated module: which schemas it holds and how they are read."""

    filename: str
    roots: tuple[str, ...]
    errata: tuple[Erratum, ...]
    # Webhooks are read tolerantly (nothing required, unknown keys kept); sends keep the
    # spec's required keys and forbid extra keys where the spec does.
    tolerant: bool
    keep_unions: tuple[str, ...] = ()
    base_class: str | None = None


PLANS: tuple[ModulePlan, ...] = (
    ModulePlan(
        filename="_generated_send.py",
        roots=("Message", "MessageResponsePayload", "GraphAPIError", "MarkMessageRequestPayload"),
        errata=SEND_ERRATA,
        tolerant=False,
        keep_unions=("Message",),
        base_class="pixy_whatsapp.models.bases.PayloadRecord",
    ),
    ModulePlan(
        filename="_generated_webhook.py",
        roots=("WebhookPayload",),
        errata=WEBHOOK_ERRATA,
        tolerant=True,
        base_class="pixy_whatsapp.models.bases.WebhookRecord",
    ),
)
VOCABULARY_FILE = "_generated_vocabulary.py"


def spec_path() -> Path:
    """Where the spec is read from; a relative path is taken from the repository root."""
    path = Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def load_spec(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as handle:
        spec = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    if not isinstance(spec, dict) or "components" not in spec:
        raise reduce.SpecShapeError(f"{path} is not an OpenAPI document with components")
    return spec


def spec_version(spec: dict[str, Any]) -> str:
    return str(spec.get("info", {}).get("version", "unknown"))


def header(spec: dict[str, Any]) -> str:
    return (
        "# Generated from Meta's WhatsApp Business Messaging OpenAPI spec "
        f"{spec_version(spec)} by tools/generate_models.py.\n"
        "# Do not edit by hand: regenerate with `make models`.\n"
    )


# --------------------------------------------------------------------------- reduction


def corrected_schemas(spec: dict[str, Any], errata: tuple[Erratum, ...]) -> reduce.Schemas:
    schemas: reduce.Schemas = copy.deepcopy(spec["components"]["schemas"])
    apply_errata(schemas, errata)
    return schemas


def reduced_spec(spec: dict[str, Any], plan: ModulePlan) -> dict[str, Any]:
    """The OpenAPI document datamodel-codegen reads for ``plan``."""
    schemas = reduce.closure(corrected_schemas(spec, plan.errata), plan.roots)
    schemas = reduce.strip_prose(schemas)
    for union in plan.keep_unions:
        schemas = reduce.pin_discriminator(schemas, union)
    schemas = reduce.open_enums(schemas)
    schemas = reduce.fold_unions(schemas, keep=plan.keep_unions)
    schemas = reduce.make_tolerant(schemas) if plan.tolerant else reduce.open_records(schemas)
    schemas = reduce.drop_merge_suffixes(reduce.closure(schemas, plan.roots))
    return {
        "openapi": spec.get("openapi", "3.1.0"),
        "info": {"title": "reduced", "version": spec_version(spec)},
        "paths": {},
        "components": {"schemas": schemas},
    }


def vocabulary_source(spec: dict[str, Any]) -> str:
    """Known values of the fields the models keep open, as read from the spec."""
    send = corrected_schemas(spec, SEND_ERRATA)
    webhook = corrected_schemas(spec, WEBHOOK_ERRATA)
    values = {
        "INBOUND_MESSAGE_TYPES": webhook["IncomingMessage"]["discriminator"]["mapping"],
        "OUTBOUND_MESSAGE_TYPES": send["Message"]["discriminator"]["mapping"],
        "STATUS_VALUES": webhook["Statuses"]["properties"]["status"]["enum"],
        "CHANGE_FIELDS": webhook["Change"]["properties"]["field"]["enum"],
    }
    lines = [
        header(spec),
        '"""Values the spec lists for fields the models keep open; others are new to it."""',
        "",
    ]
    for name, known in values.items():
        members = ", ".join(json.dumps(value) for value in sorted(known))
        lines.append(f"{name}: frozenset[str] = frozenset({{{members}}})")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- codegen


def _codegen_args(plan: ModulePlan, source: Path, target: Path, spec: dict[str, Any]) -> list[str]:
    args = [
        sys.executable,
        "-m",
        "datamodel_code_generator",
        "--input",
        str(source),
        "--input-file-type",
        "openapi",
        "--openapi-scopes",
        "schemas",
        "--output",
        str(target),
        "--output-model-type",
        "pydantic_v2.BaseModel",
        "--target-python-version",
        "3.11",
        "--use-annotated",
        "--collapse-root-models",
        "--use-double-quotes",
        "--use-union-operator",
        "--use-standard-collections",
        "--enum-field-as-literal",
        "all",
        "--allow-population-by-field-name",
        # Inline objects are named after their parent (TextMessageText, ChangeValue), so
        # names stay unique and say where a class comes from.
        "--naming-strategy",
        "parent-prefixed",
        "--disable-timestamp",
        "--no-formatters",
        "--custom-file-header",
        header(spec).rstrip("\n"),
    ]
    if plan.base_class:
        args += ["--base-class", plan.base_class]
    return args


def format_source(source: str, target: Path) -> str:
    """Fix and format with the project's ruff settings, as if the file were at ``target``."""
    for command in (["check", "--fix-only", "--exit-zero", "--quiet"], ["format", "--quiet"]):
        result = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", str(target), "-"],
            input=source,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
        )
        source = result.stdout
    return source


def generate(spec_file: Path, output_dir: Path) -> list[Path]:
    """Write every generated module into ``output_dir``; return the paths written."""
    spec = load_spec(spec_file)
    output_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="pixy-models-") as work:
        for plan in PLANS:
            source = Path(work) / f"{plan.filename}.json"
            raw = Path(work) / plan.filename
            source.write_text(json.dumps(reduced_spec(spec, plan), indent=1, sort_keys=False))
            subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
                _codegen_args(plan, source, raw, spec),
                check=True,
                cwd=work,  # keep datamodel-codegen away from this project's pyproject
                capture_output=True,
                text=True,
            )
            written.append(_write(output_dir / plan.filename, raw.read_text()))
    written.append(_write(output_dir / VOCABULARY_FILE, vocabulary_source(spec)))
    return written


def _write(path: Path, source: str) -> Path:
    # Formatting is resolved against the committed location so both modes agree.
    path.write_text(format_source(source, MODELS_DIR / path.name))
    return path


# --------------------------------------------------------------------------- check


def compare(fresh_dir: Path, committed_dir: Path) -> list[str]:
    """Human-readable differences between a fresh generation and the committed files."""
    problems: list[str] = []
    fresh = {path.name: path for path in sorted(fresh_dir.glob(GENERATED_GLOB))}
    committed = {path.name: path for path in sorted(committed_dir.glob(GENERATED_GLOB))}
    for name in sorted(set(committed) - set(fresh)):
        problems.append(f"{name}: committed but no longer generated")
    for name, path in fresh.items():
        if name not in committed:
            problems.append(f"{name}: generated but not committed")
            continue
        new, old = path.read_text().splitlines(), committed[name].read_text().splitlines()
        if new == old:
            continue
        diff = list(
            difflib.unified_diff(old, new, f"committed/{name}", f"fresh/{name}", n=1, lineterm="")
        )
        added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
        excerpt = "\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else "")
        problems.append(f"{name}: differs (+{added} -{removed} lines)\n{excerpt}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.generate_models", description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary directory and fail if the committed files differ",
    )
    parser.add_argument(
        "--spec", type=Path, help=f"spec file (default: ${SPEC_ENV} or the shared copy)"
    )
    args = parser.parse_args(argv)

    spec_file = args.spec or spec_path()
    if not spec_file.is_file():
        print(f"spec not found: {spec_file} (set {SPEC_ENV})", file=sys.stderr)
        return 2

    if not args.check:
        for path in generate(spec_file, MODELS_DIR):
            print(f"wrote {path.relative_to(REPO_ROOT)}")
        return 0

    with tempfile.TemporaryDirectory(prefix="pixy-models-check-") as fresh:
        generate(spec_file, Path(fresh))
        problems = compare(Path(fresh), MODELS_DIR)
    if problems:
        print("generated models are out of date; run `make models`:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("generated models are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
