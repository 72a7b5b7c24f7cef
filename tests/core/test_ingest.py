"""ingest_paths: exact sources and scene clips, idempotent re-ingest, moves, changes, bad input."""

from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from curator.core.catalog import Catalog
from curator.core.ingest import discover, ingest_paths
from curator.core.jobs import CancelToken, Progress
from curator.core.media.thumbnails import clip_thumbnail_paths
from tests.media_factory import (
    Segment,
    chmod_blocks_reading,
    make_audio_only,
    make_corrupt_middle,
    make_empty,
    make_image,
    make_text_as_video,
    make_truncated,
    make_undecodable,
    make_unknown_codec,
    make_video,
)

SIZE = (160, 90)
FILM = [Segment("texture", 30, seed=1), Segment("bars", 24, seed=2, flashes=(8,)),
        Segment("fast", 26, seed=3), Segment("color", 20, seed=4)]
FILM_CUTS = [30, 54, 80]


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pristine media, copied into each test's own folder (tests move and overwrite files)."""
    d = tmp_path_factory.mktemp("ingest_library")
    make_video(d / "film.mp4", FILM, size=SIZE)
    make_video(d / "precut.mkv", [Segment("texture", 25, seed=5)], size=SIZE)
    make_video(d / "longer.mp4", FILM + [Segment("texture", 20, seed=6)], size=SIZE)
    make_video(d / "same_length.mp4", [Segment("noise", 100, seed=7)], size=SIZE)
    make_video(d / "one_frame.mp4", [Segment("color", 1, seed=8)], size=SIZE)
    make_video(d / "scratch_src.mp4", [Segment("texture", 60, seed=9)], size=SIZE, gop=6)
    make_image(d / "still.png", size=(64, 48))
    make_image(d / "photo.jpg", size=(40, 30), color=(10, 120, 200))
    return d


@pytest.fixture
def media(tmp_path: Path, library: Path) -> Path:
    folder = tmp_path / "footage"
    folder.mkdir()
    for name in ("film.mp4", "precut.mkv", "still.png", "photo.jpg"):
        shutil.copy(library / name, folder / name)
    return folder


def _ingest(catalog: Catalog, thumbs: Path, *paths: Path, **kwargs):
    return ingest_paths(catalog, list(paths), thumbs_dir=thumbs, **kwargs)


def test_folder_of_videos_and_images(catalog: Catalog, project, media: Path) -> None:
    report = _ingest(catalog, project.thumbs_dir, media)
    assert (report.sources, report.images, report.failed) == (2, 2, [])
    sources = {s.path.name: s for s in catalog.list_sources()}
    film = sources["film.mp4"]
    assert (film.frame_count, film.fps, film.width, film.height) == (100, Fraction(24), 160, 90)
    assert (film.codec, film.container) == ("h264", "mp4")
    assert film.duration == pytest.approx(100 / 24)
    assert len(film.content_hash) == 64
    clips = sorted(catalog.list_clips(source_id=film.id), key=lambda c: c.start_frame)
    assert [(c.start_frame, c.end_frame) for c in clips] == [(0, 30), (30, 54), (54, 80), (80, 100)]
    assert report.clips == 5  # four scenes and the pre-cut clip
    for clip in catalog.list_clips():
        assert all(p.exists() for p in clip_thumbnail_paths(project.thumbs_dir, clip))
    images = {i.path.name: (i.width, i.height) for i in catalog.list_images()}
    assert images == {"still.png": (64, 48), "photo.jpg": (40, 30)}
    job = catalog.list_jobs(kind="ingest")[0]
    assert job.status == "done" and job.result["sources"] == 2


def test_ingesting_again_adds_nothing(catalog: Catalog, project, media: Path) -> None:
    _ingest(catalog, project.thumbs_dir, media)
    before = [(c.id, c.start_frame, c.end_frame) for c in catalog.list_clips()]
    again = _ingest(catalog, project.thumbs_dir, media, media / "film.mp4")
    assert (again.sources, again.clips, again.images, again.failed) == (0, 0, 0, [])
    assert again.unchanged == 4
    assert again.summary() == "0 new clips from 0 videos; 4 files unchanged"
    assert [(c.id, c.start_frame, c.end_frame) for c in catalog.list_clips()] == before
    assert len(catalog.list_sources()) == 2 and len(catalog.list_images()) == 2


def test_scenes_never_makes_one_clip_per_file(catalog: Catalog, project, media: Path) -> None:
    report = _ingest(catalog, project.thumbs_dir, media / "film.mp4", scenes="never")
    assert report.clips == 1
    (clip,) = catalog.list_clips()
    assert (clip.start_frame, clip.end_frame) == (0, 100)


def test_min_scene_frames_setting(catalog: Catalog, project, media: Path) -> None:
    _ingest(catalog, project.thumbs_dir, media / "film.mp4", min_scene_frames=25)
    ranges = sorted((c.start_frame, c.end_frame) for c in catalog.list_clips())
    # 54 is only 24 frames after 30, and 80 only 20 frames before the end
    assert ranges == [(0, 30), (30, 100)]
    _ingest(catalog, project.thumbs_dir, media / "precut.mkv", min_scene_frames=3)
    assert len(catalog.list_clips()) == 3


def test_moved_file_is_matched_by_hash(catalog: Catalog, project, media: Path) -> None:
    _ingest(catalog, project.thumbs_dir, media)
    clip = min(catalog.list_clips(), key=lambda c: (c.source_path.name != "film.mp4", c.start_frame))
    catalog.set_decision([clip.id], "accepted")
    catalog.save_caption("a trigger, a slow pan", clip_id=clip.id)
    moved_to = media / "renamed" / "l'été film.mp4"
    moved_to.parent.mkdir()
    (media / "film.mp4").rename(moved_to)
    report = _ingest(catalog, project.thumbs_dir, media)
    assert (report.moved, report.sources, report.clips) == (1, 0, 0)
    same = catalog.get_clip(clip.id)
    assert same.source_path == moved_to
    assert (same.decision, same.caption) == ("accepted", "a trigger, a slow pan")
    assert len(catalog.list_sources()) == 2


def test_copy_of_a_known_file_is_not_added_twice(catalog: Catalog, project, media: Path) -> None:
    _ingest(catalog, project.thumbs_dir, media / "film.mp4")
    shutil.copy(media / "film.mp4", media / "copy of film.mp4")
    report = _ingest(catalog, project.thumbs_dir, media / "copy of film.mp4")
    assert report.sources == 0 and report.failed == []
    assert "already in the catalog" in report.warnings[0].reason
    assert len(catalog.list_sources()) == 1


def test_changed_file_is_probed_again_keeping_surviving_clips(
        catalog: Catalog, project, media: Path, library: Path) -> None:
    _ingest(catalog, project.thumbs_dir, media / "film.mp4")
    first = next(c for c in catalog.list_clips() if c.start_frame == 0)
    catalog.set_decision([first.id], "rejected", "too dark")
    shutil.copy(library / "longer.mp4", media / "film.mp4")
    os.utime(media / "film.mp4", (1_000_000, 1_000_000))
    report = _ingest(catalog, project.thumbs_dir, media / "film.mp4")
    assert report.sources == 1 and report.failed == []
    (source,) = catalog.list_sources()
    assert source.frame_count == 120
    ranges = sorted((c.start_frame, c.end_frame) for c in catalog.list_clips())
    assert ranges == [(0, 30), (30, 54), (54, 80), (80, 100), (100, 120)]
    kept = catalog.get_clip(first.id)
    assert (kept.decision, kept.reason) == ("rejected", "too dark")


def test_changed_file_never_drops_a_captioned_or_decided_clip(
        catalog: Catalog, project, media: Path, library: Path) -> None:
    _ingest(catalog, project.thumbs_dir, media / "film.mp4")
    touched = max(catalog.list_clips(), key=lambda c: c.start_frame)  # its range will change
    catalog.trim_clip(touched.id, touched.start_frame + 1, touched.end_frame)
    catalog.save_caption("a trigger, written by hand", clip_id=touched.id)
    shutil.copy(library / "longer.mp4", media / "film.mp4")
    os.utime(media / "film.mp4", (1_000_000, 1_000_000))
    report = _ingest(catalog, project.thumbs_dir, media / "film.mp4")
    assert report.failed == []
    kept = catalog.get_clip(touched.id)
    assert kept.caption == "a trigger, written by hand"
    assert (kept.start_frame, kept.end_frame) == (touched.start_frame + 1, touched.end_frame)


def test_changed_file_with_same_frame_count_keeps_its_clips(
        catalog: Catalog, project, media: Path, library: Path) -> None:
    _ingest(catalog, project.thumbs_dir, media / "film.mp4")
    before = sorted((c.id, c.start_frame, c.end_frame) for c in catalog.list_clips())
    shutil.copy(library / "same_length.mp4", media / "film.mp4")
    report = _ingest(catalog, project.thumbs_dir, media / "film.mp4")
    assert report.sources == 1 and report.clips == 0
    assert sorted((c.id, c.start_frame, c.end_frame) for c in catalog.list_clips()) == before
    for clip in catalog.list_clips():  # thumbnails follow the new content (new hash)
        assert all(p.exists() for p in clip_thumbnail_paths(project.thumbs_dir, clip))


def test_scenes_always_resplits_known_sources_keeping_work(
        catalog: Catalog, project, media: Path) -> None:
    _ingest(catalog, project.thumbs_dir, media / "film.mp4", scenes="never")
    (whole,) = catalog.list_clips()
    catalog.save_caption("a trigger, the whole film", clip_id=whole.id)
    report = _ingest(catalog, project.thumbs_dir, media / "film.mp4", scenes="always")
    assert report.clips == 4
    ranges = sorted((c.start_frame, c.end_frame) for c in catalog.list_clips())
    assert ranges == [(0, 30), (0, 100), (30, 54), (54, 80), (80, 100)]
    assert catalog.get_clip(whole.id).caption == "a trigger, the whole film"


def test_bad_inputs_fail_or_warn_and_the_batch_goes_on(
        catalog: Catalog, project, tmp_path: Path, library: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    make_empty(bad / "empty.mp4")
    make_text_as_video(bad / "notes.mp4")
    make_truncated(library / "film.mp4", bad / "truncated.mp4", keep=0.5)
    make_audio_only(bad / "song.mp4")
    make_unknown_codec(bad / "alien.avi")
    make_undecodable(bad / "liar.avi")
    make_corrupt_middle(library / "scratch_src.mp4", bad / "scratched.mp4")
    shutil.copy(library / "one_frame.mp4", bad / "one_frame.mp4")
    shutil.copy(library / "precut.mkv", bad / "l'été \"ghibli\" ümlaut.mkv")
    (bad / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    report = _ingest(catalog, project.thumbs_dir, bad)
    failed = {Path(f.path).name: f.reason for f in report.failed}
    assert set(failed) == {"empty.mp4", "notes.mp4", "truncated.mp4", "song.mp4", "alien.avi",
                           "liar.avi", "broken.png"}
    for name, reason in failed.items():
        assert reason.startswith(name + ": "), reason
        assert "Traceback" not in reason
    assert "empty" in failed["empty.mp4"]
    assert "text file" in failed["notes.mp4"]
    assert "cut short" in failed["truncated.mp4"]
    assert "only audio" in failed["song.mp4"]
    assert "codec" in failed["alien.avi"]
    assert "decoded" in failed["liar.avi"]
    sources = {s.path.name: s for s in catalog.list_sources()}
    assert set(sources) == {"scratched.mp4", "one_frame.mp4", "l'été \"ghibli\" ümlaut.mkv"}
    assert sources["one_frame.mp4"].frame_count == 1
    assert sources["scratched.mp4"].status == "partial"
    assert 0 < sources["scratched.mp4"].frame_count < 60
    assert any(Path(w.path).name == "scratched.mp4" for w in report.warnings)
    clip_sources = sorted(c.source_path.name for c in catalog.list_clips())
    assert clip_sources.count("one_frame.mp4") == 1


def test_unreadable_folder_is_reported(catalog: Catalog, project, tmp_path: Path,
                                       library: Path) -> None:
    top = tmp_path / "top"
    locked = top / "locked"
    locked.mkdir(parents=True)
    shutil.copy(library / "precut.mkv", locked / "hidden.mkv")
    shutil.copy(library / "precut.mkv", top / "visible.mkv")
    if not chmod_blocks_reading(locked):
        pytest.skip("running as root (or on a filesystem without permissions): chmod 000 "
                    "does not stop this process reading a folder")
    os.chmod(locked, 0)
    try:
        report = _ingest(catalog, project.thumbs_dir, top)
    finally:
        os.chmod(locked, 0o755)
    assert [s.path.name for s in catalog.list_sources()] == ["visible.mkv"]
    assert len(report.failed) == 1
    assert "locked" in report.failed[0].reason and "permission denied" in report.failed[0].reason


def test_missing_path_is_a_failure(catalog: Catalog, project, tmp_path: Path) -> None:
    report = _ingest(catalog, project.thumbs_dir, tmp_path / "nowhere.mp4")
    assert report.failed[0].reason == "nowhere.mp4: file not found"


def test_cancel_keeps_what_is_done(catalog: Catalog, project, media: Path) -> None:
    token = CancelToken()
    seen: list[str] = []

    def progress(p: Progress) -> None:
        if p.item and p.item not in seen:
            seen.append(p.item)
            if len(seen) == 2:
                token.cancel()

    report = _ingest(catalog, project.thumbs_dir, media / "film.mp4", media / "precut.mkv",
                     progress=progress, cancel=token)
    assert report.cancelled
    assert [s.path.name for s in catalog.list_sources()] == ["film.mp4"]
    assert len(catalog.list_clips()) == 4
    assert catalog.list_jobs(kind="ingest")[0].status == "cancelled"


def test_a_crash_mid_batch_loses_nothing_done(catalog: Catalog, project, media: Path) -> None:
    def progress(p: Progress) -> None:
        # after the second file is decoded, before it is written: the process dies (Ctrl-C)
        if p.item == "precut.mkv" and p.message.startswith("frame"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _ingest(catalog, project.thumbs_dir, media / "film.mp4", media / "precut.mkv",
                progress=progress)
    # the first source is whole; the one being decoded left nothing half-written
    assert [s.path.name for s in catalog.list_sources()] == ["film.mp4"]
    assert sorted(c.start_frame for c in catalog.list_clips()) == [0, 30, 54, 80]
    assert catalog.list_jobs(kind="ingest")[0].status == "failed"


def test_project_files_are_never_ingested(catalog: Catalog, project, media: Path) -> None:
    _ingest(catalog, project.thumbs_dir, media / "film.mp4")
    report = _ingest(catalog, project.thumbs_dir, project.root)
    assert report.failed == [] and report.images == 0 and report.sources == 0


def test_discover_takes_known_extensions_in_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    for name in ("a/x.MP4", "a/y.txt", "a/.hidden.mp4", "b.png", "c.json"):
        (tmp_path / name).write_bytes(b"x")
    files, failures = discover([tmp_path, tmp_path / "c.json"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["b.png", "a/x.MP4", "c.json"]
    assert failures == []


def test_analyzer_runs_in_the_same_pass(catalog: Catalog, project, media: Path) -> None:
    analysis = pytest.importorskip("curator.core.analysis")
    report = _ingest(catalog, project.thumbs_dir, media / "film.mp4",
                     analyzer_factory=analysis.make_frame_analyzer)
    assert report.failed == [] and not any("analysed" in w.reason for w in report.warnings)
    clips = catalog.list_clips()
    assert len(clips) == 4
    assert all(c.analysis and c.motion is not None for c in clips)
