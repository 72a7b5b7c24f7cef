"""analyze_clips and auto_decide on a real SQLite catalog, with footage of known truth."""

from __future__ import annotations

import pytest

from curator.core.analysis import analyze_clips, auto_decide, group_duplicates, is_current
from curator.core.analysis.phash import hex_to_hash
from curator.core.jobs import CancelToken, Progress
from tests import analysis_fixtures as af


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, af.Footage]:
    folder = tmp_path_factory.getbasetemp() / "analysis-footage"
    folder.mkdir(exist_ok=True)
    out = {
        "slow": af.pan(folder, "slow", 1.0),
        "frozen": af.frozen(folder),
        "fast": af.pan(folder, "fast", 14.0),
        "strobe": af.strobe(folder),
        "cut": af.hard_cut(folder),
        "dissolve": af.crossfade(folder),
    }
    out["copy"] = af.reencoded(folder, out["slow"])
    return out


@pytest.fixture
def clips(catalog, footage) -> dict[str, int]:
    """Every footage file as one clip, in the order above (so `slow` has the lowest id)."""
    return {name: af.add_source(catalog, f.path)[1][0] for name, f in footage.items()}


def test_every_clip_is_analysed_once_and_a_second_run_does_nothing(catalog, clips):
    seen: list[Progress] = []
    report = analyze_clips(catalog, progress=seen.append, workers=2)
    assert sorted(report.analyzed) == sorted(clips.values())
    assert report.failed == [] and not report.cancelled
    total = sum(c.frames for c in catalog.list_clips())
    assert seen[-1].done == seen[-1].total == report.frames == total
    cut = catalog.get_clip(clips["cut"])
    assert cut.cuts == 1 and cut.analysis["cut_frames"] == [30]
    assert catalog.get_clip(clips["slow"]).cuts == 0
    for clip in catalog.list_clips():
        assert is_current(clip)
        # Flow means nothing while a strobe flips the light: no motion figure for it.
        assert (clip.motion is None) == (clip.id == clips["strobe"])
        assert clip.analysis["range"] == [clip.start_frame, clip.end_frame]
    [job] = catalog.list_jobs(kind="analyze")
    assert job.status == "done" and job.result["analyzed"] == len(clips)

    again = analyze_clips(catalog)
    assert again.analyzed == [] and again.up_to_date == len(clips)
    assert len(catalog.list_jobs(kind="analyze")) == 1  # nothing to do, no job


def test_a_trimmed_clip_is_analysed_again_and_force_redoes_all(catalog, clips):
    analyze_clips(catalog)
    catalog.trim_clip(clips["cut"], 0, 30)
    report = analyze_clips(catalog)
    assert report.analyzed == [clips["cut"]]
    assert catalog.get_clip(clips["cut"]).cuts == 0
    assert sorted(analyze_clips(catalog, force=True).analyzed) == sorted(clips.values())


def test_clips_of_one_source_share_one_decode_and_keep_their_own_results(catalog, footage):
    _, ids = af.add_source(catalog, footage["cut"].path, [(0, 30), (30, 60), (0, 60)])
    report = analyze_clips(catalog, workers=2)
    assert sorted(report.analyzed) == sorted(ids)
    assert report.frames == 60  # the overlapping clip did not cost a second decode
    assert [catalog.get_clip(i).cuts for i in ids] == [0, 0, 1]


def test_a_missing_file_fails_alone(catalog, clips, tmp_path):
    _, [gone] = af.add_source(catalog, tmp_path / "gone.mp4")
    report = analyze_clips(catalog)
    [failure] = report.failed
    assert failure.path.endswith("gone.mp4") and "file not found" in failure.reason
    assert f"clip {gone}" in failure.reason
    assert sorted(report.analyzed) == sorted(clips.values())
    assert catalog.get_clip(gone).analysis is None


def test_a_cancelled_run_keeps_what_it_saved_and_the_next_run_does_the_rest(catalog, clips):
    token = CancelToken()

    def cancel_after_first_clip(progress: Progress) -> None:
        if progress.message.startswith("1/"):
            token.cancel()

    first = analyze_clips(catalog, progress=cancel_after_first_clip, cancel=token, workers=1)
    assert first.cancelled and 1 <= len(first.analyzed) < len(clips)
    [job] = catalog.list_jobs(kind="analyze")
    assert job.status == "cancelled"
    second = analyze_clips(catalog)
    assert not set(first.analyzed) & set(second.analyzed)
    assert sorted(first.analyzed + second.analyzed) == sorted(clips.values())


def test_rules_reject_pending_clips_with_reasons(catalog, clips):
    analyze_clips(catalog)
    decided = dict(auto_decide(catalog))
    assert decided == {
        clips["frozen"]: "too static",
        clips["fast"]: "too dynamic",
        clips["strobe"]: "too dynamic",
        clips["cut"]: "holds a cut",
        clips["dissolve"]: "holds a cut",
        clips["copy"]: f"duplicate of clip {clips['slow']}",
    }
    for clip_id, reason in decided.items():
        clip = catalog.get_clip(clip_id)
        assert (clip.decision, clip.reason, clip.decided_by) == ("rejected", reason, "rule")
    assert catalog.get_clip(clips["slow"]).decision == "pending"
    assert auto_decide(catalog) == []  # nothing pending breaks a rule any more


def test_rules_never_override_a_person(catalog, clips):
    analyze_clips(catalog)
    catalog.set_decision([clips["fast"]], "accepted", by="person")
    catalog.set_decision([clips["frozen"]], "rejected", "blurry", by="person")
    # A person kept the copy: the original becomes the duplicate.
    catalog.set_decision([clips["copy"]], "accepted", by="person")
    decided = dict(auto_decide(catalog))
    assert clips["fast"] not in decided and clips["frozen"] not in decided
    assert decided[clips["slow"]] == f"duplicate of clip {clips['copy']}"
    fast, frozen = catalog.get_clip(clips["fast"]), catalog.get_clip(clips["frozen"])
    assert (fast.decision, fast.decided_by) == ("accepted", "person")
    assert (frozen.decision, frozen.reason) == ("rejected", "blurry")


def test_a_dry_run_changes_nothing_and_thresholds_can_be_switched_off(catalog, clips):
    analyze_clips(catalog)
    planned = auto_decide(catalog, dry_run=True)
    assert len(planned) == 6
    assert catalog.counts()["pending"] == len(clips)
    relaxed = dict(auto_decide(catalog, static_below=None, dynamic_above=None,
                               flicker_above=None, reject_cuts=False, reject_duplicates=False,
                               dry_run=True))
    assert relaxed == {}


def test_too_short_at_the_training_frame_rate(catalog, clips):
    analyze_clips(catalog)
    decided = dict(auto_decide(catalog, min_frames=45, static_below=None, dynamic_above=None,
                               flicker_above=None, reject_cuts=False, reject_duplicates=False,
                               target_fps=16))
    # 48 frames at 24 fps are 32 at 16 fps; the 72-frame crossfade gives 48.
    assert decided[clips["slow"]] == "too short for 45 frames at 16 fps"
    assert clips["dissolve"] not in decided


def test_unanalysed_clips_are_left_to_the_length_rule(catalog, clips):
    assert auto_decide(catalog, dry_run=True) == []
    assert len(auto_decide(catalog, min_frames=45, dry_run=True)) == len(clips) - 1


def test_duplicates_group_copies_and_keep_different_shots_apart(catalog, clips):
    analyze_clips(catalog)
    hashes = {c.id: [hex_to_hash(h) for h in c.analysis["hashes"]] for c in catalog.list_clips()}
    assert group_duplicates(hashes) == [sorted([clips["slow"], clips["copy"]])]


def test_a_longer_copy_is_kept_over_a_shorter_one(catalog, footage):
    _, [short] = af.add_source(catalog, footage["slow"].path, [(4, 40)])
    _, [long] = af.add_source(catalog, footage["copy"].path)
    analyze_clips(catalog)
    assert dict(auto_decide(catalog, static_below=None)) == {short: f"duplicate of clip {long}"}
