"""ingest_paths with worker processes: the same catalog as one by one, bad files, copies, cancel."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from curator.core.analysis import FrameAnalyzer, make_frame_analyzer
from curator.core.catalog import Catalog
from curator.core.ingest import MIN_POOL_VIDEOS, ingest_paths
from curator.core.jobs import CancelToken, Progress
from curator.core.media import SourceInfo
from curator.core.media.thumbnails import clip_thumbnail_paths
from tests.media_factory import Segment, make_text_as_video, make_video

SIZE = (160, 90)
CLIPS = {  # name: segments (the first holds a cut at frame 14)
    "a_scene.mp4": [Segment("texture", 14, seed=31), Segment("bars", 12, seed=32)],
    "b_scene.mkv": [Segment("fast", 22, seed=33)],
    "c_scene.mp4": [Segment("whip", 24, seed=34)],
    "d_scene.mov": [Segment("noise", 18, seed=35)],
    "e_scene.mp4": [Segment("texture", 20, seed=36, speed=3.0)],
}


@pytest.fixture(scope="module")
def clip_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("clip_library")
    for name, segments in CLIPS.items():
        make_video(d / name, segments, size=SIZE)
    return d


@pytest.fixture
def folder(tmp_path: Path, clip_library: Path) -> Path:
    out = tmp_path / "clips"
    shutil.copytree(clip_library, out)
    return out


def _summary(catalog: Catalog) -> list[tuple]:
    """Sources in id order with their clips and the clips' analysis."""
    out = []
    for source in sorted(catalog.list_sources(), key=lambda s: s.id):
        clips = sorted(catalog.list_clips(source_id=source.id), key=lambda c: c.start_frame)
        out.append((source.path.name, source.frame_count, source.status,
                    [(c.start_frame, c.end_frame, c.motion, c.analysis) for c in clips]))
    return out


@pytest.mark.slow
def test_worker_processes_give_the_catalog_one_by_one_gives(folder: Path, project,
                                                            tmp_path: Path) -> None:
    assert len(CLIPS) >= MIN_POOL_VIDEOS
    make_text_as_video(folder / "broken.mp4")
    shutil.copy(folder / "c_scene.mp4", folder / "c_scene_copy.mp4")  # while c_scene decodes
    seen: list[Progress] = []
    pooled = ingest_paths(project.catalog, [folder], thumbs_dir=project.thumbs_dir,
                          analyzer_factory=make_frame_analyzer, workers=2,
                          progress=seen.append)
    alone_catalog = Catalog(f"sqlite:///{tmp_path / 'alone.db'}")
    try:
        alone = ingest_paths(alone_catalog, [folder], thumbs_dir=tmp_path / "thumbs",
                             analyzer_factory=make_frame_analyzer, workers=1)
        assert _summary(project.catalog) == _summary(alone_catalog)
    finally:
        alone_catalog.close()
    assert (pooled.sources, pooled.clips, pooled.unchanged) == (5, 6, 1)
    assert pooled.to_json() == alone.to_json()
    # the bad file failed alone, with its reason; the copy was recognised, not decoded twice
    assert [f.reason for f in pooled.failed] == [
        "broken.mp4: a text file, not a video (only its name says otherwise)"]
    copies = [w.reason for w in pooled.warnings if "the same video as" in w.reason]
    assert len(copies) == 1 and copies[0].startswith("c_scene_copy.mp4: ")
    frames = {s.path.name: s.frame_count for s in project.catalog.list_sources()}
    assert frames == {name: sum(seg.frames for seg in segs) for name, segs in CLIPS.items()}
    for clip in project.catalog.list_clips():
        assert clip.analysis is not None and clip.analysis["range"] == [clip.start_frame,
                                                                         clip.end_frame]
        assert all(p.exists() for p in clip_thumbnail_paths(project.thumbs_dir, clip))
    assert seen[-1] == Progress(done=7, total=7, message="ingest finished")
    assert {p.item for p in seen if p.item} == {p.name for p in folder.iterdir()}
    assert project.catalog.list_jobs(kind="ingest")[0].status == "done"


@pytest.mark.slow
def test_a_cancel_stops_the_workers_and_keeps_what_is_stored(folder: Path, project) -> None:
    token = CancelToken()

    def progress(p: Progress) -> None:
        if p.done >= 1:  # the first file is in the catalog
            token.cancel()

    report = ingest_paths(project.catalog, [folder], thumbs_dir=project.thumbs_dir,
                          analyzer_factory=make_frame_analyzer, workers=2, progress=progress,
                          cancel=token)
    assert report.cancelled
    sources = project.catalog.list_sources()
    assert 1 <= len(sources) < len(CLIPS)
    for source in sources:  # each stored source is whole: clips, analysis
        clips = project.catalog.list_clips(source_id=source.id)
        assert clips and all(c.analysis is not None for c in clips)
    assert project.catalog.list_jobs(kind="ingest")[0].status == "cancelled"
    # the rest comes with the next run
    again = ingest_paths(project.catalog, [folder], thumbs_dir=project.thumbs_dir, workers=2)
    assert (again.sources + again.unchanged, again.failed) == (len(CLIPS), [])


def _analyzer_dying_on_crash_files(info: SourceInfo) -> FrameAnalyzer:
    if "crash" in info.path.name:
        os._exit(139)  # the worker process ends as it would when FFmpeg segfaults
    return make_frame_analyzer(info)


@pytest.mark.slow
def test_a_file_that_kills_its_worker_fails_alone(folder: Path, project) -> None:
    make_video(folder / "b_crash.mp4", [Segment("bars", 20, seed=37)], size=SIZE)
    report = ingest_paths(project.catalog, [folder], thumbs_dir=project.thumbs_dir,
                          analyzer_factory=_analyzer_dying_on_crash_files, workers=2)
    assert [(Path(f.path).name, f.reason) for f in report.failed] == [(
        "b_crash.mp4", ("b_crash.mp4: the decoder crashed on this file (its worker process "
                        "died); the other files go on"))]
    assert sorted(s.path.name for s in project.catalog.list_sources()) == sorted(CLIPS)
    assert all(c.analysis is not None for c in project.catalog.list_clips())
    assert (report.done, project.catalog.list_jobs(kind="ingest")[0].status) == (6, "done")
