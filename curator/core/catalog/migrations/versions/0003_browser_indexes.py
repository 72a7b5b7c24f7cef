"""Indexes for the clip browser: a status tab combined with any sort walks one index.

Revision ID: 0003

The browser's most common query is one status (pending / accepted / rejected) in some order.
With only single-column indexes, SQLite either walks the sort index and checks each row's
status, or finds the status rows and sorts them all; at 30,000 clips that was 25-40 ms per
page and count, at 1,000,000 up to 200 ms. A (decision, key) index serves both the filter and
the order (SQLite appends the rowid, so the id tiebreak of keyset paging is free), and makes
the count of a status + range filter an index-only scan.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_clips_decision_duration": ["decision", "duration"],
    "ix_clips_decision_motion": ["decision", "motion"],
    "ix_clips_decision_source": ["decision", "source_id", "start_frame"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "clips", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, "clips")
