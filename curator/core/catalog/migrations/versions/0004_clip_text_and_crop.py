"""Burned-in text share and a per-clip crop.

Revision ID: 0004

`clips.text_share` is the share of a clip's sampled frames that hold overlay text (subtitles,
credits, a watermark): a column so the browser can filter on it and a rule can reject on it
without reading every clip's analysis JSON.

`clips.crop` is the crop applied when the clip is exported, in source pixels:
- NULL: no one set it; export uses the measured letterbox/pillarbox crop
  (`analysis.borders.crop`) when there is one, else the whole frame;
- `[x, y, w, h]`: set by a person (`curator crop`, the window);
- `[]`: a person said "no crop": export keeps the whole frame even when bars were measured.

Images (stills) get the same text check: `images.text_share` (1.0 or 0.0: one frame) and
`images.analysis` (`{"text": {...}}`, the same shape as a clip's `analysis.text`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clips") as batch:
        batch.add_column(sa.Column("text_share", sa.Float, nullable=True))
        batch.add_column(sa.Column("crop", sa.JSON, nullable=True))
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("text_share", sa.Float, nullable=True))
        batch.add_column(sa.Column("analysis", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_column("analysis")
        batch.drop_column("text_share")
    with op.batch_alter_table("clips") as batch:
        batch.drop_column("crop")
        batch.drop_column("text_share")
