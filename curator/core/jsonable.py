"""`fields_json`: the plain part of a `to_json`, each attribute under its own name."""

from __future__ import annotations

from typing import Any


def fields_json(obj: object, *names: str) -> dict[str, Any]:
    """`{name: obj.<name>}` for each name, in this order.

    A `to_json` splices it in (`{**fields_json(self, "a", "b"), "c": ...}`) and writes out only
    what it renames or converts, so each plain field is named once.
    """
    return {name: getattr(obj, name) for name in names}
