"""Alembic migrations of the catalog (versions/), run by `Catalog.migrate`."""

#: The newest revision in versions/. `Catalog` compares a catalog's stamp with it before
#: loading alembic at all (tests/core/test_catalog.py checks it against alembic's own head).
HEAD_REVISION = "0005"
