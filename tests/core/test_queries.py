"""Browser queries: every filter and sort, paged by keyset, against the same facts in Python."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest

from curator.core.catalog import Catalog, CatalogError, ClipRow
from curator.core.catalog.queries import (
    SORT_KEYS,
    ClipPlan,
    ClipQuery,
    ClipSort,
    clip_ids_matching,
    clips_by_ids,
    clips_page,
    count_clips,
    frames_at,
    fts_query,
    plan_clips,
    source_names,
)
from curator.core.media import resample_indices

WORDS = "a cat dog runs under cherry blossoms at dusk train crossing water roof rain".split()


def _fill(catalog: Catalog) -> list[ClipRow]:
    """Three sources at different rates, 90 clips with mixed decisions, captions and motion."""
    rng = random.Random(7)
    films = [("/films/a.mkv", Fraction(24000, 1001), 2000), ("/films/b.mp4", Fraction(30), 1500),
             ("/films/c.avi", Fraction(10), 900)]
    for path, fps, frames in films:
        cuts = sorted(rng.sample(range(5, frames - 5), 29))
        bounds = [0, *cuts, frames]
        catalog.upsert_source(
            path=Path(path), size=1, mtime=1.0, content_hash=path, container="x", codec="h264",
            fps=fps, frame_count=frames, header_frame_count=None, width=1920, height=1040,
            duration=float(frames / fps), clip_ranges=list(zip(bounds, bounds[1:])))
    for clip in catalog.list_clips():
        roll = rng.random()
        if roll < 0.3:
            catalog.set_decision([clip.id], "accepted")
        elif roll < 0.5:
            catalog.set_decision([clip.id], "rejected", "too_static")
        if rng.random() < 0.5:
            catalog.save_caption("Ghibli style. " + " ".join(rng.choices(WORDS, k=6)),
                                 clip_id=clip.id)
        if rng.random() < 0.7:  # the rest stay unanalysed: motion NULL
            # ties on purpose, so the id tiebreak is exercised across page boundaries
            motion = float(rng.choice([1.0, 2.5, 2.5, 7.0, 12.0, 30.0]))
            catalog.save_analysis(clip.id, {}, motion=motion, cuts=0)
    return catalog.list_clips()


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """One read-only catalog shared by the tests that only query it."""
    catalog = Catalog(f"sqlite:///{tmp_path_factory.mktemp('queries') / 'curator.db'}")
    yield catalog, _fill(catalog)
    catalog.close()


@pytest.fixture
def clips(filled) -> list[ClipRow]:
    return filled[1]


@pytest.fixture
def shared(filled) -> Catalog:
    return filled[0]


def _all_pages(catalog: Catalog, query: ClipQuery, sort: ClipSort, *, limit: int = 7,
               plan: ClipPlan | None = None) -> list[int]:
    ids: list[int] = []
    page = clips_page(catalog, query, sort, limit=limit, plan=plan)
    ids += [item.id for item in page.items]
    while page.has_more:
        page = clips_page(catalog, query, sort, after=page.after, limit=limit, plan=plan)
        ids += [item.id for item in page.items]
    return ids


def _python_order(rows: list[ClipRow], sort: ClipSort) -> list[int]:
    if sort.key == "id":
        keyed = [((c.id,), c) for c in rows]
    elif sort.key == "source":
        keyed = [((c.source_id, c.start_frame, c.id), c) for c in rows]
    elif sort.key == "frames":
        keyed = [((c.duration, c.id), c) for c in rows]
    else:  # unanalysed clips (no motion) sort below every score
        keyed = [((c.motion is not None, c.motion or 0.0, c.id), c) for c in rows]
    keyed.sort(key=lambda kc: kc[0], reverse=sort.descending)
    return [c.id for _, c in keyed]


def _frames16(clip: ClipRow) -> int:
    return len(resample_indices(clip.frames, clip.fps, 16))


@pytest.mark.parametrize("key", SORT_KEYS)
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_pages_cover_every_clip_once_in_sort_order(shared, clips, key, descending):
    sort = ClipSort(key, descending)
    assert _all_pages(shared, ClipQuery(), sort) == _python_order(clips, sort)


FILTERS = [
    (ClipQuery(status="rejected"), lambda c: c.decision == "rejected"),
    (ClipQuery(min_motion=2.5, max_motion=12.0),
     lambda c: c.motion is not None and 2.5 <= c.motion <= 12.0),
    (ClipQuery(min_frames=45, max_frames=81), lambda c: 45 <= _frames16(c) <= 81),
    (ClipQuery(max_frames=44), lambda c: _frames16(c) <= 44),
    (ClipQuery(has_caption=True), lambda c: bool(c.caption)),
    (ClipQuery(has_caption=False, status="pending"),
     lambda c: not c.caption and c.decision == "pending"),
    (ClipQuery(source_id=2), lambda c: c.source_id == 2),
    (ClipQuery(text="Cherry ROOF"),
     lambda c: bool(c.caption) and "cherry" in c.caption.split() and "roof" in c.caption.split()),
    (ClipQuery(text="blossom"), lambda c: bool(c.caption) and "blossoms" in c.caption),
    (ClipQuery(status="accepted", min_motion=7.0, text="rain"),
     lambda c: c.decision == "accepted" and (c.motion or 0) >= 7.0 and "rain" in (c.caption or "")),
]


@pytest.mark.parametrize("query, keep", FILTERS)
@pytest.mark.parametrize("key", ["id", "frames", "motion"])
def test_filters_match_python_in_both_plans(shared, clips, query, keep, key):
    """The id-list plan (few matches) and the index-walk plan (many) give the same rows."""
    sort = ClipSort(key, descending=key == "frames")
    expected = _python_order([c for c in clips if keep(c)], sort)
    assert len(expected) >= 2, f"the fixture should hold clips matching {query}"
    few = plan_clips(shared, query, sort)
    many = plan_clips(shared, query, sort, few=1)
    assert few.exact and few.matching == len(expected)
    if query.is_status_only:  # counted by the triggers, paged by walking (decision, key)
        assert few.ids is None and many == few
    else:
        assert list(few.ids) == expected
        assert (many.ids, many.exact, many.matching) == (None, False, 2)
    assert _all_pages(shared, query, sort, plan=few) == expected
    assert _all_pages(shared, query, sort, plan=many) == expected
    assert count_clips(shared, query) == len(expected)
    assert sorted(clip_ids_matching(shared, query)) == sorted(expected)


def test_text_search_without_fts_falls_back_to_like(shared, clips):
    query = ClipQuery(text="cherry roof")
    with shared.session() as s:
        s.info["curator_fts"] = False  # as on PostgreSQL, where clip_fts does not exist
        like = _ids_in_session(s, query)
    assert like == _all_pages(shared, query, ClipSort()) and like


def _ids_in_session(s, query: ClipQuery) -> list[int]:
    return [item.id for item in clips_page(s, query, ClipSort(), limit=1000).items]


def test_search_text_with_fts_syntax_is_taken_literally(shared, clips):
    assert fts_query('cat AND "dog') == '"cat"* AND "and"* AND "dog"*'
    for typed in ('"', "AND", "-cat", "roof:", "(", "NEAR(cat dog)"):
        count_clips(shared, ClipQuery(text=typed))  # no FTS5 syntax error


def test_counts_use_counters_and_follow_decisions(catalog):
    clips = _fill(catalog)
    rejected = [c.id for c in clips if c.decision == "rejected"]
    assert count_clips(catalog, ClipQuery(status="rejected")) == len(rejected)
    catalog.set_decision(rejected[:3], "accepted")
    assert count_clips(catalog, ClipQuery(status="rejected")) == len(rejected) - 3
    assert count_clips(catalog) == len(clips)


def test_rows_by_ids_and_source_names(shared, clips):
    picked = [clips[5].id, clips[0].id, 10**6]
    items = clips_by_ids(shared, picked)
    assert [i.id for i in items] == picked[:2]
    first = items[1]
    assert (first.source_name, first.fps, first.frames) == ("a.mkv", Fraction(24000, 1001),
                                                            clips[0].frames)
    assert first.frames_at(16) == _frames16(clips[0])
    assert [name for _, name in source_names(shared)] == ["a.mkv", "b.mp4", "c.avi"]


@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(30), Fraction(10), Fraction(16),
                                 Fraction(2997, 125), Fraction(15)])
def test_frames_at_counts_like_resample_indices(fps):
    for n in [1, 2, 3, 29, 44, 45, 65, 81, 121, 240]:
        assert frames_at(n, fps, 16) == len(resample_indices(n, fps, 16)), (n, fps)


def test_unknown_sort_and_status_are_refused(catalog):
    with pytest.raises(CatalogError, match="unknown sort"):
        ClipSort("caption")
    with pytest.raises(CatalogError, match="unknown status"):
        count_clips(catalog, ClipQuery(status="maybe", text="x"))
