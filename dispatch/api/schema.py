"""Schema post-processing: document the error answers every operation can give.

Found by fuzzing the API against its own schema (tests/api_fuzz/): list, read and write operations
answered 400/403/404 that the schema never mentioned, so a client generated from it had no
type for them. Every operation can refuse a signed-out or role-less caller (403); one with an
id in its path can miss (404), as can a list asked for a page past its end; one with a body or
query filters can refuse bad input (400); one with a body can refuse a body whose type it cannot
read (415: a fuzzed multipart request once reached the app without its Content-Type); a write
can collide with a unique rule (409). All share the one error shape of dispatch/api/errors.py.
Inputs that refuse unknown keys are marked `additionalProperties: false`, as they behave.
"""

from __future__ import annotations

from typing import Any

from dispatch.api.common import StrictInputSerializer
from dispatch.selectors import TECHNICIAN_LOCATION_FIELDS

ERROR_REF = {"$ref": "#/components/schemas/Error"}
DESCRIPTIONS = {
    "400": "Bad input; `detail` says what to fix, `field` names the culprit, `errors` has all.",
    "403": "Not signed in, or not allowed for your role.",
    "404": "No such object within your reach (or a page past the end of a list).",
    "415": "The body's Content-Type is not one the operation reads (JSON, form or multipart), "
    "or is missing.",
    "409": "Conflicts with a record that exists (a duplicate code or name, a user already on "
    "the roster), or with a newer version.",
}
PUBLIC_OPERATIONS = {"v1_auth_token_create"}
WRITES = {"post", "put", "patch"}


def document_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            for code in _error_codes(path, method, operation):
                operation["responses"].setdefault(code, _error_response(code))
            _allow_empty_filters(operation)
    components = result.get("components", {}).get("schemas", {})
    _close_strict_inputs(components)
    _refuse_nul_in_text(components)
    _hidden_location_is_null(components)
    _tracking_url_is_optional(components)
    return result


def _tracking_url_is_optional(components: dict[str, Any]) -> None:
    """A call's `tracking_url` is left out for technicians (it opens the customer's page
    without a login: office staff only), so no schema may call it required (issue 19)."""
    for component in components.values():
        if "tracking_url" in component.get("properties", {}):
            required = [name for name in component.get("required", []) if name != "tracking_url"]
            if required:
                component["required"] = required
            else:
                component.pop("required", None)


LOCATION_HIDDEN = (
    "Null unless you may see where this technician is: the technician themselves, a "
    "dispatcher of their team, or a manager."
)


def _hidden_location_is_null(components: dict[str, Any]) -> None:
    """A technician as read (not as written) answers its location as null to most readers
    (selectors.technician_fields_hidden_from); the schema says so."""
    properties = components.get("Technician", {}).get("properties", {})
    for name in TECHNICIAN_LOCATION_FIELDS & set(properties):
        properties[name]["nullable"] = True
        properties[name]["description"] = LOCATION_HIDDEN


NO_NUL = "^[^\\u0000]*$"


def _refuse_nul_in_text(components: dict[str, Any]) -> None:
    """Text inputs say what DRF enforces: no NUL character (PostgreSQL text cannot hold one)."""
    for name, component in components.items():
        if not name.endswith("Request"):
            continue
        for prop in component.get("properties", {}).values():
            if prop.get("type") == "string" and not {"enum", "pattern", "format"} & set(prop):
                prop["pattern"] = NO_NUL


def _close_strict_inputs(components: dict[str, Any]) -> None:
    """Inputs that refuse unknown keys (StrictInputSerializer) say so in the schema."""
    for cls in _subclasses(StrictInputSerializer):
        name = cls.__name__.removesuffix("Serializer")
        for component in (f"{name}Request", f"Patched{name}Request"):
            if component in components:
                components[component]["additionalProperties"] = False


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _allow_empty_filters(operation: dict[str, Any]) -> None:
    """A blank filter (`?day=&reason=`) means "no filter", as django-filter treats it; say so."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter["name"] not in ("page", "page_size"):
            parameter["allowEmptyValue"] = True


def _error_codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    params = {p.get("in") for p in operation.get("parameters", [])}
    query_names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    codes = []
    if "requestBody" in operation or "query" in params:
        codes.append("400")
    if "requestBody" in operation:
        codes.append("415")  # DRF's answer to a body it has no parser for
    if operation.get("operationId") not in PUBLIC_OPERATIONS:
        codes.append("403")
    if "{" in path or "page" in query_names:
        codes.append("404")
    if method in WRITES and operation.get("operationId") not in PUBLIC_OPERATIONS:
        codes.append("409")  # a unique rule the database enforces (dispatch/api/errors.py)
    return codes


def _error_response(code: str) -> dict[str, Any]:
    return {
        "content": {"application/json": {"schema": ERROR_REF}},
        "description": DESCRIPTIONS[code],
    }
