"""The packages that load their names on first use (core/lazy.py) give the same objects as the
modules they come from, whatever was imported before."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

LAZY = ["curator.core.analysis", "curator.core.media", "curator.core.export"]


@pytest.mark.parametrize("package", LAZY)
def test_no_lazy_name_is_also_a_submodule(package: str) -> None:
    """Importing a submodule binds its name on the package: a lazy name equal to a submodule
    would then be the module, not the function (`media.probe` once was)."""
    module = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    assert set(module.__all__) & submodules == set()


@pytest.mark.parametrize("package", LAZY)
def test_every_lazy_name_resolves_after_its_submodules_were_imported_directly(
        package: str) -> None:
    code = (f"import importlib, pkgutil, {package} as p\n"
            "for info in pkgutil.iter_modules(p.__path__):\n"
            "    importlib.import_module(p.__name__ + '.' + info.name)\n"
            "bad = [n for n in p.__all__ if type(getattr(p, n)).__name__ == 'module']\n"
            "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
