"""What a trainer makes of one clip (`curator.core.export.trainer_frames`): frames at the
training fps, the bucket (TRAINERS.md §1.5) and the windows frame extraction cuts (§1.7)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from curator.core.catalog import ClipRow
from curator.core.export.extraction import loaded_frame_count
from curator.core.export.plan import DEFAULT_PRESET, load_plan, load_preset
from curator.core.export.trainer_frames import (
    bucket_geometry,
    musubi_kept_indices,
    playback_frames,
    position_of,
    trainer_frames,
    video_sections,
)
from curator.core.media.frames import resample_indices


def _clip(width: int, height: int, frames: int, fps: Fraction = Fraction(24),
          start: int = 100) -> ClipRow:
    return ClipRow(id=1, source_id=1, source_path=Path("/footage/film.mkv"), source_hash="h",
                   start_frame=start, end_frame=start + frames, fps=fps, width=width,
                   height=height, decision="accepted", reason=None, decided_by=None,
                   caption="c", caption_origin="manual", caption_is_manual=True, motion=None,
                   cuts=None, analysis=None, parent_id=None, tags=())


def test_trainer_frames_for_a_1920x1040_clip() -> None:
    plan = load_preset(DEFAULT_PRESET)
    sections = {s.name: s for s in video_sections(plan)}
    clip = _clip(1920, 1040, 120)  # 5 s at 24 fps: 80 frames at 16 fps
    small = trainer_frames(clip, plan, sections["clips_384x208"])
    assert small.bucket == (384, 208)
    assert small.geometry.size == (768, 416)  # the export is scaled for the larger section
    assert small.geometry.cover == (384, 208) and small.geometry.offset == (0, 0)
    assert small.source_frames == tuple(100 + i for i in resample_indices(120, 24, 16.0))
    n = len(small.source_frames)
    assert n == 80
    starts = np.linspace(0, n - 45, 2, dtype=int)
    assert small.windows == tuple((int(s), 45) for s in starts) == ((0, 45), (35, 45))
    head = trainer_frames(clip, plan, sections["clips_768x416"])
    assert head.bucket == (768, 416)
    assert head.windows == ((0, 1), (0, 21)) and head.loaded == 21
    # a clip of exactly 45 frames at 16 fps: both uniform windows start at 0, one cache file
    exact = trainer_frames(_clip(1920, 1040, 68), plan, sections["clips_384x208"])
    assert len(exact.source_frames) == 45 and exact.windows == ((0, 45),)
    assert exact.duplicates == 1


def test_bucket_geometry_crops_the_centre() -> None:
    g = bucket_geometry((1920, 1080), (384, 208))  # 16:9 into a 384×208 bucket
    assert g.bucket == (384, 208)
    assert g.cover == (384, 216) and g.offset == (0, 4)
    x, y, w, h = g.crop_in_source((1920, 1080))
    assert (x, y, w, h) == (0.0, 20.0, 1920.0, 1040.0)


def test_source_fps_plan_uses_musubis_own_frame_dropping(tmp_path: Path) -> None:
    for frames in (1, 2, 30, 45, 88, 241):
        for src in (30.0, 24.0, 25.0, 8.0):
            for end in (None, 21, 45):
                kept = musubi_kept_indices(frames, src, 16.0, end)
                assert len(kept) == loaded_frame_count(frames, source_fps=src, target_fps=16.0,
                                                       end_frame=end)
                assert kept == sorted(set(kept))
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text('name = "src"\nfps = "source"\n[[sections]]\nname = "v"\n'
                         'kind = "videos"\nresolution = [384, 208]\nframe_extraction = "head"\n'
                         'target_frames = [1, 21]\n')
    plan = load_plan(plan_file)
    clip = _clip(1920, 1040, 60, fps=Fraction(30))
    t = trainer_frames(clip, plan, plan.sections[0])
    assert t.fps == 16.0
    assert list(t.source_frames) == [100 + i for i in musubi_kept_indices(60, 30.0, 16.0)]
    assert t.loaded == 21 and t.windows == ((0, 1), (0, 21))


def test_playback_helpers() -> None:
    assert playback_frames(10, 14, Fraction(24)) == [10, 11, 12, 13]
    assert playback_frames(0, 48, Fraction(24), 16.0) == resample_indices(48, 24, 16.0)
    seq = [0, 1, 3, 4, 6]
    assert [position_of(seq, f) for f in (0, 2, 3, 5, 9)] == [0, 1, 2, 3, 4]


def test_trainer_frames_follow_the_letterbox_crop() -> None:
    """A 1920x1080 clip with 140 px bars: export keeps 1920x800, the bucket follows that shape,
    and the trainer view decodes so the bucket comes from inside the crop."""
    from dataclasses import replace

    plan = load_preset(DEFAULT_PRESET)
    sections = {s.name: s for s in video_sections(plan)}
    clip = replace(_clip(1920, 1080, 120),
                   analysis={"borders": {"crop": [0, 140, 1920, 800]}})
    t = trainer_frames(clip, plan, sections["clips_384x208"])
    assert t.crop == (0, 140, 1920, 800)
    assert abs(t.geometry.size[0] / t.geometry.size[1] - 1920 / 800) < 0.02
    w, h, (x, y, bw, bh) = t.decode_box((1920, 1080))
    assert (bw, bh) == t.bucket and x + bw <= w and y + bh <= h
    assert y >= round(140 * h / 1080) - 1  # the bars stay above the bucket
    whole = trainer_frames(replace(clip, crop=()), plan, sections["clips_384x208"])
    assert whole.crop is None and whole.geometry.size[1] / whole.geometry.size[0] > 0.5
