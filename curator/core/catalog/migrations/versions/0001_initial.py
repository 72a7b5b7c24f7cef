"""The first release: sources, clips, images, versioned captions, jobs, settings.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.Text, nullable=False, unique=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("mtime", sa.Float, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False, index=True),
        sa.Column("container", sa.String(64), nullable=False),
        sa.Column("codec", sa.String(64), nullable=False),
        sa.Column("fps_num", sa.Integer, nullable=False),
        sa.Column("fps_den", sa.Integer, nullable=False),
        sa.Column("frame_count", sa.Integer, nullable=False),
        sa.Column("header_frame_count", sa.Integer),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("warnings", sa.JSON),
        _ts("added_at"),
        _ts("probed_at"),
    )
    op.create_table(
        "clips",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("start_frame", sa.Integer, nullable=False),
        sa.Column("end_frame", sa.Integer, nullable=False),
        sa.Column("frames", sa.Integer, nullable=False),
        sa.Column("fps", sa.Float, nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("decided_by", sa.String(16)),
        _ts("decided_at", nullable=True),
        sa.Column("caption", sa.Text),
        sa.Column("caption_origin", sa.Text),
        sa.Column("caption_is_manual", sa.Boolean, nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("clips.id", ondelete="SET NULL")),
        sa.Column("tags", sa.JSON),
        _ts("created_at"),
    )
    op.create_index("ix_clips_decision_id", "clips", ["decision", "id"])
    op.create_index("ix_clips_source_start", "clips", ["source_id", "start_frame"])
    op.create_index("ix_clips_duration", "clips", ["duration"])
    op.create_table(
        "images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.Text, nullable=False, unique=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("mtime", sa.Float, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False, index=True),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False, index=True),
        sa.Column("reason", sa.Text),
        sa.Column("decided_by", sa.String(16)),
        _ts("decided_at", nullable=True),
        sa.Column("caption", sa.Text),
        sa.Column("caption_origin", sa.Text),
        sa.Column("caption_is_manual", sa.Boolean, nullable=False),
        sa.Column("crop", sa.JSON),
        sa.Column("tags", sa.JSON),
        _ts("created_at"),
    )
    op.create_table(
        "captions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("clip_id", sa.Integer, sa.ForeignKey("clips.id", ondelete="CASCADE"), index=True),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"),
                  index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("is_manual", sa.Boolean, nullable=False),
        sa.Column("prompt_hash", sa.String(64)),
        sa.Column("settings", sa.JSON),
        _ts("created_at"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("params", sa.JSON),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer),
        _ts("started_at"),
        _ts("ended_at", nullable=True),
        sa.Column("return_code", sa.Integer),
        sa.Column("result", sa.JSON),
        sa.Column("log", sa.Text),
    )
    op.create_table(
        "settings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("settings", "jobs", "captions", "images", "clips", "sources"):
        op.drop_table(table)
