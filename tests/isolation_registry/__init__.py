"""Per-feature additions to the cross-organization sweep (tests/test_isolation.py).

Each module here may define:

- ``KWARGS_FROM``: ``{"namespace:url-name": lambda o: {...}}``, exactly like the table in
  test_isolation.py, reading its objects from ``o.extra[...]``;
- ``populate(o)``: called inside ``tenant_context(o.org)`` after the base objects exist;
  returns a dict merged into ``o.extra`` (create the feature's objects through services).

One module per feature keeps parallel work from editing the same table.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import Any


def modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    ]


def kwargs_from() -> dict[str, Callable[[Any], dict[str, Any]]]:
    merged: dict[str, Callable[[Any], dict[str, Any]]] = {}
    for module in modules():
        for name, fill in getattr(module, "KWARGS_FROM", {}).items():
            assert name not in merged, f"{name} is registered twice"
            merged[name] = fill
    return merged


def populate_all(objects: Any) -> None:
    for module in modules():
        populate = getattr(module, "populate", None)
        if populate is not None:
            objects.extra.update(populate(objects) or {})
