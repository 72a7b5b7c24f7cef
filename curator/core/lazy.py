"""Packages whose names are imported from their modules on first use (PEP 562).

`curator.core.analysis` and `curator.core.media` gather names from modules that load OpenCV
and PyAV (0.3 s together). A command that only needs a rule or a frame count (`curator
stats`) must not pay for them, so those packages resolve a name when someone asks for it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, modules: dict[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: each name of `modules[m]` comes from `package.m`.

    The first lookup imports the module and stores the name on the package, so later ones
    are plain attribute reads.
    """
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:  # noqa: N807 - the name PEP 562 looks up
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
