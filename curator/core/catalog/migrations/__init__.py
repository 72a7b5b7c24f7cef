"""Alembic migrations of the catalog (versions/), run by `Catalog.migrate`."""

from pathlib import Path

#: The newest revision in versions/ (files are named by their four-digit revision id).
#: `Catalog` compares a catalog's stamp with it before loading alembic at all
#: (tests/core/test_catalog.py checks it against alembic's own head).
HEAD_REVISION = max(path.name[:4] for path in (Path(__file__).parent / "versions").glob(
    "[0-9][0-9][0-9][0-9]_*.py"))
