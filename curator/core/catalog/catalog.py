"""`Catalog`: the engine, sessions and the intent-named operations every layer calls."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from .models import Caption, Clip, Image, Job, SettingsRow, Source
from .rows import DECISIONS, CaptionRow, ClipRow, DecisionChange, ImageRow, JobRow, SourceRow
from .settings import SETTINGS_SCHEMA_VERSION, ProjectSettings

DB_FILENAME = "curator.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class CatalogError(Exception):
    """A catalog operation that cannot be done, said in words a person understands."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def alembic_config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


class Catalog:
    """Owns the engine and a sessionmaker; one `session()` is one unit of work on one thread."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            # Workers on other threads open their own sessions; SQLite's check is per-connection.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    @classmethod
    def for_project(cls, root: Path) -> Catalog:
        """The catalog of a project folder: `CURATOR_DB_URL` if set, else SQLite inside it."""
        url = os.environ.get("CURATOR_DB_URL")
        if not url:
            root.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{(root / DB_FILENAME).resolve()}"
        return cls(url)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to `revision`; an old catalog is upgraded in place, data kept."""
        with self.engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)

    def schema_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # --- sources -------------------------------------------------------------------------

    def find_source(self, *, path: Path | None = None, content_hash: str | None = None
                    ) -> SourceRow | None:
        with self.session() as s:
            query = select(Source)
            if path is not None:
                query = query.where(Source.path == str(path))
            if content_hash is not None:
                query = query.where(Source.content_hash == content_hash)
            source = s.scalars(query.order_by(Source.id).limit(1)).first()
            return _source_row(source) if source else None

    def get_source(self, source_id: int) -> SourceRow:
        with self.session() as s:
            source = s.get(Source, source_id)
            if source is None:
                raise CatalogError(f"no source with id {source_id}")
            return _source_row(source)

    def list_sources(self) -> list[SourceRow]:
        with self.session() as s:
            return [_source_row(src) for src in s.scalars(select(Source).order_by(Source.id))]

    def upsert_source(self, *, path: Path, size: int, mtime: float, content_hash: str,
                      container: str, codec: str, fps: Fraction, frame_count: int,
                      header_frame_count: int | None, width: int, height: int, duration: float,
                      status: str = "ok", warnings: Sequence[str] = (),
                      source_id: int | None = None,
                      clip_ranges: Sequence[tuple[int, int]] | None = None,
                      ) -> tuple[int, list[int]]:
        """Insert or update a source and, if given, its clips, in one transaction.

        Clips whose range is unchanged keep their decision, caption and analysis; clips whose
        range vanished are removed; new ranges are added as pending clips.

        Returns:
            The source id and the ids of the clips that were created.
        """
        with self.session() as s:
            source = s.get(Source, source_id) if source_id else None
            if source is None:
                source = s.scalars(select(Source).where(Source.path == str(path))).first()
            if source is None:
                source = Source(path=str(path), added_at=_now())
                s.add(source)
            source.path = str(path)
            source.size, source.mtime, source.content_hash = size, mtime, content_hash
            source.container, source.codec = container, codec
            source.fps_num, source.fps_den = fps.numerator, fps.denominator
            source.frame_count, source.header_frame_count = frame_count, header_frame_count
            source.width, source.height, source.duration = width, height, duration
            source.status, source.warnings = status, list(warnings)
            source.probed_at = _now()
            s.flush()
            created: list[int] = []
            if clip_ranges is not None:
                created = _replace_clips(s, source, clip_ranges)
            return source.id, created

    def move_source(self, source_id: int, new_path: Path, mtime: float) -> None:
        with self.session() as s:
            source = s.get(Source, source_id)
            if source is None:
                raise CatalogError(f"no source with id {source_id}")
            source.path, source.mtime, source.status = str(new_path), mtime, "ok"


    # --- clips ---------------------------------------------------------------------------

    def get_clip(self, clip_id: int) -> ClipRow:
        rows = self.list_clips(ids=[clip_id])
        if not rows:
            raise CatalogError(f"no clip with id {clip_id}")
        return rows[0]

    def list_clips(self, *, status: str | None = None, ids: Iterable[int] | None = None,
                   source_id: int | None = None, limit: int | None = None) -> list[ClipRow]:
        """Clips in id order, optionally filtered; rows are frozen and safe on any thread."""
        query = _clip_select()
        if status is not None:
            _check_decision(status)
            query = query.where(Clip.decision == status)
        if source_id is not None:
            query = query.where(Clip.source_id == source_id)
        with self.session() as s:
            if ids is not None:
                wanted = list(dict.fromkeys(ids))
                rows: dict[int, ClipRow] = {}
                for chunk in _chunks(wanted, 500):  # SQLite caps bound parameters
                    for row in s.execute(query.where(Clip.id.in_(chunk))):
                        clip = _clip_row(row)
                        rows[clip.id] = clip
                return [rows[i] for i in wanted if i in rows]
            query = query.order_by(Clip.id)
            if limit is not None:
                query = query.limit(limit)
            return [_clip_row(row) for row in s.execute(query)]

    def clip_ids(self, *, status: str | None = None) -> list[int]:
        query = select(Clip.id).order_by(Clip.id)
        if status is not None:
            query = query.where(Clip.decision == status)
        with self.session() as s:
            return list(s.scalars(query))

    def counts(self) -> dict[str, int]:
        """pending / accepted / rejected / captioned / total, kept by triggers on SQLite."""
        with self.session() as s:
            if self.is_sqlite:
                values = dict(s.execute(text("SELECT name, value FROM counters")).all())
                if values:
                    return {name: int(values.get(name, 0)) for name in
                            (*DECISIONS, "captioned", "total")}
            result = {d: 0 for d in DECISIONS}
            for decision, n in s.execute(select(Clip.decision, func.count()).group_by(Clip.decision)):
                result[decision] = n
            result["captioned"] = s.scalar(
                select(func.count()).where(func.coalesce(Clip.caption, "") != "")) or 0
            result["total"] = sum(result[d] for d in DECISIONS)
            return result

    def set_decision(self, ids: Iterable[int], decision: str, reason: str | None = None, *,
                     by: str = "person", kind: str = "clip",
                     keep_person_decisions: bool = False) -> list[DecisionChange]:
        """Decide clips (or images); returns what was replaced so it can be undone.

        Args:
            keep_person_decisions: rules pass True so they never override a person's decision.
        """
        _check_decision(decision)
        model = Clip if kind == "clip" else Image
        changes: list[DecisionChange] = []
        with self.session() as s:
            for chunk in _chunks(list(ids), 500):
                for item in s.scalars(select(model).where(model.id.in_(chunk))):
                    if keep_person_decisions and item.decided_by == "person":
                        continue
                    changes.append(DecisionChange(kind, item.id, item.decision, item.reason,
                                                  item.decided_by))
                    item.decision = decision
                    item.reason = reason if decision == "rejected" else None
                    item.decided_by = None if decision == "pending" else by
                    item.decided_at = _now()
        return changes

    def restore_decisions(self, changes: Sequence[DecisionChange]) -> list[DecisionChange]:
        """Put back decisions as they were (undo); returns the changes that undo this (redo)."""
        undone: list[DecisionChange] = []
        with self.session() as s:
            for change in changes:
                model = Clip if change.kind == "clip" else Image
                item = s.get(model, change.id)
                if item is None:
                    continue
                undone.append(DecisionChange(change.kind, item.id, item.decision, item.reason,
                                             item.decided_by))
                item.decision, item.reason = change.decision, change.reason
                item.decided_by, item.decided_at = change.decided_by, _now()
        return undone

    def save_analysis(self, clip_id: int, analysis: dict[str, Any], *, motion: float | None,
                      cuts: int | None, motion_p95: float | None = None) -> None:
        with self.session() as s:
            clip = s.get(Clip, clip_id)
            if clip is None:
                raise CatalogError(f"no clip with id {clip_id}")
            clip.analysis, clip.motion, clip.cuts = analysis, motion, cuts
            clip.motion_p95 = motion_p95 if motion_p95 is not None else analysis.get("motion_p95")
            clip.analyzed_at = _now()

    def set_tags(self, clip_id: int, tags: Sequence[str]) -> None:
        with self.session() as s:
            clip = s.get(Clip, clip_id)
            if clip is None:
                raise CatalogError(f"no clip with id {clip_id}")
            clip.tags = sorted(set(tags))

    def trim_clip(self, clip_id: int, start_frame: int, end_frame: int) -> ClipRow:
        """Set a clip's in/out points within its source; its analysis is dropped (stale)."""
        with self.session() as s:
            clip = s.get(Clip, clip_id)
            if clip is None:
                raise CatalogError(f"no clip with id {clip_id}")
            source = s.get(Source, clip.source_id)
            if not 0 <= start_frame < end_frame <= source.frame_count:
                raise CatalogError(
                    f"clip {clip_id}: [{start_frame}, {end_frame}) is not inside its source "
                    f"of {source.frame_count} frames")
            clip.start_frame, clip.end_frame = start_frame, end_frame
            _fill_clip_derived(clip, source)
            clip.analysis = clip.motion = clip.motion_p95 = clip.cuts = clip.analyzed_at = None
        return self.get_clip(clip_id)

    def split_clip(self, clip_id: int, at_frame: int) -> tuple[int, int]:
        """Split a clip at a source frame: it keeps [start, at), a new child gets [at, end).

        The child copies the decision and the caption (as a version of its own) of its parent.
        """
        with self.session() as s:
            clip = s.get(Clip, clip_id)
            if clip is None:
                raise CatalogError(f"no clip with id {clip_id}")
            if not clip.start_frame < at_frame < clip.end_frame:
                raise CatalogError(
                    f"clip {clip_id}: frame {at_frame} is not inside "
                    f"[{clip.start_frame}, {clip.end_frame})")
            source = s.get(Source, clip.source_id)
            child = Clip(source_id=clip.source_id, start_frame=at_frame, end_frame=clip.end_frame,
                         decision=clip.decision, reason=clip.reason, decided_by=clip.decided_by,
                         decided_at=clip.decided_at, caption=clip.caption,
                         caption_origin=clip.caption_origin,
                         caption_is_manual=clip.caption_is_manual, parent_id=clip.id,
                         tags=clip.tags, created_at=_now())
            _fill_clip_derived(child, source)
            s.add(child)
            clip.end_frame = at_frame
            _fill_clip_derived(clip, source)
            clip.analysis = clip.motion = clip.motion_p95 = clip.cuts = clip.analyzed_at = None
            s.flush()
            if clip.caption:
                s.add(Caption(clip_id=child.id, text=clip.caption,
                              origin=clip.caption_origin or "manual",
                              is_manual=clip.caption_is_manual,
                              settings={"copied_from_clip": clip.id}, created_at=_now()))
            return clip.id, child.id

    def merge_split(self, clip_id: int, part_ids: Sequence[int], old_range: tuple[int, int]
                    ) -> ClipRow:
        """Undo a split: remove the parts (and their caption versions), give the clip its range
        back. Its analysis is dropped (stale), as after any trim."""
        with self.session() as s:
            for part_id in part_ids:
                part = s.get(Clip, part_id)
                if part is None or part.source_id != s.get(Clip, clip_id).source_id:
                    raise CatalogError(f"clip {part_id} is not a part of clip {clip_id}")
                for caption in s.scalars(select(Caption).where(Caption.clip_id == part_id)):
                    s.delete(caption)
                s.delete(part)
        return self.trim_clip(clip_id, *old_range)

    # --- images --------------------------------------------------------------------------

    def upsert_image(self, *, path: Path, size: int, mtime: float, content_hash: str, width: int,
                     height: int, image_id: int | None = None) -> tuple[int, bool]:
        """Insert or update an image; returns its id and whether it was created."""
        with self.session() as s:
            image = s.get(Image, image_id) if image_id else None
            if image is None:
                image = s.scalars(select(Image).where(Image.path == str(path))).first()
            created = image is None
            if image is None:
                image = Image(decision="pending", caption_is_manual=False, created_at=_now())
                s.add(image)
            image.path, image.size, image.mtime = str(path), size, mtime
            image.content_hash, image.width, image.height = content_hash, width, height
            s.flush()
            return image.id, created

    def find_image(self, *, path: Path | None = None, content_hash: str | None = None
                   ) -> ImageRow | None:
        with self.session() as s:
            query = select(Image)
            if path is not None:
                query = query.where(Image.path == str(path))
            if content_hash is not None:
                query = query.where(Image.content_hash == content_hash)
            image = s.scalars(query.order_by(Image.id).limit(1)).first()
            return _image_row(image) if image else None

    def get_image(self, image_id: int) -> ImageRow:
        with self.session() as s:
            image = s.get(Image, image_id)
            if image is None:
                raise CatalogError(f"no image with id {image_id}")
            return _image_row(image)

    def list_images(self, *, status: str | None = None, ids: Iterable[int] | None = None
                    ) -> list[ImageRow]:
        query = select(Image).order_by(Image.id)
        if status is not None:
            _check_decision(status)
            query = query.where(Image.decision == status)
        with self.session() as s:
            if ids is not None:
                wanted = list(dict.fromkeys(ids))
                found = {}
                for chunk in _chunks(wanted, 500):
                    for image in s.scalars(select(Image).where(Image.id.in_(chunk))):
                        found[image.id] = _image_row(image)
                return [found[i] for i in wanted if i in found]
            return [_image_row(image) for image in s.scalars(query)]

    def set_image_crop(self, image_id: int, crop: tuple[int, int, int, int] | None) -> None:
        with self.session() as s:
            image = s.get(Image, image_id)
            if image is None:
                raise CatalogError(f"no image with id {image_id}")
            if crop is not None:
                x, y, w, h = crop
                if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > image.width or y + h > image.height:
                    raise CatalogError(f"image {image_id}: crop {crop} is outside "
                                       f"{image.width}x{image.height}")
            image.crop = list(crop) if crop else None

    # --- captions ------------------------------------------------------------------------

    def save_caption(self, text_: str, *, clip_id: int | None = None, image_id: int | None = None,
                     origin: str = "manual", prompt_hash: str | None = None,
                     settings: dict[str, Any] | None = None,
                     overwrite_manual: bool = False) -> CaptionRow | None:
        """Save a new caption version and make it the current one.

        A model caption never replaces a manual one unless `overwrite_manual`; then None is
        returned and nothing is written. Saving the text the item already has adds no version.
        """
        if (clip_id is None) == (image_id is None):
            raise ValueError("save_caption needs exactly one of clip_id or image_id")
        is_manual = origin == "manual"
        with self.session() as s:
            item = s.get(Clip, clip_id) if clip_id is not None else s.get(Image, image_id)
            if item is None:
                raise CatalogError(f"no {'clip' if clip_id is not None else 'image'} with id "
                                   f"{clip_id if clip_id is not None else image_id}")
            if not is_manual and item.caption_is_manual and not overwrite_manual:
                return None
            if item.caption == text_ and item.caption_origin == origin:
                newest = s.scalars(_history_query(clip_id, image_id).limit(1)).first()
                if newest is not None:
                    return _caption_row(newest)
            caption = Caption(clip_id=clip_id, image_id=image_id, text=text_, origin=origin,
                              is_manual=is_manual, prompt_hash=prompt_hash, settings=settings,
                              created_at=_now())
            s.add(caption)
            item.caption, item.caption_origin, item.caption_is_manual = text_, origin, is_manual
            s.flush()
            return _caption_row(caption)

    def caption_history(self, *, clip_id: int | None = None, image_id: int | None = None
                        ) -> list[CaptionRow]:
        """All versions, newest first."""
        with self.session() as s:
            return [_caption_row(c) for c in s.scalars(_history_query(clip_id, image_id))]

    def newest_caption_ids(self, *, clip_ids: Iterable[int] = (), image_ids: Iterable[int] = ()
                           ) -> dict[tuple[str, int], int]:
        """The current caption version of many clips and images in a few grouped queries.

        Returns:
            {("clip", id) or ("image", id): caption version id}; items without one are absent.
        """
        found: dict[tuple[str, int], int] = {}
        with self.session() as s:
            for kind, column, ids in (("clip", Caption.clip_id, list(clip_ids)),
                                      ("image", Caption.image_id, list(image_ids))):
                for chunk in _chunks(ids, 500):
                    query = (select(column, func.max(Caption.id)).where(column.in_(chunk))
                             .group_by(column))
                    found.update({(kind, item): newest for item, newest in s.execute(query)})
        return found

    def restore_caption(self, caption_id: int) -> CaptionRow:
        """Make an old version current again, as a new version (history is never rewritten)."""
        with self.session() as s:
            old = s.get(Caption, caption_id)
            if old is None:
                raise CatalogError(f"no caption version with id {caption_id}")
            clip_id, image_id, text_, origin = old.clip_id, old.image_id, old.text, old.origin
            prompt_hash, settings = old.prompt_hash, old.settings
        row = self.save_caption(text_, clip_id=clip_id, image_id=image_id, origin=origin,
                                prompt_hash=prompt_hash, settings=settings, overwrite_manual=True)
        assert row is not None
        return row

    # --- settings ------------------------------------------------------------------------

    def settings(self) -> ProjectSettings:
        with self.session() as s:
            row = s.get(SettingsRow, 1)
            return ProjectSettings.from_json(row.data if row else None)

    def update_settings(self, **changes: Any) -> ProjectSettings:
        current = self.settings().to_json()
        unknown = set(changes) - set(current)
        if unknown:
            raise CatalogError(f"unknown project settings: {', '.join(sorted(unknown))}")
        current.update(changes)
        new = ProjectSettings.from_json(current)
        with self.session() as s:
            row = s.get(SettingsRow, 1)
            if row is None:
                s.add(SettingsRow(id=1, schema_version=SETTINGS_SCHEMA_VERSION, data=new.to_json()))
            else:
                row.schema_version, row.data = SETTINGS_SCHEMA_VERSION, new.to_json()
        return new

    # --- jobs ----------------------------------------------------------------------------

    def start_job(self, kind: str, params: dict[str, Any] | None = None,
                  total: int | None = None) -> int:
        with self.session() as s:
            job = Job(kind=kind, params=params, status="running", done=0, total=total,
                      started_at=_now())
            s.add(job)
            s.flush()
            return job.id

    def update_job(self, job_id: int, *, done: int | None = None, total: int | None = None) -> None:
        with self.session() as s:
            job = s.get(Job, job_id)
            if job is None:
                return
            if done is not None:
                job.done = done
            if total is not None:
                job.total = total

    def finish_job(self, job_id: int, status: str, *, result: dict[str, Any] | None = None,
                   log: str | None = None, return_code: int | None = None) -> None:
        """Record how a job ended: done | failed | cancelled."""
        with self.session() as s:
            job = s.get(Job, job_id)
            if job is None:
                return
            job.status, job.ended_at = status, _now()
            job.result, job.log, job.return_code = result, log, return_code

    def get_job(self, job_id: int) -> JobRow:
        with self.session() as s:
            job = s.get(Job, job_id)
            if job is None:
                raise CatalogError(f"no job with id {job_id}")
            return _job_row(job)

    def list_jobs(self, *, kind: str | None = None, limit: int = 100) -> list[JobRow]:
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if kind is not None:
            query = query.where(Job.kind == kind)
        with self.session() as s:
            return [_job_row(job) for job in s.scalars(query)]


# --- helpers -------------------------------------------------------------------------------

def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _check_decision(decision: str) -> None:
    if decision not in DECISIONS:
        raise CatalogError(f"unknown decision {decision!r}; use one of {', '.join(DECISIONS)}")


def _fill_clip_derived(clip: Clip, source: Source) -> None:
    clip.frames = clip.end_frame - clip.start_frame
    clip.fps = source.fps_num / source.fps_den
    clip.duration = clip.frames * source.fps_den / source.fps_num
    clip.width, clip.height = source.width, source.height


def _replace_clips(s: Session, source: Source, ranges: Sequence[tuple[int, int]]) -> list[int]:
    existing = {(c.start_frame, c.end_frame): c
                for c in s.scalars(select(Clip).where(Clip.source_id == source.id))}
    wanted = [(int(a), int(b)) for a, b in ranges]
    for key, clip in existing.items():
        if key not in wanted:
            s.delete(clip)
    created = []
    for start, end in wanted:
        if not 0 <= start < end <= source.frame_count:
            raise CatalogError(f"{source.path}: clip [{start}, {end}) is outside the "
                               f"{source.frame_count} decoded frames")
        clip = existing.get((start, end))
        if clip is None:
            clip = Clip(source_id=source.id, start_frame=start, end_frame=end, decision="pending",
                        caption_is_manual=False, created_at=_now())
            s.add(clip)
            _fill_clip_derived(clip, source)
            s.flush()
            created.append(clip.id)
        else:
            _fill_clip_derived(clip, source)
    return created


def _clip_select():  # noqa: ANN202 - a SQLAlchemy Select of a row shape only _clip_row reads
    return select(Clip, Source.path, Source.content_hash, Source.fps_num, Source.fps_den).join(
        Source, Source.id == Clip.source_id)


def _clip_row(row: Any) -> ClipRow:
    clip, path, content_hash, fps_num, fps_den = row
    return ClipRow(
        id=clip.id, source_id=clip.source_id, source_path=Path(path), source_hash=content_hash,
        start_frame=clip.start_frame, end_frame=clip.end_frame, fps=Fraction(fps_num, fps_den),
        width=clip.width, height=clip.height, decision=clip.decision, reason=clip.reason,
        decided_by=clip.decided_by, caption=clip.caption, caption_origin=clip.caption_origin,
        caption_is_manual=bool(clip.caption_is_manual), motion=clip.motion, cuts=clip.cuts,
        analysis=clip.analysis, parent_id=clip.parent_id, tags=tuple(clip.tags or ()),
        motion_p95=clip.motion_p95)


def _source_row(source: Source) -> SourceRow:
    return SourceRow(
        id=source.id, path=Path(source.path), size=source.size, content_hash=source.content_hash,
        container=source.container, codec=source.codec,
        fps=Fraction(source.fps_num, source.fps_den), frame_count=source.frame_count,
        header_frame_count=source.header_frame_count, width=source.width, height=source.height,
        duration=source.duration, status=source.status, warnings=tuple(source.warnings or ()))


def _image_row(image: Image) -> ImageRow:
    return ImageRow(
        id=image.id, path=Path(image.path), content_hash=image.content_hash, width=image.width,
        height=image.height, decision=image.decision, reason=image.reason,
        decided_by=image.decided_by, caption=image.caption, caption_origin=image.caption_origin,
        caption_is_manual=bool(image.caption_is_manual),
        crop=tuple(image.crop) if image.crop else None, tags=tuple(image.tags or ()))


def _caption_row(caption: Caption) -> CaptionRow:
    return CaptionRow(
        id=caption.id, clip_id=caption.clip_id, image_id=caption.image_id, text=caption.text,
        origin=caption.origin, is_manual=bool(caption.is_manual), prompt_hash=caption.prompt_hash,
        settings=caption.settings, created_at=caption.created_at)


def _job_row(job: Job) -> JobRow:
    return JobRow(
        id=job.id, kind=job.kind, params=job.params, status=job.status, done=job.done,
        total=job.total, started_at=job.started_at, ended_at=job.ended_at,
        return_code=job.return_code, result=job.result, log=job.log)


def _history_query(clip_id: int | None, image_id: int | None):  # noqa: ANN202
    query = select(Caption).order_by(Caption.id.desc())
    if clip_id is not None:
        return query.where(Caption.clip_id == clip_id)
    return query.where(Caption.image_id == image_id)
