"""The API's shared vocabulary, written into its document once: every request parameter or body
field named ``region``, ``parent``, ``region_code`` or ``county_code`` (and a region's own path
``{code}``) is a region code, every ``month`` a month, every ``cursor`` a page cursor. The routes
parse them with one parser each (``regions.parse_code``, ``months.parse_month``, the pagination
cursor); this puts the same rule in the document, so a client — and the fuzzer — knows what is
valid before it asks. Applied to requests only: answers are described by their read models.
"""

from __future__ import annotations

from typing import Any

from services.common.months import MONTH_PATTERN
from services.common.regions import CODE_PATTERN

REGION_NAMES = frozenset({"region", "parent", "region_code", "county_code"})
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"  # what next_cursor holds: URL-safe base64, unpadded
MONTH_NAMES = frozenset({"month", "from", "to", "as_of"})  # only where the value is a plain string
_METHODS = ("get", "put", "post", "patch", "delete")


def _shape(name: str, schema: dict[str, Any], *, region_path: bool = False, blank_ok: bool = False) -> None:
    """Add the pattern ``name`` implies to a string schema (or to the string branch of a nullable).
    ``blank_ok``: an optional query parameter, where the routes read an empty value as not given."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") != "string" or "format" in branch or "enum" in branch:
            continue
        if name in REGION_NAMES or (region_path and name == "code"):
            branch["pattern"] = CODE_PATTERN
        elif name in MONTH_NAMES:
            branch["pattern"] = f"^$|{MONTH_PATTERN}" if blank_ok else MONTH_PATTERN
        elif name == "cursor":
            branch["pattern"] = CURSOR_PATTERN if blank_ok else CURSOR_PATTERN.replace("*", "+")


def _request_schemas(doc: dict[str, Any]) -> set[str]:
    """Names of the component schemas a request body can reach."""
    components = doc.get("components", {}).get("schemas", {})
    todo = [
        media["schema"]
        for item in doc.get("paths", {}).values()
        for method, op in item.items()
        if method in _METHODS
        for media in op.get("requestBody", {}).get("content", {}).values()
        if "schema" in media
    ]
    seen: set[str] = set()
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in seen and name in components:
                    seen.add(name)
                    todo.append(components[name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return seen


def describe(doc: dict[str, Any]) -> dict[str, Any]:
    """Rewrite ``doc`` in place with the patterns of the shared vocabulary."""
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            for param in op.get("parameters", []):
                region_path = param.get("in") == "path" and path.startswith("/api/v1/regions/")
                blank_ok = param.get("in") == "query" and not param.get("required", False)
                _shape(param["name"], param.get("schema", {}), region_path=region_path, blank_ok=blank_ok)
    components = doc.get("components", {}).get("schemas", {})
    for name in _request_schemas(doc):
        for prop, schema in components[name].get("properties", {}).items():
            _shape(prop, schema, region_path=name == "RegionCreate")
        _closed_maps(components[name])
    return doc


def _closed_maps(node: Any) -> None:
    """A map keyed by a pattern (``factor_values``: unit code → figures) takes no other keys — the
    validator refuses them — so the document says so: ``patternProperties`` alone would admit any."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _closed_maps(value)
    elif isinstance(node, list):
        for value in node:
            _closed_maps(value)
