"""Event details: the published JSON Schemas match the models, ids are stable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pixy_whatsapp.events import (
    DETAIL_MODELS,
    DetailType,
    MessageReceived,
    MessageStatusChanged,
    event_id,
)
from pixy_whatsapp.events.export_schemas import main, render_schemas, stale_files

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ROOT / "docs" / "contract" / "events"


def test_the_published_schemas_match_the_models() -> None:
    stale = stale_files(SCHEMAS)
    assert stale == [], f"{stale} out of date: run `python -m pixy_whatsapp.events.export_schemas`"


def test_there_is_one_schema_per_detail_type_and_nothing_else() -> None:
    on_disk = {path.name for path in SCHEMAS.glob("*.schema.json")}
    assert on_disk == set(render_schemas())
    assert on_disk == {f"{t.value}.schema.json" for t in DetailType}


def test_the_check_mode_fails_on_drift(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "message.status.schema.json").write_text("{}\n")
    assert main(["--check", "--out", str(tmp_path)]) == 1


@pytest.mark.parametrize("detail_type", list(DetailType))
def test_each_schema_names_its_detail_type_and_requires_every_key(detail_type: DetailType) -> None:
    schema = json.loads(render_schemas()[f"{detail_type.value}.schema.json"])
    assert schema["title"] == detail_type.value
    assert f'"detail-type": "{detail_type.value}"' in schema["description"]
    model = DETAIL_MODELS[detail_type]
    assert set(schema["required"]) == set(model.model_fields)
    assert schema["additionalProperties"] is False


def test_event_ids_are_stable_per_fact_and_distinct_across_types() -> None:
    first = event_id(DetailType.MESSAGE_STATUS, "m1#sent")
    assert first == event_id(DetailType.MESSAGE_STATUS, "m1#sent")
    assert first != event_id(DetailType.MESSAGE_STATUS, "m1#read")
    assert first != event_id(DetailType.MESSAGE_FAILED, "m1#sent")


def test_a_detail_without_its_payload_keeps_every_field_it_read() -> None:
    detail = MessageReceived(
        event_id="e1", wamid="wamid.1", type="text", text="hi", payload={"big": "x" * 10}
    )
    slim = detail.without_payload()
    assert (slim.payload, slim.payload_omitted) == (None, True)
    assert (slim.wamid, slim.text, slim.detail_type) == (
        "wamid.1",
        "hi",
        DetailType.MESSAGE_RECEIVED,
    )


def test_a_status_detail_dumps_every_key() -> None:
    detail = MessageStatusChanged(event_id="e2", status="sent")
    dumped = json.loads(detail.to_json())
    assert set(dumped) == set(MessageStatusChanged.model_fields)
    assert dumped["metadata"] == {}
