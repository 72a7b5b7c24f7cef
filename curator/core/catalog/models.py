"""SQLAlchemy models of the catalog: what Curator knows about every file, clip and caption.

The schema itself is owned by the migrations in `migrations/versions`; these models mirror the
newest revision, and a test checks that they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class FileOnDisk:
    """The columns of a file Curator reads (sources and stills): where it is, and what tells a
    rescan that it changed (size, mtime) or only moved (the same content hash)."""

    path: Mapped[str] = mapped_column(Text, unique=True)
    size: Mapped[int] = mapped_column(Integer)
    mtime: Mapped[float] = mapped_column(Float)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)


class Source(FileOnDisk, Base):
    """One media file on disk with the facts probed from it (frame count decoded, not trusted)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    container: Mapped[str] = mapped_column(String(64), default="")
    codec: Mapped[str] = mapped_column(String(64), default="")
    fps_num: Mapped[int] = mapped_column(Integer)
    fps_den: Mapped[int] = mapped_column(Integer)
    frame_count: Mapped[int] = mapped_column(Integer)
    header_frame_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    duration: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | partial | missing
    warnings: Mapped[list | None] = mapped_column(JSON, nullable=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    probed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Clip(Base):
    """A frame range [start_frame, end_frame) of a source: ingest never re-encodes."""

    __tablename__ = "clips"
    __table_args__ = (
        Index("ix_clips_decision_id", "decision", "id"),
        Index("ix_clips_source_start", "source_id", "start_frame"),
        Index("ix_clips_duration", "duration"),
        Index("ix_clips_motion", "motion"),
        # revision 0003: a status filter plus any sort is one index walk
        Index("ix_clips_decision_duration", "decision", "duration"),
        Index("ix_clips_decision_motion", "decision", "motion"),
        Index("ix_clips_decision_source", "decision", "source_id", "start_frame"),
        # revision 0005: the statistics' groupings walk an index (and two expression indexes,
        # the caption's word count and its first 40 characters, see the migration)
        Index("ix_clips_motion_p95", "motion_p95"),
        Index("ix_clips_text_share", "text_share"),
        Index("ix_clips_decision_reason", "decision", "reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    start_frame: Mapped[int] = mapped_column(Integer)
    end_frame: Mapped[int] = mapped_column(Integer)
    # Derived from the range and the source, but stored so SQL can filter and sort on an index.
    frames: Mapped[int] = mapped_column(Integer)
    fps: Mapped[float] = mapped_column(Float)
    duration: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(16), nullable=True)  # person | rule
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    caption: Mapped[str | None] = mapped_column(Text, nullable=True)
    caption_origin: Mapped[str | None] = mapped_column(Text, nullable=True)
    caption_is_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("clips.id", ondelete="SET NULL"), nullable=True
    )
    tags: Mapped[list | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # revision 0002: analysis
    motion: Mapped[float | None] = mapped_column(Float, nullable=True)
    motion_p95: Mapped[float | None] = mapped_column(Float, nullable=True)
    cuts: Mapped[int | None] = mapped_column(Integer, nullable=True)
    analysis: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    analyzed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # revision 0004: share of sampled frames with overlay text; the export crop in source px
    # (NULL = the measured letterbox crop, [x, y, w, h] = set by a person, [] = keep all)
    text_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    crop: Mapped[list | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class Image(FileOnDisk, Base):
    """A still (screenshot) with its size, decision and current caption."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    caption: Mapped[str | None] = mapped_column(Text, nullable=True)
    caption_origin: Mapped[str | None] = mapped_column(Text, nullable=True)
    caption_is_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    crop: Mapped[list | None] = mapped_column(JSON, nullable=True)  # [x, y, w, h] in source pixels
    tags: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # revision 0004: the text check of a still (1.0 = holds overlay text) and its details
    text_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    analysis: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Caption(Base):
    """One version of a clip's or an image's caption; the newest is mirrored on the clip/image."""

    __tablename__ = "captions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int | None] = mapped_column(
        ForeignKey("clips.id", ondelete="CASCADE"), nullable=True, index=True
    )
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), nullable=True, index=True
    )
    text: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(Text)  # "manual" or a model id
    is_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    prompt_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    settings: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """A long run (ingest, analyze, caption, export, train) and how it ended."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    return_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    log: Mapped[str | None] = mapped_column(Text, nullable=True)


class SettingsRow(Base):
    """The project's settings: one typed, versioned JSON object (see settings.py)."""

    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schema_version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
