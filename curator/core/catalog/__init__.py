"""The catalog: SQLAlchemy models, the `Catalog` facade, migrations and named queries."""

from . import rows
from .catalog import DB_FILENAME, Catalog, CatalogError, head_revision
from .rows import *  # noqa: F403 - every row type: the list stands once, in `rows.__all__`
from .settings import ProjectSettings

__all__ = ["DB_FILENAME", "Catalog", "CatalogError", "ProjectSettings", "head_revision"]
__all__ += rows.__all__
