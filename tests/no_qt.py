"""A pytest plugin that makes Qt unimportable: `pytest -p tests.no_qt -p no:pytest-qt tests/core
tests/cli` proves the core and the CLI run where PySide6 is not installed (a server, CI)."""

from __future__ import annotations

import importlib.abc
import sys

BLOCKED = ("PySide6", "shiboken6", "pyqtgraph")


class _NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname.split(".")[0] in BLOCKED:
            raise ImportError(f"{fullname} is blocked: this run checks that nothing here needs Qt")
        return None


# Installed as the plugin loads, before any conftest, so nothing collected can reach Qt.
_loaded = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
if _loaded:
    raise RuntimeError(f"Qt was imported before the block took effect: {_loaded}")
sys.meta_path.insert(0, _NoQt())
