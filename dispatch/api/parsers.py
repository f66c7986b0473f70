"""The API's JSON parser: DRF's, with a bound on nesting.

Issue 19: a body nested 1,000 deep made Python's decoder raise RecursionError, which DRF does
not catch: an HTML 500 from every JSON endpoint, the token endpoint included. No body of ours
nests more than a few levels, so anything past MAX_JSON_DEPTH is refused as bad input (400)
before a serializer, the error handler or the renderer has to walk it.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32
TOO_DEEP = (
    f"The JSON body is nested too deeply: at most {MAX_JSON_DEPTH} levels of objects and "
    "arrays are accepted. Send a flatter body."
)


def _depth(value: Any) -> int:
    """How deeply `value` nests, without recursion (the point is not to recurse)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if _depth(data) > MAX_JSON_DEPTH:
            raise ParseError(TOO_DEEP)
        return data
