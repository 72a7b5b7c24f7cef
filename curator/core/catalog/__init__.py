"""The catalog: SQLAlchemy models, the `Catalog` facade, migrations and named queries."""

from .catalog import DB_FILENAME, Catalog, CatalogError, head_revision
from .rows import (
    DECISIONS,
    CaptionRow,
    ClipRow,
    DecisionChange,
    DecisionSwap,
    ImageRow,
    JobRow,
    SourceRow,
)
from .settings import ProjectSettings

__all__ = [
    "DB_FILENAME", "DECISIONS", "CaptionRow", "Catalog", "CatalogError", "ClipRow",
    "DecisionChange", "DecisionSwap", "ImageRow", "JobRow", "ProjectSettings", "SourceRow", "head_revision",
]
