"""Dataset statistics on a catalog with known distributions: exact bins, counts and phrases."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import select

from curator.core.analysis.rules import RuleSettings, clip_reason
from curator.core.catalog import Catalog
from curator.core.catalog.models import Clip, Source
from curator.core.media import resample_indices
from curator.core.stats import dataset_stats, pending_clips, plan_targets
from curator.core.stats.captions import near_duplicate_groups, words
from curator.core.stats.clips import frames_at_sql
from curator.core.stats.histogram import bin_counts, coarser
from tests.stats_fixtures import build_known


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    catalog = Catalog(f"sqlite:///{tmp_path_factory.mktemp('stats') / 'curator.db'}")
    build_known(catalog)
    yield catalog
    catalog.close()


def test_frames_at_training_fps_are_binned_on_4n_plus_1(known):
    stats = dataset_stats(known, targets=(21, 45))
    frames = stats.histograms["frames"]
    # bins [5,9) [9,13) … [65,69) from the shortest clip on: edges on Wan's 4n+1 lengths
    assert frames.edges == tuple(range(5, 70, 4))
    expected = [0] * 16
    for at_16 in (20, 21, 21, 44, 45, 45, 67, 5, 24, 48):
        expected[(at_16 - 5) // 4] += 1
    assert frames.counts == tuple(expected)
    assert frames.counts[(21 - 5) // 4] == 3 and frames.counts[(45 - 5) // 4] == 3
    assert not frames.open_end and frames.missing == 0
    lines = {t.key: (t.value, t.rejects) for t in frames.thresholds}
    assert lines == {"target_21": (21, ""), "min_frames": (45, "below")}


def test_duration_motion_aspect_and_decisions(known):
    stats = dataset_stats(known)
    duration = stats.histograms["duration"]
    # tenths of a second: 24 fps 30…100 frames → 12 12 13 27 27 28 41; 29.97 fps → 3 15 30
    assert duration.edges == tuple(t / 10 for t in range(3, 43))
    expected = [0] * 39
    for tenth in (12, 12, 13, 27, 27, 28, 41, 3, 15, 30):
        expected[tenth - 3] += 1
    assert duration.counts == tuple(expected)

    motion = stats.histograms["motion"]
    assert motion.missing == 1 and motion.total == 9
    assert motion.edges[0] == 0 and not motion.open_end
    width = motion.edges[1] - motion.edges[0]
    assert width == 1.0  # 0 … 40 in at most 48 bins of a nice width
    assert motion.counts[0] == 4  # 0.2, 0.45, 0.5, 0.05
    assert motion.counts[3] == 1 and motion.counts[12] == 1 and motion.counts[39] == 1
    assert [t.value for t in motion.thresholds] == [0.5]

    p95 = stats.histograms["motion_p95"]
    assert p95.total == 9 and p95.thresholds[0].value == 12.0
    assert p95.thresholds[0].rejects == "above"

    text = stats.histograms["text_share"]
    assert text.edges == tuple(i / 20 for i in range(22))  # 0, 0.05, … 1.05
    assert text.counts == (6, 0, 0, 0, 0, 1) + (0,) * 4 + (1,) + (0,) * 9 + (1,)
    assert text.missing == 1 and text.thresholds[0].rejects == "above"

    sizes = [(s.width, s.height, s.count) for s in stats.sizes]
    assert sizes == [(1920, 1040, 7), (640, 480, 3)]
    aspect = stats.histograms["aspect"]
    # 640/480 = 1.333… → bucket 1.33; 1920/1040 = 1.846… → bucket 1.84; two-bucket bins
    assert aspect.total == 10 and aspect.counts[0] == 3 and aspect.counts[-1] == 7

    decisions = {(d.decision, d.reason): d.count for d in stats.decisions}
    assert decisions == {("pending", None): 6, ("accepted", None): 1,
                         ("rejected", "too dynamic"): 1, ("rejected", "duplicate of clip …"): 2}
    assert stats.clips == 10


def test_caption_vocabulary(known):
    c = dataset_stats(known).captions
    assert c.captioned == 5 and c.read == 5
    # words = spaces + 1: 15, 17, 12, 8, 11
    assert c.words.edges == tuple(range(8, 19))
    assert c.words.counts == (1, 0, 0, 1, 1, 0, 0, 1, 0, 1)
    assert c.openings[0].phrase == "the video shows" and c.openings[0].captions == 4
    ngrams = {(p.kind, p.phrase): p.captions for p in c.ngrams}
    assert ngrams[("2-gram", "the video")] == 4
    assert ngrams[("3-gram", "video shows a")] == 3
    assert ngrams[("4-gram", "a girl running through")] == 2
    assert all(n >= 2 for n in ngrams.values())
    assert [p.phrase for p in c.common_words] == ["a"]  # in all five; the trigger's words left out
    assert [g.clip_ids for g in c.near_duplicates] == [(1, 2)]
    assert c.missing_trigger == 1 and c.missing_trigger_ids == (4,)


def test_pending_beyond_agrees_with_the_rules(known):
    clips = {c.id: c for c in known.list_clips()}
    for value in (21, 44, 45, 46, 68):
        rules = RuleSettings(static_below=None, dynamic_above=None, flicker_above=None,
                             reject_cuts=False, min_frames=value, text_above=None)
        expected = sorted(i for i, c in clips.items() if c.decision == "pending"
                          and clip_reason(c, rules))
        assert pending_clips(known, "frames", value, "below", 16.0) == (len(expected), expected)
    for value in (0.45, 0.5, 1.0, 3.31):
        expected = [i for i, c in clips.items() if c.decision == "pending"
                    and c.motion is not None and c.motion < value]
        assert pending_clips(known, "motion", value, "below", 16.0) == (len(expected), expected)
    # strictly above, as the rule: 12.0 itself stays
    assert pending_clips(known, "motion_p95", 12.0, "above", 16.0) == (1, [6])
    assert pending_clips(known, "motion_p95", 11.9, "above", 16.0, limit=1) == (3, [4])
    # any overlay text rejects (the rule's default, share above 0): clips 3, 4, 6
    assert pending_clips(known, "text_share", 0.0, "above", 16.0, limit=9) == (3, [3, 4, 6])
    assert pending_clips(known, "text_share", 0.3, "above", 16.0, limit=9) == (2, [4, 6])
    with pytest.raises(ValueError, match="no rule"):
        pending_clips(known, "caption", 1, "below", 16.0)


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(30000, 1001), Fraction(32),
                                 Fraction(12), Fraction(48), Fraction(24000, 1001)])
def test_frames_at_sql_is_the_exporters_count(tmp_path, fps):
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    catalog.upsert_source(path=Path("/f.mkv"), size=1, mtime=1.0, content_hash="h",
                          container="x", codec="h264", fps=fps, frame_count=400,
                          header_frame_count=None, width=64, height=64, duration=1.0,
                          clip_ranges=[(0, n) for n in range(1, 200)])
    with catalog.session() as s:
        rows = s.execute(select(Clip.frames, frames_at_sql(16.0))
                         .join(Source, Source.id == Clip.source_id)).all()
    catalog.close()
    assert len(rows) == 199
    assert all(got == len(resample_indices(n, fps, 16.0)) for n, got in rows)


def test_bin_counts_folds_a_thin_tail_and_keeps_edges_on_the_grid():
    rows = [(b, 10) for b in range(20)] + [(1000, 1)]  # one outlier far out
    hist = bin_counts(rows, 20, key="m", label="m", unit="", start=0)
    assert hist.open_end and hist.edges[0] == 0 and hist.counts[-1] >= 1
    assert sum(hist.counts) == 201
    assert all(round(e * 20) == e * 20 or abs(e * 20 - round(e * 20)) < 1e-9 for e in hist.edges)
    assert bin_counts([], 1, key="x", label="x", unit="").counts == ()


def test_one_scan_packs_several_figures_and_decodes_them(known):
    from curator.core.stats.clips import Measure, measure_histograms

    with known.session() as s:
        p95, motion = measure_histograms(s, [
            Measure(Clip.motion_p95, 1, "p95", "p95", "", binning={"tail_share": 0.0}),
            Measure(Clip.motion, 1, "m", "m", "", most=12, binning={"tail_share": 0.0})])
    # whole units: p95 0.9 2 3 11.95 12 12.05 30 8 45 → 0 2 3 11 12 12 30 8 45
    assert p95.missing == 1 and p95.total == 9
    assert dict(zip(p95.edges, p95.counts, strict=False))[12] == 2
    # motion above `most` (39.99 → 39) is counted with 12, the kept tail
    assert motion.missing == 1 and motion.edges[-2] == 12 and motion.counts[-1] == 2
    assert motion.counts[0] == 4 and motion.counts[3] == 1 and motion.counts[7] == 1


def test_coarser_merges_whole_bins():
    hist = bin_counts([(b, b + 1) for b in range(10)], 1, key="x", label="x", unit="", start=0,
                      tail_share=0.0)
    merged = coarser(hist, 4)
    assert merged.edges == (0, 3, 6, 9, 12) and merged.counts == (6, 15, 24, 10)
    assert coarser(hist, 10) is hist


def test_near_duplicates_of_one_template_are_one_group():
    template = "a girl in a red coat walks along the beach at sunset while gulls circle above"
    captions = [(i, words(template + f" number{i}")) for i in range(300)]
    captions += [(1000, words("a completely different caption about a train in the snow"))]
    groups = near_duplicate_groups(captions)
    assert len(groups) == 1 and groups[0] == list(range(300))


def test_plan_targets_from_the_default_plan():
    from curator.core.export.plan import load_project_plan

    targets = plan_targets(load_project_plan(Path("/nonexistent-project")))
    assert targets and all(t > 1 and (t - 1) % 4 == 0 for t in targets)


def test_every_stats_query_walks_an_index_on_sqlite(known):
    """At 1M clips a table scan or a sort of every row costs 0.3–0.8 s a figure; every query
    of `dataset_stats` must be a walk or a search of an index (catalog revision 0005) instead.
    The expression indexes serve only queries spelling the same expression: this says so."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(known.engine, "before_cursor_execute", seen)
    try:
        dataset_stats(known, workers=1)
    finally:
        event.remove(known.engine, "before_cursor_execute", seen)
    on_clips = [(q, p) for q, p in statements if "FROM clips" in q]
    assert len(on_clips) >= 9  # the figures, the sample and the captions to judge
    with known.engine.connect() as connection:
        for statement, parameters in on_clips:
            plan = [row[-1] for row in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters)]
            assert all("INDEX" in step or "INTEGER PRIMARY KEY" in step
                       for step in plan if "clips" in step), (statement, plan)
            assert not any("TEMP B-TREE" in step for step in plan), (statement, plan)


@pytest.mark.parametrize("trigger", ["Ghibli style.", "ohwx", "A very long trigger phrase, "
                                     "longer than the forty indexed characters."])
def test_captions_without_the_trigger_are_the_rules_count(tmp_path, trigger):
    """The captions outside the indexed range [trigger + ' ', trigger + '!') are the ones the
    rule judges: whatever their case, spacing or punctuation, the count is the rule's."""
    from curator.core.trigger import starts_with_trigger

    tails = ["", " A cat.", ".", "!", "!x", "  two spaces", "\tA tab", " é", "s plural",
             " ", "\u00e9", "\U0001f600 emoji"]
    texts = [trigger + tail for tail in tails]
    texts += [trigger.lower() + " a cat", trigger.upper() + " A CAT", " " + trigger + " lead",
              trigger[:-1], "Other caption", "é " + trigger, "\U0001f600"]
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    catalog.upsert_source(path=Path("/f.mkv"), size=1, mtime=1.0, content_hash="h",
                          container="x", codec="h264", fps=Fraction(16), frame_count=1000,
                          header_frame_count=None, width=64, height=64, duration=1.0,
                          clip_ranges=[(i, i + 1) for i in range(len(texts) + 2)])
    for clip_id, text in enumerate(texts, start=1):
        catalog.save_caption(text, clip_id=clip_id)
    catalog.update_settings(trigger=trigger)
    expected = [i for i, t in enumerate(texts, start=1) if not starts_with_trigger(t, trigger)]
    captions = dataset_stats(catalog).captions
    catalog.close()
    assert 3 <= len(expected) < len(texts)
    assert (captions.missing_trigger, list(captions.missing_trigger_ids)) == (len(expected),
                                                                              expected)
    assert captions.captioned == captions.read == len(texts)
