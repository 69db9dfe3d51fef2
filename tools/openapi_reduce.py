"""Generic rewrites that turn a slice of an OpenAPI spec into datamodel-codegen input.

Everything here works on plain JSON-like data: a mapping of component schema names to
schemas. No function mutates its argument; each returns new data. The rewrites know the
JSON Schema grammar (which keywords hold sub-schemas), so a property that happens to be
called ``description`` or ``title`` is never mistaken for prose.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Schema = dict[str, Any]
Schemas = dict[str, Schema]

REF_PREFIX = "#/components/schemas/"

# Keywords whose value is a map of name -> sub-schema, a list of sub-schemas, or one
# sub-schema. Every other keyword holds data (enum, const, default, required, ...).
_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_SINGLES = (
    "items",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "additionalProperties",
    "unevaluatedProperties",
)

# Human text in the spec; the generated code keeps names and types only.
_PROSE = frozenset({"description", "summary", "example", "examples", "title", "externalDocs"})
# Validation keywords that a tolerant reader drops: a webhook is never refused over them.
_CONSTRAINTS = frozenset(
    {
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    }
)


class SpecShapeError(ValueError):
    """The spec does not have the shape a rewrite relies on."""


def ref_name(ref: str) -> str:
    if not ref.startswith(REF_PREFIX):
        raise SpecShapeError(f"only local component references are supported, got {ref!r}")
    return ref[len(REF_PREFIX) :]


def ref_to(name: str) -> Schema:
    return {"$ref": REF_PREFIX + name}


def map_subschemas(schema: Schema, fn: Callable[[Schema], Schema]) -> Schema:
    """Return a shallow copy of ``schema`` with ``fn`` applied to each direct sub-schema."""
    out = dict(schema)
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: fn(sub) for name, sub in out[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [fn(sub) for sub in out[key]]
    for key in _SCHEMA_SINGLES:
        value = out.get(key)
        if isinstance(value, dict):
            out[key] = fn(value)
        elif isinstance(value, list):  # old-style tuple `items`
            out[key] = [fn(sub) for sub in value]
    return out


def _rewrite(schemas: Mapping[str, Schema], fn: Callable[[Schema], Schema]) -> Schemas:
    def walk(node: Schema) -> Schema:
        return fn(map_subschemas(node, walk))

    return {name: walk(schema) for name, schema in schemas.items()}


# --------------------------------------------------------------------------- selection


def referenced_names(node: Any) -> set[str]:
    """Component names that ``node`` points at, through ``$ref`` or a discriminator map."""
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str):
                found.add(ref_name(ref))
            mapping = value.get("discriminator", {}).get("mapping", {})
            found.update(ref_name(target) for target in mapping.values())
            for key, sub in value.items():
                if key not in ("$ref", "discriminator", "enum", "const", "default"):
                    visit(sub)
        elif isinstance(value, list):
            for sub in value:
                visit(sub)

    visit(node)
    return found


def closure(schemas: Mapping[str, Schema], roots: Iterable[str]) -> Schemas:
    """The schemas reachable from ``roots``, sorted by name so output order is stable."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        if name not in schemas:
            raise SpecShapeError(f"schema {name!r} is referenced but not defined")
        seen.add(name)
        pending.extend(referenced_names(schemas[name]) - seen)
    return {name: schemas[name] for name in sorted(seen)}


# --------------------------------------------------------------------------- cleaning


def strip_prose(schemas: Mapping[str, Schema]) -> Schemas:
    """Drop prose, vendor extensions, string formats and ``not``; keep names and types.

    String formats go because a gateway must pass text through unchanged: pydantic's URL
    types normalise (``https://a.b`` becomes ``https://a.b/``) and its e-mail type needs
    an extra package. ``not`` cannot be expressed in the generated models.
    """

    def clean(node: Schema) -> Schema:
        out = {
            key: value
            for key, value in node.items()
            if key not in _PROSE and key != "not" and not key.startswith("x-")
        }
        if out.get("type") == "string":
            out.pop("format", None)
        return out

    return _rewrite(schemas, clean)


def pin_discriminator(schemas: Mapping[str, Schema], union: str) -> Schemas:
    """Turn each member's tag of the ``union`` schema into a ``const``.

    Run before :func:`open_enums`, so the union stays discriminated by a literal tag while
    every other enum becomes an open string.
    """
    out = copy.deepcopy(dict(schemas))
    discriminator = out[union].get("discriminator")
    if not discriminator:
        raise SpecShapeError(f"{union} has no discriminator")
    tag_name = discriminator["propertyName"]
    for tag, target in discriminator["mapping"].items():
        member = out[ref_name(target)]
        parts = [member, *[part for part in member.get("allOf", []) if "$ref" not in part]]
        tagged = [part for part in parts if tag_name in part.get("properties", {})]
        if not tagged:
            raise SpecShapeError(f"{ref_name(target)} does not define {tag_name!r}")
        for part in tagged:
            part["properties"][tag_name] = {"type": "string", "const": tag}
    return out


def open_enums(schemas: Mapping[str, Schema]) -> Schemas:
    """Replace every ``enum`` with its base type.

    Meta adds values (message types, statuses, header types, sub-types) faster than the
    spec tracks them, and the spec's own examples use values its enums lack.
    """

    def drop(node: Schema) -> Schema:
        if "enum" not in node:
            return node
        out = {key: value for key, value in node.items() if key != "enum"}
        if "type" not in out and "$ref" not in out and "allOf" not in out:
            out["type"] = _json_type(node["enum"])
        return out

    return _rewrite(schemas, drop)


def _json_type(values: list[Any]) -> str:
    kinds = {type(value) for value in values}
    if kinds <= {str}:
        return "string"
    if kinds <= {int}:
        return "integer"
    if kinds <= {int, float}:
        return "number"
    if kinds <= {bool}:
        return "boolean"
    raise SpecShapeError(f"enum mixes JSON types: {values!r}")


# --------------------------------------------------------------------------- unions


def fold_unions(schemas: Mapping[str, Schema], keep: Iterable[str] = ()) -> Schemas:
    """Fold every ``oneOf``/``anyOf`` of objects, and every discriminator map, into one object.

    The folded object has the properties of all alternatives (a property defined twice is
    merged), requires only what every alternative requires, and forbids extra keys only
    when every alternative did. Unions named in ``keep`` stay unions.
    """
    return _Folder(schemas, frozenset(keep)).run()


class _Folder:
    def __init__(self, schemas: Mapping[str, Schema], keep: frozenset[str]) -> None:
        self.source = copy.deepcopy(dict(schemas))
        self.keep = keep
        self.done: Schemas = {}

    def run(self) -> Schemas:
        for name in self.source:
            self.named(name, frozenset())
        return {name: self.done[name] for name in self.source}

    def named(self, name: str, stack: frozenset[str]) -> Schema:
        if name in self.done:
            return self.done[name]
        if name in stack:
            # A member that extends its own union's base (allOf: [$ref Base, ...]) sees
            # the base's plain properties, not the union again.
            return _without_union(self.source[name])
        schema = self.source[name]
        if name in self.keep:
            folded = map_subschemas(schema, lambda sub: self.node(sub, stack | {name}))
        else:
            folded = self.node(schema, stack | {name})
        self.done[name] = folded
        return folded

    def node(self, node: Schema, stack: frozenset[str]) -> Schema:
        node = map_subschemas(node, lambda sub: self.node(sub, stack))
        alternatives = list(node.get("oneOf") or node.get("anyOf") or [])
        mapping = node.get("discriminator", {}).get("mapping", {})
        listed = {alt.get("$ref") for alt in alternatives}
        alternatives += [ref_to(ref_name(t)) for t in mapping.values() if t not in listed]
        if not alternatives or not all(self.is_object(alt, stack) for alt in alternatives):
            return node
        base = {k: v for k, v in node.items() if k not in ("oneOf", "anyOf", "discriminator")}
        merged = self.merge_alternatives([self.flatten(alt, stack) for alt in alternatives])
        result = self.merge_parts([self.flatten(base, stack), merged])
        result["type"] = "object"
        return result

    def is_object(self, node: Schema, stack: frozenset[str]) -> bool:
        if "$ref" in node:
            name = ref_name(node["$ref"])
            target = self.source[name] if name in stack else self.named(name, stack)
            return self.is_object(target, stack | {name})
        if node.get("type") == "object" or "properties" in node:
            return True
        if "allOf" in node:
            return any(self.is_object(part, stack) for part in node["allOf"])
        # An alternative that only lists required keys ({required: [flow_id]}).
        return "required" in node and "type" not in node

    def flatten(self, node: Schema, stack: frozenset[str]) -> Schema:
        """Resolve a reference and merge ``allOf`` parts into one plain object schema."""
        if "$ref" in node:
            name = ref_name(node["$ref"])
            target = _without_union(self.source[name]) if name in stack else self.named(name, stack)
            return self.flatten(target, stack | {name})
        parts = [self.flatten(part, stack) for part in node.get("allOf", [])]
        own = {k: v for k, v in node.items() if k != "allOf"}
        return self.merge_parts([*parts, own]) if parts else own

    def merge_parts(self, parts: list[Schema]) -> Schema:
        """allOf semantics: every part applies; a later definition of a property wins."""
        out: Schema = {}
        properties: Schema = {}
        required: list[str] = []
        for part in parts:
            for key, value in part.items():
                if key == "properties":
                    properties.update(value)
                elif key == "required":
                    required += [name for name in value if name not in required]
                else:
                    out[key] = value
        if properties:
            out["properties"] = properties
        if required:
            out["required"] = required
        return out

    def merge_alternatives(self, alternatives: list[Schema]) -> Schema:
        """oneOf semantics folded: any alternative's property may appear."""
        properties: Schema = {}
        for alt in alternatives:
            for name, sub in alt.get("properties", {}).items():
                properties[name] = (
                    self.merge_property(properties[name], sub) if name in properties else sub
                )
        required_sets = [alt.get("required", []) for alt in alternatives]
        required = [name for name in required_sets[0] if all(name in r for r in required_sets)]
        out: Schema = {"type": "object"}
        if properties:
            out["properties"] = properties
        if required:
            out["required"] = required
        extras = [alt.get("additionalProperties") for alt in alternatives]
        if all(extra is False for extra in extras):
            out["additionalProperties"] = False
        elif any(extra is True for extra in extras):
            out["additionalProperties"] = True
        return out

    def merge_property(self, a: Schema, b: Schema) -> Schema:
        if a == b:
            return a
        flat_a, flat_b = self.flatten(a, frozenset()), self.flatten(b, frozenset())
        if _is_plain_object(flat_a) and _is_plain_object(flat_b):
            # Prefer a named schema that already covers the other side's properties.
            if _covers(flat_a, flat_b):
                return a
            if _covers(flat_b, flat_a):
                return b
            return self.merge_alternatives([flat_a, flat_b])
        if flat_a.get("type") == "array" and flat_b.get("type") == "array":
            items = self.merge_property(flat_a.get("items", {}), flat_b.get("items", {}))
            return {**flat_a, "items": items}
        if _is_scalar(flat_a) and _is_scalar(flat_b):
            # Accept what either side accepts: all types, and only shared constraints.
            types = sorted(set(_types(flat_a)) | set(_types(flat_b)), key=_TYPE_ORDER.index)
            shared = {k: v for k, v in flat_a.items() if k != "type" and flat_b.get(k) == v}
            return {**shared, "type": types[0] if len(types) == 1 else types}
        return {"anyOf": [a, b]}


_TYPE_ORDER = ["string", "integer", "number", "boolean", "null"]


def _types(schema: Schema) -> list[str]:
    kind = schema["type"]
    return list(kind) if isinstance(kind, list) else [kind]


def _is_scalar(schema: Schema) -> bool:
    return "type" in schema and all(kind in _TYPE_ORDER for kind in _types(schema))


def _without_union(schema: Schema) -> Schema:
    return {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", "discriminator")}


def _is_plain_object(schema: Schema) -> bool:
    return schema.get("type") == "object" or "properties" in schema


def _covers(wide: Schema, narrow: Schema) -> bool:
    wide_props = wide.get("properties", {})
    return all(wide_props.get(name) == sub for name, sub in narrow.get("properties", {}).items())


# --------------------------------------------------------------------------- extra keys


def _is_record(node: Schema) -> bool:
    return "properties" in node


def open_records(schemas: Mapping[str, Schema]) -> Schemas:
    """Records that do not forbid extra keys keep them (``extra="allow"``).

    A gateway passes payloads through: a key pydantic silently dropped (its default)
    would be a key Meta never receives.
    """

    def allow(node: Schema) -> Schema:
        if _is_record(node) and "additionalProperties" not in node:
            return {**node, "additionalProperties": True}
        return node

    return _rewrite(schemas, allow)


def make_tolerant(schemas: Mapping[str, Schema]) -> Schemas:
    """Every record keeps unknown keys and requires nothing; constraints are dropped.

    For webhooks: Meta adds fields, drops fields it once sent (phone numbers of
    username-only users) and sends values its own spec does not allow; the receiver must
    keep all of it rather than refuse a batch.
    """

    def loosen(node: Schema) -> Schema:
        out = {
            key: value
            for key, value in node.items()
            if key not in _CONSTRAINTS and key != "required"
        }
        if _is_record(out) and not isinstance(out.get("additionalProperties"), dict):
            out["additionalProperties"] = True
        return out

    return _rewrite(schemas, loosen)


# --------------------------------------------------------------------------- names


def drop_merge_suffixes(schemas: Mapping[str, Schema]) -> Schemas:
    """Rename ``Name_1`` to ``Name`` when no ``Name`` is in this slice of the spec.

    The suffixes come from merging per-topic files into one spec; within one generated
    module they only make class names worse.
    """
    renames: dict[str, str] = {}
    for name in schemas:
        base, sep, suffix = name.rpartition("_")
        if sep and suffix.isdigit() and base not in schemas and base not in renames.values():
            renames[name] = base

    def rename(node: Any) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "$ref" and ref_name(value) in renames:
                    out[key] = REF_PREFIX + renames[ref_name(value)]
                elif key == "mapping":
                    out[key] = {
                        tag: REF_PREFIX + renames.get(ref_name(target), ref_name(target))
                        for tag, target in value.items()
                    }
                else:
                    out[key] = rename(value)
            return out
        if isinstance(node, list):
            return [rename(item) for item in node]
        return node

    return {renames.get(name, name): rename(schema) for name, schema in sorted(schemas.items())}
