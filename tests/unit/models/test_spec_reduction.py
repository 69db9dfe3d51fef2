"""The generator's rewrites, on small hand-made schemas (no spec needed)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tools import openapi_reduce as reduce
from tools.spec_errata import SEND_ERRATA, Erratum, apply_errata


def ref(name: str) -> dict[str, Any]:
    return {"$ref": reduce.REF_PREFIX + name}


def test_closure_follows_refs_and_discriminator_maps_and_sorts() -> None:
    schemas: reduce.Schemas = {
        "Root": {
            "properties": {"a": ref("A")},
            "discriminator": {"mapping": {"x": "#/components/schemas/X"}},
        },
        "A": {"type": "string"},
        "X": {"type": "object"},
        "Unused": {"type": "object"},
    }

    assert list(reduce.closure(schemas, ["Root"])) == ["A", "Root", "X"]
    with pytest.raises(reduce.SpecShapeError, match="'Missing' is referenced"):
        reduce.closure({"R": {"properties": {"m": ref("Missing")}}}, ["R"])


def test_strip_prose_keeps_properties_named_like_keywords() -> None:
    schemas: reduce.Schemas = {
        "Row": {
            "type": "object",
            "description": "prose",
            "title": "Row",
            "x-meta": "vendor",
            "properties": {
                "title": {"type": "string", "example": "A"},
                "description": {"type": "string", "format": "uri", "summary": "s"},
                "count": {"type": "integer", "format": "int32"},
            },
        }
    }

    assert reduce.strip_prose(schemas) == {
        "Row": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "count": {"type": "integer", "format": "int32"},
            },
        }
    }


def test_open_enums_keeps_pinned_discriminator_tags() -> None:
    schemas: reduce.Schemas = {
        "Msg": {
            "oneOf": [ref("Text")],
            "discriminator": {
                "propertyName": "type",
                "mapping": {"text": "#/components/schemas/Text"},
            },
        },
        "Text": {
            "allOf": [ref("Base"), {"properties": {"type": {"type": "string", "enum": ["text"]}}}]
        },
        "Base": {"properties": {"kind": {"enum": ["a", "b"]}}},
    }

    opened = reduce.open_enums(reduce.pin_discriminator(schemas, "Msg"))

    assert opened["Text"]["allOf"][1]["properties"]["type"] == {"type": "string", "const": "text"}
    assert opened["Base"]["properties"]["kind"] == {"type": "string"}
    assert schemas["Base"]["properties"]["kind"] == {"enum": ["a", "b"]}  # input untouched


def test_fold_unions_merges_alternatives_into_one_record() -> None:
    schemas: reduce.Schemas = {
        "Media": {
            "oneOf": [
                {
                    "required": ["id"],
                    "properties": {"id": {"type": "string"}},
                    "additionalProperties": False,
                },
                {
                    "required": ["link"],
                    "properties": {"link": {"type": "string"}},
                    "additionalProperties": False,
                },
            ]
        },
        "Msg": {"oneOf": [ref("A"), ref("B")], "discriminator": {"propertyName": "type"}},
        "A": {"properties": {"type": {"type": "string"}}},
        "B": {"properties": {"type": {"type": "string"}}},
    }

    folded = reduce.fold_unions(schemas, keep=["Msg"])

    assert folded["Media"] == {
        "type": "object",
        "properties": {"id": {"type": "string"}, "link": {"type": "string"}},
        "additionalProperties": False,
    }
    assert folded["Msg"] == schemas["Msg"]


def test_fold_unions_merges_clashing_properties() -> None:
    schemas: reduce.Schemas = {
        "Param": {
            "oneOf": [
                {"properties": {"text": {"type": "string", "maxLength": 10}, "ctx": ref("Ctx")}},
                {
                    "properties": {
                        "text": {"type": "boolean"},
                        "ctx": {"properties": {"id": {"type": "string"}}},
                    }
                },
            ]
        },
        "Ctx": {"properties": {"id": {"type": "string"}, "from": {"type": "string"}}},
    }

    props = reduce.fold_unions(schemas)["Param"]["properties"]

    assert props["text"] == {"type": ["string", "boolean"]}
    assert props["ctx"] == ref("Ctx")  # the named schema already covers the inline one


def test_fold_unions_folds_a_discriminator_map_onto_its_base() -> None:
    schemas: reduce.Schemas = {
        "Component": {
            "required": ["type"],
            "properties": {"type": {"type": "string"}},
            "discriminator": {
                "propertyName": "type",
                "mapping": {"body": "#/components/schemas/Body"},
            },
        },
        "Body": {"allOf": [ref("Component"), {"properties": {"parameters": {"type": "array"}}}]},
    }

    folded = reduce.fold_unions(schemas)["Component"]

    assert folded["required"] == ["type"]
    assert set(folded["properties"]) == {"type", "parameters"}
    assert "discriminator" not in folded


def test_make_tolerant_allows_extras_and_requires_nothing() -> None:
    schemas: reduce.Schemas = {
        "Status": {
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "maxLength": 3},
                "tags": {"type": "array", "minItems": 1},
            },
        }
    }

    assert reduce.make_tolerant(schemas) == {
        "Status": {
            "additionalProperties": True,
            "properties": {"id": {"type": "string"}, "tags": {"type": "array"}},
        }
    }


def test_open_records_keeps_an_explicit_forbid() -> None:
    schemas: reduce.Schemas = {
        "A": {"properties": {}},
        "B": {"properties": {}, "additionalProperties": False},
    }

    opened = reduce.open_records(schemas)

    assert opened["A"]["additionalProperties"] is True
    assert opened["B"]["additionalProperties"] is False


def test_drop_merge_suffixes_only_when_the_plain_name_is_free() -> None:
    schemas: reduce.Schemas = {
        "Error_2": {"type": "object"},
        "Text": {"type": "object"},
        "Text_1": {"properties": {"e": ref("Error_2")}},
    }

    renamed = reduce.drop_merge_suffixes(schemas)

    assert set(renamed) == {"Error", "Text", "Text_1"}
    assert renamed["Text_1"]["properties"]["e"] == ref("Error")


def test_errata_fail_loudly_when_the_spec_changed() -> None:
    already_fixed = {
        "BaseMessageProperties": {
            "required": ["messaging_product", "type"],
            "properties": {"to": {"type": "string"}, "recipient": {"type": "string"}},
        }
    }

    with pytest.raises(reduce.SpecShapeError, match="send-to-bsuid: BaseMessageProperties already"):
        apply_errata(copy.deepcopy(already_fixed), SEND_ERRATA[:1])


def test_errata_report_a_missing_schema_by_name() -> None:
    broken = Erratum("demo", "why", lambda schemas: schemas["Nope"].clear())

    with pytest.raises(reduce.SpecShapeError, match="erratum demo: unexpected spec shape"):
        apply_errata({}, (broken,))
