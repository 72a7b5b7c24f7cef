"""Clip analysis columns, caption full-text search and kept-up-to-date counters.

Revision ID: 0002

The counters exist so the GUI shows pending/accepted/rejected/captioned at 1M clips without a
COUNT(*) on every repaint: on SQLite, triggers keep them; elsewhere `Catalog.counts()` groups.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COUNTER_TRIGGERS = """
CREATE TRIGGER clips_count_ins AFTER INSERT ON clips BEGIN
  UPDATE counters SET value = value + 1 WHERE name = NEW.decision OR name = 'total'
    OR (name = 'captioned' AND coalesce(NEW.caption, '') != '');
END;
CREATE TRIGGER clips_count_del AFTER DELETE ON clips BEGIN
  UPDATE counters SET value = value - 1 WHERE name = OLD.decision OR name = 'total'
    OR (name = 'captioned' AND coalesce(OLD.caption, '') != '');
END;
CREATE TRIGGER clips_count_upd AFTER UPDATE OF decision, caption ON clips BEGIN
  UPDATE counters SET value = value - 1 WHERE name = OLD.decision
    OR (name = 'captioned' AND coalesce(OLD.caption, '') != '');
  UPDATE counters SET value = value + 1 WHERE name = NEW.decision
    OR (name = 'captioned' AND coalesce(NEW.caption, '') != '');
END;
"""

_FTS = """
CREATE VIRTUAL TABLE clip_fts USING fts5(caption, content='clips', content_rowid='id');
CREATE TRIGGER clips_fts_ins AFTER INSERT ON clips WHEN NEW.caption IS NOT NULL BEGIN
  INSERT INTO clip_fts(rowid, caption) VALUES (NEW.id, NEW.caption);
END;
CREATE TRIGGER clips_fts_del AFTER DELETE ON clips WHEN OLD.caption IS NOT NULL BEGIN
  INSERT INTO clip_fts(clip_fts, rowid, caption) VALUES ('delete', OLD.id, OLD.caption);
END;
CREATE TRIGGER clips_fts_upd AFTER UPDATE OF caption ON clips BEGIN
  INSERT INTO clip_fts(clip_fts, rowid, caption)
    SELECT 'delete', OLD.id, OLD.caption WHERE OLD.caption IS NOT NULL;
  INSERT INTO clip_fts(rowid, caption) SELECT NEW.id, NEW.caption WHERE NEW.caption IS NOT NULL;
END;
"""


def _statements(script: str) -> list[str]:
    # Trigger bodies hold ';' too, so split where each statement begins.
    return ["CREATE " + part.strip() for part in re.split(r"^CREATE ", script, flags=re.M)
            if part.strip()]


def upgrade() -> None:
    with op.batch_alter_table("clips") as batch:
        batch.add_column(sa.Column("motion", sa.Float))
        batch.add_column(sa.Column("motion_p95", sa.Float))
        batch.add_column(sa.Column("cuts", sa.Integer))
        batch.add_column(sa.Column("analysis", sa.JSON))
        batch.add_column(sa.Column("analyzed_at", sa.DateTime(timezone=True)))
    op.create_index("ix_clips_motion", "clips", ["motion"])
    op.create_table(
        "counters",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    op.execute(
        "INSERT INTO counters(name, value) "
        "SELECT 'pending', count(*) FROM clips WHERE decision = 'pending' UNION ALL "
        "SELECT 'accepted', count(*) FROM clips WHERE decision = 'accepted' UNION ALL "
        "SELECT 'rejected', count(*) FROM clips WHERE decision = 'rejected' UNION ALL "
        "SELECT 'captioned', count(*) FROM clips WHERE coalesce(caption, '') != '' UNION ALL "
        "SELECT 'total', count(*) FROM clips"
    )
    for statement in _statements(_COUNTER_TRIGGERS) + _statements(_FTS):
        op.execute(statement)
    op.execute("INSERT INTO clip_fts(clip_fts) VALUES ('rebuild')")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("clips_count_ins", "clips_count_del", "clips_count_upd",
                        "clips_fts_ins", "clips_fts_del", "clips_fts_upd"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS clip_fts")
    op.drop_table("counters")
    op.drop_index("ix_clips_motion", "clips")
    with op.batch_alter_table("clips") as batch:
        for column in ("analyzed_at", "analysis", "cuts", "motion_p95", "motion"):
            batch.drop_column(column)
