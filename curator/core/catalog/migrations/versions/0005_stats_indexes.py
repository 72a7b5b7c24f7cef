"""Indexes for the dataset's statistics (`curator stats`, the Stats view) at 1M clips.

Revision ID: 0005

Every histogram is a GROUP BY; without an index on the grouped value SQLite scans the table
(its rows hold the captions and the analysis JSON: 300 MB at 1M clips) and sorts a million
keys, 0.3–0.8 s a figure. With one, the grouping walks the index in order and sorts nothing:

- `motion_p95`, `text_share`: the thresholds of the "too dynamic" and "holds text" rules;
- `(decision, reason)`: the rejected clips' reasons, without visiting the other rows;
- the caption's word count (spaces + 1, NULL without a caption), an expression index: the
  caption-length histogram reads the index, not 400,000 captions;
- the caption's first 40 characters: the captions that do not begin with the trigger phrase
  are the two ranges of this index either side of it, a few rows instead of every caption.

The expressions are written as curator/core/stats/captions.py queries them: an index on an
expression serves only a query that spells the same expression (tests check the plans).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_clips_motion_p95": ["motion_p95"],
    "ix_clips_text_share": ["text_share"],
    "ix_clips_decision_reason": ["decision", "reason"],
    "ix_clips_caption_words": [sa.text(
        "(CASE WHEN caption IS NOT NULL AND caption != '' THEN length(trim(caption)) - "
        "length(replace(trim(caption), ' ', '')) + 1 END)")],
    "ix_clips_caption_head": [sa.text("(substr(caption, 1, 40))")],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "clips", columns)


def downgrade() -> None:
    for name in reversed(INDEXES):  # the newest first, as they were made
        op.drop_index(name, table_name="clips")
