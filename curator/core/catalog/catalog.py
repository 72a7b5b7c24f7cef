"""`Catalog`: the engine, sessions and the intent-named operations every layer calls."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, func, or_, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from curator.core.processes import is_alive, process_identity

from .migrations import HEAD_REVISION
from .models import Caption, Clip, Image, Job, SettingsRow, Source
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
from .settings import SETTINGS_SCHEMA_VERSION, ProjectSettings

if TYPE_CHECKING:
    from alembic.config import Config

DB_FILENAME = "curator.db"
_MIGRATION_LOCK = 0x63757261746F72  # any fixed number: "curator" in ASCII
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class CatalogError(Exception):
    """A catalog operation that cannot be done, said in words a person understands."""


def _now() -> datetime:
    return datetime.now(UTC)


def alembic_config(connection: Any) -> Config:
    # Alembic is imported when a migration runs, not with the catalog: it is 0.4 s of every
    # command's start-up, and an up-to-date catalog (nearly always) never needs it.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision as alembic finds it in the migrations (HEAD_REVISION must agree)."""
    from alembic.script import ScriptDirectory

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
        if revision == "head" and self._revision_is(HEAD_REVISION):
            return
        from alembic import command

        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    # Two people opening a new shared catalog at once would both create the
                    # tables; the second waits here, then finds the schema current.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": _MIGRATION_LOCK})
                command.upgrade(alembic_config(connection), revision)
        except sa_exc.OperationalError as exc:
            raise self.error_sentence(exc) from None

    def error_sentence(self, exc: sa_exc.DBAPIError) -> CatalogError:
        """The database's failure as one sentence naming the catalog file (no SQL, no URL)."""
        where = (self.engine.url.database if self.is_sqlite
                 else self.engine.url.render_as_string(hide_password=True))
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        low = reason.lower()
        if "readonly" in low or "read-only" in low:
            text = (f"the catalog {where} is read-only: nothing can be saved (check the "
                    f"permissions of the file and its folder, or the disk's mount)")
        elif "full" in low or "no space" in low:
            text = (f"the disk holding the catalog {where} is full: this change was not saved "
                    f"(free some space and try again; what was saved before is intact)")
        elif "disk i/o" in low:
            text = (f"the catalog {where} could not be written (disk I/O error: a full disk, a "
                    f"size limit or a failing drive); this change was not saved")
        elif "unable to open" in low:
            text = (f"cannot open the catalog {where}: its folder is missing or not "
                    f"writable")
        elif "locked" in low:
            text = (f"the catalog {where} stayed locked by another program; this change was "
                    f"not saved (try again)")
        else:
            text = f"the catalog {where} failed: {reason}"
        return CatalogError(text)

    def _revision_is(self, wanted: str) -> bool:
        """Whether the catalog's stamped revision is `wanted`, by one plain SELECT.

        Any failure (a new file without the table, a server refusing) answers no: the full
        migration then runs and says what is wrong in a sentence.
        """
        try:
            with self.engine.connect() as connection:
                found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except sa_exc.DBAPIError:
            return False
        return [row[0] for row in found] == [wanted]

    def schema_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

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
        except sa_exc.OperationalError as exc:  # full disk, read-only file: say so plainly
            _rollback_quietly(session)
            raise self.error_sentence(exc) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # --- sources -------------------------------------------------------------------------

    def _find(self, model: Any, to_row: Callable[[Any], Any], path: Path | None,
              content_hash: str | None) -> Any:
        """The first source or image (by id) with this path and/or content hash, as a row."""
        with self.session() as s:
            query = select(model)
            if path is not None:
                query = query.where(model.path == str(path))
            if content_hash is not None:
                query = query.where(model.content_hash == content_hash)
            found = s.scalars(query.order_by(model.id).limit(1)).first()
            return to_row(found) if found else None

    def _get(self, model: Any, to_row: Callable[[Any], Any], item_id: int, noun: str) -> Any:
        """One source, image or job by id, as a row; CatalogError naming it when there is none."""
        with self.session() as s:
            return to_row(_one(s, model, item_id, noun))

    def find_source(self, *, path: Path | None = None, content_hash: str | None = None
                    ) -> SourceRow | None:
        return self._find(Source, _source_row, path, content_hash)

    def get_source(self, source_id: int) -> SourceRow:
        return self._get(Source, _source_row, source_id, "source")

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
            source = _one(s, Source, source_id, "source")
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

        The write itself is conditional: with `keep_person_decisions` the UPDATE only touches
        items still pending and not decided by a person at the moment it runs, so a person
        deciding in another process between our read and our write always wins.

        Args:
            keep_person_decisions: rules pass True so they never override a person's decision.
        """
        _check_decision(decision)
        model = Clip if kind == "clip" else Image
        values = {"decision": decision, "reason": reason if decision == "rejected" else None,
                  "decided_by": None if decision == "pending" else by, "decided_at": _now()}
        changes: list[DecisionChange] = []
        with self.session() as s:
            for chunk in _chunks(sorted(set(ids)), 500):
                # Rows locked in id order (PostgreSQL; SQLite has one writer anyway) so two
                # writers never deadlock and the "before" kept for undo is what was replaced.
                before = {row.id: row for row in s.execute(
                    select(model.id, model.decision, model.reason, model.decided_by)
                    .where(model.id.in_(chunk)).order_by(model.id).with_for_update())}
                statement = update(model).where(model.id.in_(chunk)).values(**values)
                if keep_person_decisions:
                    statement = statement.where(
                        model.decision == "pending",
                        or_(model.decided_by.is_(None), model.decided_by == "rule"))
                applied = set(s.scalars(statement.returning(model.id)))
                changes += [DecisionChange(kind, i, before[i].decision, before[i].reason,
                                           before[i].decided_by)
                            for i in chunk if i in applied and i in before]
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

    def swap_decisions(self, expected: Sequence[DecisionChange],
                       wanted: Sequence[DecisionChange]) -> DecisionSwap:
        """Compare-and-set: give each item its `wanted` state only if it still holds `expected`.

        Undo and redo use this: an item another writer decided since (the CLI, a rule, a second
        window) keeps that newer decision and reason and is reported in `conflicts`.

        Args:
            expected: the state each item must hold now (matched by kind and id).
            wanted: the state to give it.
        """
        now_state = {(c.kind, c.id): c for c in expected}
        swap = DecisionSwap()
        with self.session() as s:
            for change in wanted:
                model = Clip if change.kind == "clip" else Image
                was = now_state.get((change.kind, change.id))
                if was is None:
                    continue
                statement = (update(model).where(
                    model.id == change.id, model.decision == was.decision,
                    model.reason.is_not_distinct_from(was.reason),
                    model.decided_by.is_not_distinct_from(was.decided_by))
                    .values(decision=change.decision, reason=change.reason,
                            decided_by=change.decided_by, decided_at=_now()))
                if s.execute(statement).rowcount == 1:
                    swap.applied.append(change)
                else:
                    item = s.get(model, change.id)
                    if item is not None:
                        swap.conflicts.append(DecisionChange(
                            change.kind, item.id, item.decision, item.reason, item.decided_by))
        return swap

    def save_analysis(self, clip_id: int, analysis: dict[str, Any], *, motion: float | None,
                      cuts: int | None, motion_p95: float | None = None,
                      text_share: float | None = None) -> None:
        with self.session() as s:
            clip = _one(s, Clip, clip_id, "clip")
            clip.analysis, clip.motion, clip.cuts = analysis, motion, cuts
            clip.motion_p95 = motion_p95 if motion_p95 is not None else analysis.get("motion_p95")
            clip.text_share = text_share if text_share is not None else analysis.get("text_share")
            clip.analyzed_at = _now()

    def set_clip_crop(self, clip_id: int, crop: Sequence[int] | None) -> ClipRow:
        """Set the crop export applies to a clip, in source pixels.

        None: back to the measured letterbox crop; an empty sequence: no crop at all (keep the
        whole frame even where bars were measured); (x, y, w, h): that rectangle.
        """
        with self.session() as s:
            clip = _one(s, Clip, clip_id, "clip")
            if crop is not None and len(crop) not in (0, 4):
                raise CatalogError(f"clip {clip_id}: a crop is X Y W H, got {list(crop)}")
            if crop:
                x, y, w, h = (int(v) for v in crop)
                if x < 0 or y < 0 or w < 2 or h < 2 or x + w > clip.width or y + h > clip.height:
                    raise CatalogError(f"clip {clip_id}: crop {[x, y, w, h]} is outside "
                                       f"{clip.width}x{clip.height}")
                crop = [x, y, w, h]
            clip.crop = list(crop) if crop is not None else None
        return self.get_clip(clip_id)

    def save_image_text(self, image_id: int, text: dict[str, Any], text_share: float) -> None:
        """Record the text check of a still: its share (1.0 or 0.0) and the found text."""
        with self.session() as s:
            image = _one(s, Image, image_id, "image")
            image.analysis = {**(image.analysis or {}), "text": text}
            image.text_share = text_share

    def set_tags(self, clip_id: int, tags: Sequence[str]) -> None:
        with self.session() as s:
            clip = _one(s, Clip, clip_id, "clip")
            clip.tags = sorted(set(tags))

    def trim_clip(self, clip_id: int, start_frame: int, end_frame: int) -> ClipRow:
        """Set a clip's in/out points within its source; its analysis is dropped (stale)."""
        with self.session() as s:
            clip = _one(s, Clip, clip_id, "clip")
            source = s.get(Source, clip.source_id)
            if not 0 <= start_frame < end_frame <= source.frame_count:
                raise CatalogError(
                    f"clip {clip_id}: [{start_frame}, {end_frame}) is not inside its source "
                    f"of {source.frame_count} frames")
            clip.start_frame, clip.end_frame = start_frame, end_frame
            _fill_clip_derived(clip, source)
            clip.analysis = clip.motion = clip.motion_p95 = clip.cuts = clip.analyzed_at = None
            clip.text_share = None
        return self.get_clip(clip_id)

    def split_clip(self, clip_id: int, at_frame: int) -> tuple[int, int]:
        """Split a clip at a source frame: it keeps [start, at), a new child gets [at, end).

        The child copies the decision and the caption (as a version of its own) of its parent.
        """
        with self.session() as s:
            clip = _one(s, Clip, clip_id, "clip")
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
                         tags=clip.tags, crop=clip.crop, created_at=_now())
            _fill_clip_derived(child, source)
            s.add(child)
            clip.end_frame = at_frame
            _fill_clip_derived(clip, source)
            clip.analysis = clip.motion = clip.motion_p95 = clip.cuts = clip.analyzed_at = None
            clip.text_share = None
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
        back. Its analysis is dropped (stale), as after any trim.

        A compare-and-set: a part captioned or decided since the split holds someone's work
        that removing it would lose, so nothing is done and CatalogError says which.
        """
        made_by_split = {clip_id, *part_ids}  # the caption copies a split chain makes
        with self.session() as s:
            whole = s.get(Clip, clip_id)
            parts = [s.get(Clip, part_id) for part_id in part_ids]
            for part_id, part in zip(part_ids, parts, strict=True):
                if whole is None or part is None or part.source_id != whole.source_id:
                    raise CatalogError(f"clip {part_id} is not a part of clip {clip_id}")
                if (part.decision, part.reason) != (whole.decision, whole.reason):
                    raise CatalogError(f"clip {part_id} was decided since the split; undoing "
                                       f"it would lose that decision: not undone")
                captions = list(s.scalars(select(Caption).where(Caption.clip_id == part_id)))
                if any((c.settings or {}).get("copied_from_clip") not in made_by_split
                       for c in captions):
                    raise CatalogError(f"clip {part_id} was captioned since the split; undoing "
                                       f"it would lose that caption: not undone")
                for caption in captions:
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
        return self._find(Image, _image_row, path, content_hash)

    def get_image(self, image_id: int) -> ImageRow:
        return self._get(Image, _image_row, image_id, "image")

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
            image = _one(s, Image, image_id, "image")
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
        # A NUL cuts the caption short for every C reader downstream (trainers, tokenizers).
        text_ = text_.replace("\x00", "")
        with self.session() as s:
            # Locked (PostgreSQL) so a manual caption saved meanwhile is seen, not overwritten.
            item = s.get(Clip if clip_id is not None else Image,
                         clip_id if clip_id is not None else image_id, with_for_update=True)
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
            old = _one(s, Caption, caption_id, "caption version")
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
        """Record a running job; its process is noted so a killed run can be told later."""
        params = {**(params or {}), "process": process_identity()}
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

    def record_job_child(self, job_id: int, pid: int) -> None:
        """Note a process the job started (a trainer), so it can be found if we are killed."""
        with self.session() as s:
            job = s.get(Job, job_id)
            if job is not None:
                job.params = {**(job.params or {}), "child": process_identity(pid)}

    def active_jobs(self, kind: str) -> list[JobRow]:
        """Running jobs of `kind` whose process still runs (or runs on another machine)."""
        query = select(Job).where(Job.kind == kind, Job.status == "running").order_by(Job.id)
        with self.session() as s:
            rows = [_job_row(job) for job in s.scalars(query)]
        return [row for row in rows
                if (row.params or {}).get("process") and
                is_alive((row.params or {}).get("process")) is not False]

    def recover_jobs(self) -> list[str]:
        """Mark jobs whose process died without finishing (kill -9, a crash) 'interrupted'.

        Called when a project is opened. A trainer such a job started and that still runs is
        named, so a person can stop it or let it finish.

        Returns:
            One sentence per interrupted job (also written to the job's log).
        """
        notices: list[str] = []
        with self.session() as s:
            for job in s.scalars(select(Job).where(Job.status == "running")):
                params = job.params or {}
                process = params.get("process")
                if is_alive(process) is not False:
                    continue
                notice = (f"{job.kind} job {job.id} was interrupted: its process (pid "
                          f"{process['pid']}) ended without finishing (killed or crashed)")
                child = params.get("child")
                if is_alive(child):
                    notice += (f"; the trainer it started (pid {child['pid']}) is still running"
                               f": let it finish or stop it with `kill -INT -{child['pid']}`")
                job.status, job.ended_at = "interrupted", _now()
                job.log = "\n".join(filter(None, [job.log, notice]))
                notices.append(notice)
        return notices

    def get_job(self, job_id: int) -> JobRow:
        return self._get(Job, _job_row, job_id, "job")

    def list_jobs(self, *, kind: str | None = None, limit: int = 100) -> list[JobRow]:
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if kind is not None:
            query = query.where(Job.kind == kind)
        with self.session() as s:
            return [_job_row(job) for job in s.scalars(query)]


# --- helpers -------------------------------------------------------------------------------

def _rollback_quietly(session: Session) -> None:
    try:
        session.rollback()
    except sa_exc.SQLAlchemyError:  # the connection may be as broken as the write was
        pass


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


def _one(s: Session, model: Any, item_id: int, noun: str) -> Any:
    """The row `item_id` of `model` in this session; CatalogError 'no clip with id 7' if none."""
    found = s.get(model, item_id)
    if found is None:
        raise CatalogError(f"no {noun} with id {item_id}")
    return found


def _clip_select():
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
        motion_p95=clip.motion_p95, text_share=clip.text_share,
        crop=tuple(clip.crop) if clip.crop is not None else None)


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
        crop=tuple(image.crop) if image.crop else None, tags=tuple(image.tags or ()),
        text_share=image.text_share, analysis=image.analysis)


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


def _history_query(clip_id: int | None, image_id: int | None):
    query = select(Caption).order_by(Caption.id.desc())
    if clip_id is not None:
        return query.where(Caption.clip_id == clip_id)
    return query.where(Caption.image_id == image_id)
