"""The pure-Python side of the infrastructure: settings, topology, stage config, metric names."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from pixy_whatsapp import metric_names
from pixy_whatsapp.metric_names import SPLIT_ONLY, UNITS, Metric, dimension_sets
from pixy_whatsapp.settings import Settings, SettingsError

from infra.config import StageConfig
from infra.layers import WheelBundler
from infra.topology import (
    VISIBILITY_FACTOR,
    FunctionKey,
    QueueKey,
    SecretKey,
    TableKey,
    Topology,
)

ROOT = Path(__file__).resolve().parents[2]


def _settings(**overrides: object) -> Settings:
    topology = Topology("dev")
    values = topology.settings_values(
        queue_urls={key: f"https://sqs.local/{key}" for key in QueueKey},
        dlq_urls={key: f"https://sqs.local/{key}-dlq" for key in QueueKey},
        bucket="bodies",
    )
    return Settings.model_validate({**values, **overrides})


# --- settings ------------------------------------------------------------------------------


def test_settings_survive_the_environment_round_trip() -> None:
    settings = _settings(callback_override_url="https://hooks.example.com/webhook")
    env = settings.to_env()

    assert env["PIXY_MESSAGES_TABLE"] == "pixy-whatsapp-dev-messages"
    assert env["PIXY_OUTBOUND_QUEUE_URL"] == "https://sqs.local/outbound"
    assert env["PIXY_OPT_OUT_KEYWORDS"].startswith("stop,")
    assert env["PIXY_MASK_PHONE_NUMBERS"] == "true"
    assert Settings.from_env(env) == settings


def test_every_variable_is_the_field_name_with_the_prefix() -> None:
    env = _settings(callback_override_url="https://x.example").to_env()
    assert set(env) == {f"PIXY_{name.upper()}" for name in Settings.model_fields}
    assert all(re.fullmatch(r"PIXY_[A-Z0-9_]+", name) for name in env)


def test_defaults_match_the_documented_ones() -> None:
    settings = _settings()
    assert settings.graph_api_version == "v24.0"
    assert settings.default_mps == 80
    assert settings.shard_count == 16
    assert settings.callback_override_url is None
    assert "stop" in settings.opt_out_keywords
    assert "resume" in settings.opt_in_keywords
    assert settings.graph_url("/123/messages") == "https://graph.facebook.com/v24.0/123/messages"
    assert settings.waba_secret_name("42") == "pixy-whatsapp/dev/waba/42"


def test_a_missing_variable_is_named() -> None:
    env = _settings().to_env()
    del env["PIXY_CONTROL_TABLE"]
    del env["PIXY_EVENT_BUS"]
    with pytest.raises(SettingsError, match="PIXY_CONTROL_TABLE, PIXY_EVENT_BUS"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PIXY_DEFAULT_MPS", "fast"),
        ("PIXY_SHARD_COUNT", "0"),
        ("PIXY_GRAPH_API_VERSION", "24"),
        ("PIXY_WABA_SECRET_PREFIX", "no-slash"),
    ],
)
def test_a_bad_value_is_named(name: str, value: str) -> None:
    env = _settings().to_env() | {name: value}
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


def test_keyword_lists_are_read_comma_separated_and_lower_cased() -> None:
    env = _settings().to_env() | {"PIXY_OPT_OUT_KEYWORDS": " STOP, Baja ,,sair"}
    assert Settings.from_env(env).opt_out_keywords == ("stop", "baja", "sair")


def test_unknown_pixy_variables_are_ignored_but_fields_are_not_invented() -> None:
    env = _settings().to_env() | {"PIXY_SOMETHING_ELSE": "1"}
    assert Settings.from_env(env) == _settings()
    with pytest.raises(ValueError, match="extra"):
        _settings(something_else=1)


# --- topology ------------------------------------------------------------------------------


def test_names_of_one_stage() -> None:
    topology = Topology("prod")
    assert topology.table_name(TableKey.MESSAGES) == "pixy-whatsapp-prod-messages"
    assert topology.queue_name(QueueKey.OUTBOUND) == "pixy-whatsapp-prod-outbound.fifo"
    assert topology.dlq_name(QueueKey.OUTBOUND) == "pixy-whatsapp-prod-outbound-dlq.fifo"
    assert topology.queue_name(QueueKey.INBOUND) == "pixy-whatsapp-prod-inbound"
    assert topology.function_name(FunctionKey.SENDER) == "pixy-whatsapp-prod-sender"
    assert topology.secret_name(SecretKey.APP_SECRET) == "pixy-whatsapp/prod/app-secret"
    assert topology.waba_secret_prefix == "pixy-whatsapp/prod/waba/"
    assert topology.bus_name == "pixy-whatsapp-prod-events"
    assert topology.service_name == "pixy-whatsapp-prod"


def test_longest_bucket_name_fits_s3_limit() -> None:
    topology = Topology("a" * 12)
    assert len(topology.bucket_name("123456789012", "ap-southeast-4")) <= 63


@pytest.mark.parametrize("stage", ["", "Prod", "1st", "a-very-long-stage", "dev_2"])
def test_stage_names_that_would_break_resource_names_are_refused(stage: str) -> None:
    with pytest.raises(ValueError, match="stage"):
        Topology(stage)


def test_every_queue_outlives_six_consumer_timeouts_and_feeds_its_consumer() -> None:
    topology = Topology("dev")
    for queue in topology.queues:
        consumer = topology.function(queue.consumer)
        assert queue.visibility_timeout_seconds >= VISIBILITY_FACTOR * consumer.timeout_seconds
        assert consumer.event_source is not None
        assert consumer.event_source.queue is queue.key
        assert queue.max_receive_count >= 5


def test_sender_sizing() -> None:
    sender = Topology("dev").function(FunctionKey.SENDER)
    assert sender.event_source is not None
    assert sender.event_source.batch_size == 10  # the FIFO maximum
    assert sender.event_source.report_batch_item_failures
    assert sender.event_source.max_concurrency >= 2


def test_outbound_redrive_leaves_room_for_the_senders_own_retries() -> None:
    receives = Topology("dev").queue(QueueKey.OUTBOUND).max_receive_count
    settings = _settings()
    assert settings.outbound_max_receive_count == receives
    assert settings.max_attempts < receives


@pytest.mark.parametrize("module", ["topology.py", "config.py"])
def test_shared_descriptions_import_no_cdk(module: str) -> None:
    # The local stack reads these without the CDK (and without Node) installed.
    tree = ast.parse((ROOT / "infra" / module).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert not imported & {"aws_cdk", "constructs", "jsii", "cdk_nag"}


# --- stage config --------------------------------------------------------------------------


def test_stage_files_load_and_context_overrides_them() -> None:
    dev = StageConfig.load("dev")
    prod = StageConfig.load("prod", {"alarm_email": "ops@example.com", "shard_count": "4"})

    assert dev.retain_data is False
    assert prod.retain_data is True
    assert prod.alarm_email == "ops@example.com"
    assert prod.shard_count == 4
    assert prod.tags == {"project": "pixy-whatsapp", "stage": "prod"}


def test_tags_given_as_json_text_on_the_command_line(tmp_path: Path) -> None:
    config = StageConfig.load("x", {"tags": '{"team": "messaging"}'}, config_dir=tmp_path)
    assert config.tags == {"team": "messaging"}


def test_log_retention_must_be_a_period_cloudwatch_accepts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CloudWatch Logs allows only"):
        StageConfig.load("x", {"log_retention_days": 10}, config_dir=tmp_path)


def test_cdk_json_runs_the_project_interpreter() -> None:
    cdk_json = json.loads((ROOT / "cdk.json").read_text())
    assert cdk_json["app"] == ".venv/bin/python app.py"
    assert cdk_json["context"]["stage"] == "dev"


def test_cdk_cli_is_pinned() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    assert package["devDependencies"] == {"aws-cdk": "2.1148.1"}


# --- metric names --------------------------------------------------------------------------


def test_latencies_are_milliseconds_and_counters_are_counts() -> None:
    assert UNITS[Metric.GRAPH_LATENCY_MS] == "Milliseconds"
    assert UNITS[Metric.DELIVERY_LATENCY_MS] == "Milliseconds"
    assert UNITS[Metric.MESSAGES_ACCEPTED] == "Count"


def test_split_metrics_keep_a_total_for_alarms() -> None:
    assert dimension_sets(Metric.MESSAGES_FAILED) == (("service",), ("service", "ErrorClass"))
    assert dimension_sets(Metric.THROTTLED) == (("service",), ("service", "LimitKind"))
    assert dimension_sets(Metric.BREAKER_TRANSITION) == (("service", "Scope", "State"),)
    assert dimension_sets(Metric.RETRIES) == (("service",),)
    assert {Metric.BREAKER_TRANSITION} == SPLIT_ONLY


def test_module_level_names_are_the_enum_members() -> None:
    for metric in Metric:
        assert getattr(metric_names, metric.name) is metric
    assert metric_names.MESSAGES_FAILED_TOTAL is Metric.MESSAGES_FAILED
    assert metric_names.BREAKER_BLOCKED is Metric.BREAKER_OPEN


# --- the dependency layer ------------------------------------------------------------------


def test_layer_asset_hash_follows_the_requirements(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    provided = tmp_path / "runtime-provided.txt"
    requirements.write_text("pydantic==2.14.4\n")
    provided.write_text("boto3\n")
    before = WheelBundler(requirements, provided).fingerprint()

    requirements.write_text("pydantic==2.14.5\n")
    after = WheelBundler(requirements, provided).fingerprint()
    assert before != after

    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "requirements.txt").write_text("pydantic==2.14.5\n")
    (moved / "runtime-provided.txt").write_text("boto3\n")
    # Where the files sit does not matter, only what they say.
    assert (
        WheelBundler(moved / "requirements.txt", moved / "runtime-provided.txt").fingerprint()
        == after
    )


def test_layer_pins_match_the_project_constraints() -> None:
    pins = _pins((ROOT / "layers" / "deps" / "requirements.txt").read_text())
    constraints = _pins((ROOT / "requirements" / "constraints.txt").read_text())
    assert set(pins) == {"aws-lambda-powertools", "httpx", "pydantic", "sniffio"}
    for name, version in pins.items():
        assert constraints[name] == version, name


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;]+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins
