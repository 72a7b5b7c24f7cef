"""Named queries for browsing clips: filter and sort in SQL, page by keyset, count cheaply.

The browser shows 30,000 to 1,000,000 clips, so nothing here loads every row. A query is
first *planned* (`plan_clips`): one bounded look at the matches tells few from many.
- Few (at most SMALL_RESULT): their ids and sort keys were all read by that look; they are
  sorted here and pages are slices of that id list.
- Many: a page is the next `limit` rows after the last one shown, found by walking the sort's
  index (keyset paging, as fast on the 5,000th page as on the first, where OFFSET would rescan
  everything before), and the exact count is left to `count_clips`, for a worker thread.
Status-only and unfiltered counts come from the `counters` table the triggers keep.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from curator.core.media.resample import resampled_frame_count

from .catalog import Catalog, CatalogError
from .models import Clip, Source
from .rows import DECISIONS, ClipRange

#: Sort keys the browser offers; each is walked through an index, with `id` as the tiebreak.
SORT_KEYS = ("id", "source", "frames", "motion")

#: Rows per page when the caller does not say.
DEFAULT_PAGE = 200

#: At or below this many matches, all their ids are read and sorted at once; above it, pages
#: are found by walking the sort's index, filtering on the way (matches are then dense enough
#: that a page turns up within a few ten thousand index entries). Reading the ids is the GUI
#: thread's cost of a filter change: at 20,000 a 1M-clip filter took 600-840 ms, at 4,000 it
#: takes under 100 ms (bench/gui.py), while a page walk stays under 100 ms at 1 match in 250.
SMALL_RESULT = 4_000


@dataclass(frozen=True)
class ClipQuery:
    """Which clips the browser shows. Every field left at its default filters nothing.

    Attributes:
        status: 'pending', 'accepted' or 'rejected'.
        min_motion, max_motion: motion score range (clips not analysed yet have none and are
            left out as soon as either bound is set).
        min_frames, max_frames: length in frames at `target_fps` (what the trainer counts),
            as `resample_indices` would give for the clip.
        has_caption: True for captioned clips only, False for uncaptioned only.
        source_id: clips of one source file.
        text: words that must all appear in the caption (prefix match, case-insensitive).
        target_fps: the training frame rate the frame bounds are counted at.
        has_text: True for clips whose frames hold burned-in text (text_share above 0),
            False for clips checked and found clean.
    """

    status: str | None = None
    min_motion: float | None = None
    max_motion: float | None = None
    min_frames: int | None = None
    max_frames: int | None = None
    has_caption: bool | None = None
    source_id: int | None = None
    text: str = ""
    target_fps: float = 16.0
    has_text: bool | None = None

    @property
    def is_status_only(self) -> bool:
        """True when the counters table can answer the count without scanning clips."""
        return replace(self, status=None, target_fps=16.0) == ClipQuery()


@dataclass(frozen=True)
class ClipSort:
    """A browser order: one of `SORT_KEYS`, ascending or descending (ties broken by id)."""

    key: str = "id"
    descending: bool = False

    def __post_init__(self) -> None:
        if self.key not in SORT_KEYS:
            raise CatalogError(f"unknown sort {self.key!r}; use one of {', '.join(SORT_KEYS)}")


@dataclass(frozen=True, slots=True)
class ClipListItem(ClipRange):
    """What one browser row needs: lighter than a `ClipRow` (no analysis blob, no Path per row).

    Frozen, so it crosses threads; `Catalog.get_clip(id)` gives the full row when one is opened.
    """

    source_name: str
    source_path: str  # one str object shared by every row of the source
    duration: float
    motion: float | None
    cuts: int | None
    parent_id: int | None
    text_share: float | None = None  # burned-in text: share of sampled frames (tile badge)


@dataclass(frozen=True)
class ClipPlan:
    """How the pages of one query are found, and how many clips match.

    Attributes:
        ids: every matching clip id in sort order when there are few; None when many.
        matching: the exact count when `exact`, else a lower bound (more than SMALL_RESULT).
        exact: whether `matching` is the exact count.
    """

    ids: tuple[int, ...] | None
    matching: int
    exact: bool


@dataclass(frozen=True)
class ClipPage:
    """One page of clips and where the next one starts (None when this was the last)."""

    items: list[ClipListItem]
    after: tuple[Any, ...] | None
    has_more: bool = field(default=False)


def frames_at(frames: int, fps: Fraction | float, target_fps: float) -> int:
    """How many frames `frames` source frames at `fps` give when resampled to `target_fps`.

    The exporter's count (`resampled_frame_count`), so the browser and the export agree.
    """
    return resampled_frame_count(frames, fps, target_fps)


def fts_query(words: str) -> str:
    """An FTS5 MATCH expression for what a person typed: every word, as a quoted prefix.

    Quoting makes FTS5 operators and punctuation typed by a person ("AND", "-", ":") plain
    text instead of query syntax errors.
    """
    tokens = _words(words)
    return " AND ".join('"' + token.replace('"', '""') + '"*' for token in tokens)


def plan_clips(source: Catalog | Session, query: ClipQuery = ClipQuery(),
               sort: ClipSort = ClipSort(), *, few: int = SMALL_RESULT) -> ClipPlan:
    """Decide how to page `query`: read all the ids when few clips match, else walk an index.

    One bounded look (no ORDER BY, so the planner picks the cheapest filter index, and LIMIT
    few + 1, so a common filter stops early) returns each match's id and sort key. Sorting
    those few in Python costs less than a second scan to sort them in SQL.

    Args:
        source: a Catalog or an open Session.
        query: the filter.
        sort: the order.
        few: the most matches read at once.

    Returns:
        The plan for `clips_page`.

    Raises:
        CatalogError: an unknown status.
    """
    with _session(source) as s:
        if query.is_status_only:
            # Counted by the triggers; every status has its (decision, key) index to walk.
            return ClipPlan(ids=None, matching=count_clips(s, query), exact=True)
        keys = {"id": [], "source": [Clip.source_id, Clip.start_frame],
                "frames": [Clip.duration], "motion": [Clip.motion]}[sort.key]
        rows = _tuples(s, select(*keys, Clip.id).where(*_conditions(query, _has_fts(s)))
                       .limit(few + 1))
    if len(rows) > few:
        return ClipPlan(ids=None, matching=len(rows), exact=False)
    if sort.key == "motion":  # clips not analysed yet (no motion) sort below every score
        key = lambda r: (r[0] is not None, r[0] or 0.0, r[1])  # noqa: E731
    else:
        key = None  # the row is its own key: sort columns, then id
    ordered = sorted(rows, key=key, reverse=sort.descending)
    return ClipPlan(ids=tuple(r[-1] for r in ordered), matching=len(rows), exact=True)


def clips_page(source: Catalog | Session, query: ClipQuery = ClipQuery(),
               sort: ClipSort = ClipSort(), *, after: Sequence[Any] | None = None,
               limit: int = DEFAULT_PAGE, plan: ClipPlan | None = None) -> ClipPage:
    """The next page of clips matching `query` in `sort` order, after `after`.

    Args:
        source: a Catalog (a session is opened) or an open Session.
        query: the filter.
        sort: the order.
        after: the `after` of the previous page; None for the first page.
        limit: rows per page.
        plan: `plan_clips(query, sort)`, made once per query; made here when left out.

    Returns:
        The page; pass its `after` back for the next one.

    Raises:
        CatalogError: an unknown status.
    """
    with _session(source) as s:
        if plan is None:
            plan = plan_clips(s, query, sort)
        if plan.ids is not None:
            start = int(after[0]) if after else 0
            chunk = plan.ids[start:start + limit]
            items = clips_by_ids(s, chunk)
            more = start + limit < len(plan.ids)
            return ClipPage(items=items, after=(start + limit,) if more else None, has_more=more)
        fts = _has_fts(s)
        items: list[ClipListItem] = []
        for phase_query in _phases(query, sort, after):
            remaining = limit + 1 - len(items)
            if remaining <= 0:
                break
            rows = s.execute(phase_query(fts).limit(remaining)).all()
            items.extend(_items(s, rows))
        has_more = len(items) > limit
        items = items[:limit]
        last = _keyset(items[-1], sort) if items and has_more else None
        return ClipPage(items=items, after=last, has_more=has_more)


def clips_by_ids(source: Catalog | Session, ids: Iterable[int]) -> list[ClipListItem]:
    """Browser rows for some clips (e.g. just decided or edited), in the order of `ids`."""
    wanted = list(dict.fromkeys(ids))
    found: dict[int, ClipListItem] = {}
    with _session(source) as s:
        for i in range(0, len(wanted), 500):
            rows = s.execute(_item_select().where(Clip.id.in_(wanted[i:i + 500]))).all()
            found.update((item.id, item) for item in _items(s, rows))
    return [found[i] for i in wanted if i in found]


def count_clips(source: Catalog | Session, query: ClipQuery = ClipQuery()) -> int:
    """How many clips match `query`.

    Unfiltered and status-only counts are read from the counters the triggers keep (no scan at
    1M clips); any other filter counts in SQL (up to a few hundred ms at 1M clips: a worker
    thread's job when the plan says many match).
    """
    with _session(source) as s:
        if query.is_status_only and s.get_bind().dialect.name == "sqlite":
            name = query.status or "total"
            value = s.execute(text("SELECT value FROM counters WHERE name = :n"),
                              {"n": name}).scalar()
            if value is not None:
                return int(value)
        conditions = _conditions(query, _has_fts(s))
        return int(s.scalar(select(func.count()).select_from(Clip).where(*conditions)) or 0)


def clip_ids_matching(source: Catalog | Session, query: ClipQuery = ClipQuery()) -> list[int]:
    """Every matching clip id in id order (for 'select all' and bulk actions; ids only)."""
    with _session(source) as s:
        conditions = _conditions(query, _has_fts(s))
        return list(s.scalars(select(Clip.id).where(*conditions).order_by(Clip.id)))


def source_names(source: Catalog | Session, *, limit: int = 1000) -> list[tuple[int, str]]:
    """(id, file name) of the first `limit` sources, for a source filter menu."""
    with _session(source) as s:
        rows = s.execute(select(Source.id, Source.path).order_by(Source.path).limit(limit)).all()
    return [(source_id, Path(path).name) for source_id, path in rows]


# --- helpers -------------------------------------------------------------------------------

@contextmanager
def _session(source: Catalog | Session) -> Iterator[Session]:
    if isinstance(source, Session):
        yield source
    else:
        with source.session() as s:
            yield s


def _tuples(s: Session, statement: Any) -> list[tuple[Any, ...]]:
    """All rows as plain tuples; on SQLite straight from the driver's cursor.

    The plan reads up to SMALL_RESULT rows; SQLAlchemy's Row objects cost twice the time of
    the query itself there (measured at 1M clips: 80-110 ms against 40 ms).
    """
    connection = s.connection()
    if connection.dialect.name == "sqlite":
        compiled = statement.compile(dialect=connection.dialect)
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        return connection.connection.driver_connection.execute(str(compiled), params).fetchall()
    return [tuple(row) for row in s.execute(statement)]


def _words(typed: str) -> list[str]:
    return [w for w in re.split(r"[^\w']+", typed.lower()) if w.strip("'")]


def _has_fts(s: Session) -> bool:
    if s.get_bind().dialect.name != "sqlite":
        return False
    info = s.info
    if "curator_fts" not in info:
        info["curator_fts"] = s.execute(text(
            "SELECT 1 FROM sqlite_master WHERE name = 'clip_fts'")).first() is not None
    return info["curator_fts"]


def _conditions(query: ClipQuery, fts: bool, walk: str | None = None
                ) -> list[ColumnElement[bool]]:
    """The WHERE terms of `query`.

    Args:
        walk: the sort key when the page is found by walking that sort's index: every other
            column is then written `column + 0`, which no index serves, so the planner cannot
            trade the ordered walk for a range scan plus a sort of 100,000 rows.
    """
    indexed = {"id": {"id"}, "source": {"source_id"}, "frames": {"duration"},
               "motion": {"motion"}}.get(walk or "", None)

    def col(column: Any) -> Any:
        return column if indexed is None or column.key in indexed else column + 0

    out: list[ColumnElement[bool]] = []
    if query.status is not None:
        if query.status not in DECISIONS:
            raise CatalogError(f"unknown status {query.status!r}; use one of {', '.join(DECISIONS)}")
        out.append(Clip.decision == query.status)  # the lead column of every (decision, …) index
    if query.min_motion is not None:
        out.append(col(Clip.motion) >= query.min_motion)
    if query.max_motion is not None:
        out.append(col(Clip.motion) <= query.max_motion)
    # Frames at the target rate are round(duration × target): bounds on the indexed duration.
    if query.min_frames is not None and query.min_frames > 1:
        out.append(col(Clip.duration) >= (query.min_frames - 0.5) / query.target_fps - 1e-9)
    if query.max_frames is not None:
        out.append(col(Clip.duration) < (query.max_frames + 0.5) / query.target_fps - 1e-9)
    if query.has_caption is True:
        out.append(and_(Clip.caption.is_not(None), Clip.caption != ""))
    elif query.has_caption is False:
        out.append(or_(Clip.caption.is_(None), Clip.caption == ""))
    if query.source_id is not None:
        out.append(col(Clip.source_id) == query.source_id)
    if query.has_text is not None:
        # indexed since revision 0005 (for the statistics): kept out of a page's walk too
        out.append(col(Clip.text_share) > 0 if query.has_text else col(Clip.text_share) == 0)
    words = _words(query.text)
    if words:
        if fts:
            out.append(col(Clip.id).in_(
                text("SELECT rowid FROM clip_fts WHERE clip_fts MATCH :match")
                .bindparams(match=fts_query(query.text))))
        else:
            # Without FTS5 (PostgreSQL): the same answers as its quoted prefixes, a word that
            # starts with each typed word, not any substring ("cat" finds no "scattered").
            out.extend(Clip.caption.regexp_match(r"(^|\W)" + re.escape(w), flags="i")
                       for w in words)
    return out


def _sort_columns(key: str) -> list[Any]:
    return {
        "id": [Clip.id],
        "source": [Clip.source_id, Clip.start_frame, Clip.id],
        "frames": [Clip.duration, Clip.id],
        "motion": [Clip.motion, Clip.id],
    }[key]


def _keyset(item: ClipListItem, sort: ClipSort) -> tuple[Any, ...]:
    return {
        "id": (item.id,),
        "source": (item.source_id, item.start_frame, item.id),
        "frames": (item.duration, item.id),
        "motion": (item.motion, item.id),
    }[sort.key]


def _after(columns: list[Any], values: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    """Rows strictly past `values` in the order of `columns` (a row-value comparison).

    The leading column's bound is repeated on its own so every database starts the index
    range scan there rather than filtering from the first row.
    """
    lead, lead_value = columns[0], values[0]
    if len(columns) == 1:
        return lead < lead_value if descending else lead > lead_value
    whole = tuple_(*columns) < tuple_(*values) if descending else tuple_(*columns) > tuple_(*values)
    return and_(lead <= lead_value if descending else lead >= lead_value, whole)


def _phases(query: ClipQuery, sort: ClipSort, after: Sequence[Any] | None):
    """The SELECTs that, run in turn, give rows in sort order after `after`.

    Clips not analysed yet have no motion. Rather than an ORDER BY NULLS FIRST that no index
    serves, the motion order is two index walks: the clips without a score (by id), then the
    scored ones; ascending puts the unscored first, descending last, on every database.
    """
    columns = _sort_columns(sort.key)
    order = [c.desc() for c in columns] if sort.descending else list(columns)
    clip_id = columns[-1]

    def make(extra: list[ColumnElement[bool]], ordering: list[Any]):
        return lambda fts: _item_select().where(*_conditions(query, fts, sort.key), *extra
                                                ).order_by(*ordering)

    if sort.key != "motion":
        extra = [] if after is None else [_after(columns, after, sort.descending)]
        return [make(extra, order)]

    by_id = [clip_id.desc()] if sort.descending else [clip_id]
    unscored, scored = Clip.motion.is_(None), Clip.motion.is_not(None)
    if after is None:
        null_phase, scored_phase = make([unscored], by_id), make([scored], order)
        return [scored_phase, null_phase] if sort.descending else [null_phase, scored_phase]
    if after[0] is None:  # the previous page ended among the unscored
        id_after = clip_id < after[1] if sort.descending else clip_id > after[1]
        null_phase = make([unscored, id_after], by_id)
        # descending: the scored ones came first and are all shown
        return [null_phase] if sort.descending else [null_phase, make([scored], order)]
    scored_phase = make([scored, _after(columns, after, sort.descending)], order)
    # ascending: the unscored came first and are all shown
    return [scored_phase, make([unscored], by_id)] if sort.descending else [scored_phase]


def _item_select():
    return select(Clip.id, Clip.source_id, Clip.start_frame, Clip.end_frame, Clip.duration,
                  Clip.width, Clip.height, Clip.decision, Clip.reason, Clip.decided_by,
                  Clip.caption, Clip.caption_is_manual, Clip.motion, Clip.cuts, Clip.parent_id,
                  Clip.text_share)


def _items(s: Session, rows: Sequence[Any]) -> list[ClipListItem]:
    # Sources are few next to clips: look each up once per page instead of joining per row,
    # which keeps the page query on the clips indexes alone.
    cache: dict[int, tuple[str, str, str, Fraction]] = s.info.setdefault("curator_sources", {})
    missing = {row[1] for row in rows} - cache.keys()
    if missing:
        for source_id, path, content_hash, num, den in s.execute(
                select(Source.id, Source.path, Source.content_hash, Source.fps_num,
                       Source.fps_den).where(Source.id.in_(missing))):
            cache[source_id] = (Path(path).name, path, content_hash, Fraction(num, den))
    out = []
    for (clip_id, source_id, start, end, duration, width, height, decision, reason, decided_by,
         caption, manual, motion, cuts, parent_id, text_share) in rows:
        name, path, content_hash, fps = cache.get(source_id, ("?", "", "", Fraction(1)))
        out.append(ClipListItem(
            id=clip_id, source_id=source_id, source_name=name, source_path=path,
            source_hash=content_hash, start_frame=start, end_frame=end,
            fps=fps, duration=duration, width=width, height=height, decision=decision,
            reason=reason, decided_by=decided_by, caption=caption,
            caption_is_manual=bool(manual), motion=motion, cuts=cuts, parent_id=parent_id,
            text_share=text_share))
    return out
