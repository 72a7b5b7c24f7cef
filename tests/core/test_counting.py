"""Counting items, batches and steps as the trainers do (TRAINERS.md §0, §1.6-1.11, §4.3).

The vectors come from TRAINERS.md (checked there against musubi-tuner's own loader) and from hand
computation written next to each assertion.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from curator.core.export.counting import (
    ImageMedia,
    VideoMedia,
    count_diffusion_pipe,
    count_musubi,
    count_musubi_section,
    musubi_steps,
)
from curator.core.export.extraction import (
    FrameExtraction,
    loaded_frame_count,
    round_frames,
    round_target_frames,
    uniform_collapses,
)
from curator.core.export.layout import build_layout
from curator.core.export.plan import (
    DatasetPlan,
    DiffusionPipeOptions,
    Section,
    load_preset,
)
from curator.core.media.frames import resample_indices


def video(name: str, frames: int, *, fps: int = 16, size=(1920, 1040),
          caption: str | None = "sks style, a scene") -> VideoMedia:
    return VideoMedia(f"clip:{name}", name, f"{name}.mp4", frames, Fraction(fps), size[0],
                      size[1], caption)


def image(name: str, size=(1920, 1080), caption: str | None = "sks style, a still") -> ImageMedia:
    return ImageMedia(f"image:{name}", name, f"{name}.png", size[0], size[1], caption)


def section(mode: str, targets=(1,), *, name="s", resolution=(768, 416), **kw) -> Section:
    return Section(name, "videos", resolution, FrameExtraction(mode, tuple(targets), **kw))


def per_clip(sec: Section, lengths, **kw) -> list[int]:
    count = count_musubi_section(sec, [video(f"c{n}", n) for n in lengths], **kw)
    return [m.files for m in count.media]


# --- §1.6 target_frames ------------------------------------------------------------------

def test_targets_round_down_to_4n_plus_1():
    # §1.6 examples: 20→17, 24→21, 48→45, 2→1, 45→45
    assert [round_frames(f) for f in (20, 24, 48, 2, 45)] == [17, 21, 45, 1, 45]
    assert round_target_frames([48, 45, 24, 20, 21]) == (17, 21, 45)


# --- §1.7 extraction on N = 30 / 45 / 88 ---------------------------------------------------

def test_chunk_21_45():
    # §1.7: chunk [21,45]: 1+0, 2+1, 4+1, total 9
    assert per_clip(section("chunk", (21, 45)), (30, 45, 88)) == [1, 3, 5]


def test_slide_1_25_stride_10():
    # §1.7: t=1 gives 3/5/9, t=25 gives 1/3/7: total 28
    assert per_clip(section("slide", (1, 25), frame_stride=10), (30, 45, 88)) == [4, 8, 16]


def test_full_lengths():
    # §1.7: full, max_frames 81: lengths 29/45/81
    counted = count_musubi_section(section("full", max_frames=81),
                                   [video(f"c{n}", n) for n in (30, 45, 88)])
    assert [m.windows for m in counted.media] == [((0, 29),), ((0, 45),), ((0, 81),)]


def test_uniform_rounds_20_to_17_and_keeps_4():
    # §1.7: uniform [20→17], S=4: 4/4/4
    assert per_clip(section("uniform", (20,), frame_sample=4), (30, 45, 88)) == [4, 4, 4]


def test_uniform_45_two_samples_collapse_at_exactly_45():
    # §1.7: uniform [45], S=2: 0 / 1 (collapsed) / 2
    sec = section("uniform", (45,), frame_sample=2, name="u45")
    counted = count_musubi_section(sec, [video(f"c{n}", n) for n in (30, 45, 88)])
    assert [m.files for m in counted.media] == [0, 1, 2]
    # linspace(0, 88-45, 2) = [0, 43]
    assert counted.media[2].windows == ((0, 45), (43, 45))
    codes = {(w.code, w.item) for w in counted.warnings}
    assert ("short", "clip:c30") in codes and ("collapse", "clip:c45") in codes
    short = next(w for w in counted.warnings if w.item == "clip:c30")
    assert "c30.mp4" in short.message and "15 short" in short.message and "u45" in short.message


def test_uniform_collapse_rule():
    # starts = int(linspace(0, N-t, S)): all S distinct iff N - t >= S - 1 (§1.10)
    assert uniform_collapses(45, 45, 2) == 1
    assert uniform_collapses(46, 45, 2) == 0
    assert uniform_collapses(47, 45, 4) == 1  # linspace(0,2,4) → 0, 0.67, 1.33, 2 → {0,1,2}
    assert uniform_collapses(44, 45, 2) == 0  # too short: no window at all


def test_head_skips_each_target_separately():
    assert per_clip(section("head", (1, 21, 45)), (1, 20, 21, 44, 45, 200)) == [1, 1, 2, 2, 3, 3]


def test_uniform_with_one_sample_runs_as_head():
    sec = section("uniform", (1, 21), frame_sample=1)
    counted = count_musubi_section(sec, [video("a", 30)])
    assert counted.media[0].windows == ((0, 1), (0, 21))
    assert any(w.code == "uniform_as_head" for w in counted.warnings)


# --- §1.8 source_fps -----------------------------------------------------------------------

def test_source_fps_30_float_accumulator():
    # §1.8: on 16 fps clips of 30 / 45 / 88 frames, source_fps = 30.0 gives N' = 16 / 24 / 47
    assert [loaded_frame_count(n, source_fps=30.0) for n in (30, 45, 88)] == [16, 24, 47]
    # ... which is floor((N-1) * 16/30) + 1 in exact arithmetic
    assert [(n - 1) * 16 // 30 + 1 for n in (30, 45, 88)] == [16, 24, 47]
    full = count_musubi_section(section("full", max_frames=81),
                                [video(f"c{n}", n) for n in (30, 45, 88)], source_fps=30.0)
    assert [m.windows[0][1] for m in full.media] == [13, 21, 45]
    head = count_musubi_section(section("head", (1, 21, 45)),
                                [video(f"c{n}", n) for n in (30, 45, 88)], source_fps=30.0)
    assert [m.files for m in head.media] == [1, 2, 3]


def test_source_fps_8_loses_long_head_targets():
    # §1.8: source_fps 8.0 with head [1,21,45] loads only 23 frames: no 45-frame item, even
    # from the 88-frame clip
    assert loaded_frame_count(88, source_fps=8.0, end_frame=45) == 23
    head = count_musubi_section(section("head", (1, 21, 45)),
                                [video(f"c{n}", n) for n in (30, 45, 88)], source_fps=8.0)
    assert [m.files for m in head.media] == [2, 2, 2]
    assert any(w.code == "short" and "after source_fps 8" in w.message for w in head.warnings)


def test_float_accumulation_is_repeated_not_multiplied():
    # the accumulator drops a frame whenever int(acc) repeats; for delta = 16/24 it keeps
    # 2 of every 3 frames: 65 frames → floor(64 * 2/3) + 1 = 43
    assert loaded_frame_count(65, source_fps=24.0) == 43
    assert loaded_frame_count(65, source_fps=24.0, end_frame=21) == 21
    assert loaded_frame_count(10) == 10 and loaded_frame_count(10, end_frame=4) == 4


# --- the user's dataset: 1080 vs 1078 (§0.2, §1.11) ------------------------------------------

def _user_plan() -> DatasetPlan:
    return load_preset("wan21-14b-style-24gb")


def _user_members(lengths: list[int]) -> dict[str, list]:
    images = [image(f"i{i}") for i in range(120)]
    clips = [video(f"c{i}", n) for i, n in enumerate(lengths)]
    return {"images": images, "clips_768x416": clips, "clips_384x208": clips}


def test_1080_items_when_every_clip_is_long_enough():
    counted = count_musubi(_user_plan(), _user_members([81] * 240))
    # 120 images + 240 × 2 (head 1 and 21) + 240 × 2 (uniform-45, two starts)
    assert counted.total_items == 120 + 240 * 2 + 240 * 2 == 1080
    assert counted.total_batches == 1080  # batch_size 1
    assert [s.items for s in counted.sections] == [120, 480, 480]


def test_1078_is_one_clip_between_21_and_45():
    lengths = [81] * 239 + [30]
    counted = count_musubi(_user_plan(), _user_members(lengths))
    assert counted.total_items == 1080 - 2 == 1078
    short = [w for w in counted.all_warnings() if w.code == "short"]
    assert len(short) == 1 and short[0].item == "clip:c239"
    assert "30 frames" in short[0].message and "15 short" in short[0].message


def test_1078_is_also_two_clips_of_exactly_45():
    counted = count_musubi(_user_plan(), _user_members([81] * 238 + [45, 45]))
    assert counted.total_items == 1078
    collapsed = sorted(w.item for w in counted.all_warnings() if w.code == "collapse")
    assert collapsed == ["clip:c238", "clip:c239"]


def test_two_short_clips_give_1076_and_one_very_short_clip_costs_3():
    assert count_musubi(_user_plan(), _user_members([81] * 238 + [30, 44])).total_items == 1076
    # N < 21: loses head 21 and both uniform windows
    assert count_musubi(_user_plan(), _user_members([81] * 239 + [17])).total_items == 1077


# --- the generated clips of the tests: 30, 44, 45, 46, 88 at 16 fps and 65 at 24 fps --------

LENGTHS = (30, 44, 45, 46, 88)
N_24FPS = 43  # 65 frames at 24 fps → round(65 * 16 / 24) = round(43.33) = 43 at 16 fps


def test_the_24fps_clip_has_43_frames_at_16fps():
    assert len(resample_indices(65, 24, 16.0)) == N_24FPS


@pytest.mark.parametrize("mode, kw, expected", [
    # head [1, 21]: every clip ≥ 21 frames → 2 each
    ("head", {"targets": (1, 21)}, [2, 2, 2, 2, 2, 2]),
    # chunk [21]: floor(N/21) → 1, 2, 2, 2, 4; 43 → 2
    ("chunk", {"targets": (21,)}, [1, 2, 2, 2, 4, 2]),
    # slide [21] stride 8: floor((N-21)/8) + 1 → 2, 3, 4, 4, 9; 43 → 3
    ("slide", {"targets": (21,), "frame_stride": 8}, [2, 3, 4, 4, 9, 3]),
    # uniform [45] ×2: 0, 0, 1 (collapsed), 2, 2; 43 → 0
    ("uniform", {"targets": (45,), "frame_sample": 2}, [0, 0, 1, 2, 2, 0]),
    # uniform [21] ×3: N-21 ≥ 2 for all → 3 each
    ("uniform", {"targets": (21,), "frame_sample": 3}, [3, 3, 3, 3, 3, 3]),
    # full, max 81: one window each
    ("full", {"max_frames": 81}, [1, 1, 1, 1, 1, 1]),
])
def test_every_mode_on_the_test_clips(mode, kw, expected):
    targets = kw.pop("targets", (1,))
    sec = section(mode, targets, **kw)
    counted = count_musubi_section(sec, [video(f"c{n}", n) for n in (*LENGTHS, N_24FPS)])
    assert [m.files for m in counted.media] == expected
    assert counted.items == sum(expected)


def test_full_window_lengths_on_the_test_clips():
    counted = count_musubi_section(section("full", max_frames=81),
                                   [video(f"c{n}", n) for n in (*LENGTHS, N_24FPS)])
    # (min(N, 81) - 1)//4*4 + 1: 29, 41, 45, 45, 81, 41
    assert [m.windows[0][1] for m in counted.media] == [29, 41, 45, 45, 81, 41]


# --- repeats, batches, buckets, steps (§1.10) ----------------------------------------------

def test_repeats_and_batches_per_bucket_round_up():
    sec = Section("imgs", "images", (768, 768), num_repeats=3, batch_size=4)
    media = [image(f"w{i}", (1920, 1080)) for i in range(5)] + \
            [image(f"t{i}", (1080, 1920)) for i in range(3)]
    counted = count_musubi_section(sec, media, enable_bucket=True, bucket_no_upscale=True)
    # buckets 1024x576 (5 files) and 576x1024 (3 files); items 15 + 9; batches
    # ceil(15/4) + ceil(9/4) = 4 + 3
    assert {b.key: (b.files, b.items, b.batches) for b in counted.buckets} == {
        "1024x576": (5, 15, 4), "576x1024": (3, 9, 3)}
    assert (counted.items, counted.batches) == (24, 7)


def test_video_batches_split_by_frame_count():
    sec = section("head", (1, 21), resolution=(768, 416))
    sec = Section(sec.name, sec.kind, sec.resolution, sec.extraction, num_repeats=2, batch_size=3)
    counted = count_musubi_section(sec, [video(f"c{i}", 30) for i in range(4)])
    # 4 files in bucket 768x416x1 and 4 in 768x416x21; × 2 repeats = 8 each; ceil(8/3) = 3
    assert {b.key: b.batches for b in counted.buckets} == {"768x416x1": 3, "768x416x21": 3}
    assert counted.items == 16


def test_identical_cache_names_count_once():
    # two crops with the same start (uniform on N == t) are one cache file
    counted = count_musubi_section(section("uniform", (45,), frame_sample=3), [video("a", 45)])
    assert counted.media[0].windows == ((0, 45),) and counted.items == 1


def test_steps_for_epochs():
    # max_train_steps = E × ceil(batches / processes / GAS)
    assert musubi_steps(1080, 16) == 16 * 1080
    assert musubi_steps(1078, 16, 1, 4) == 16 * 270  # ceil(1078 / 4) = 270
    counted = count_musubi(_user_plan().replace(gradient_accumulation_steps=4),
                           _user_members([81] * 240))
    assert counted.steps_per_epoch == 270 and counted.total_steps == 270 * 16


def test_missing_caption_is_fatal_for_videos_and_not_counted():
    members = _user_members([81] * 3)
    members["clips_768x416"] = members["clips_384x208"] = [
        *members["clips_768x416"][:2], video("nocap", 81, caption=None)]
    members["images"] = [*members["images"][:2], image("bare", caption="")]
    counted = count_musubi(_user_plan(), members)
    assert counted.total_items == 2 + 2 * 2 + 2 * 2
    errors = [w for w in counted.errors if w.code == "no_caption"]
    assert [w.item for w in errors] == ["clip:nocap"]
    assert "FileNotFoundError" in errors[0].message and "nocap.mp4" in errors[0].message
    image_warning = [w for w in counted.warnings if w.item == "image:bare"]
    assert image_warning and image_warning[0].severity == "warning"


def test_captions_not_starting_with_the_trigger_are_named():
    # One rule (issue 10, item 8): the caption starts with the trigger exactly as spelled.
    members = {"s": [video("ok", 30, caption="SKS style, a cat"),
                     video("bad", 30, caption="a dog running"),
                     video("cased", 30, caption="sks style, a cat"),
                     video("late", 30, caption="a dog, SKS style")]}
    plan = DatasetPlan("p", (section("head", (1,)),))
    counted = count_musubi(plan, members, trigger="SKS style")
    flagged = [w.item for w in counted.warnings if w.code == "no_trigger"]
    assert flagged == ["clip:bad", "clip:cased", "clip:late"]


def test_target_not_4n_plus_1_is_reported_with_what_it_becomes():
    counted = count_musubi_section(section("head", (1, 24, 48), name="odd"), [video("a", 100)])
    messages = [w.message for w in counted.warnings if w.code == "target_rounded"]
    assert any("24" in m and "21" in m for m in messages)
    assert any("48" in m and "45" in m for m in messages)
    assert counted.media[0].windows == ((0, 1), (0, 21), (0, 45))


# --- diffusion-pipe (§4.2, §4.3) ---------------------------------------------------------------

def _dp_plan(**dp) -> DatasetPlan:
    return _user_plan().replace(trainer="diffusion-pipe",
                                diffusion_pipe=DiffusionPipeOptions(**dp))


def test_diffusion_pipe_one_window_per_video_and_short_videos_skipped():
    clips = [video(f"c{n}", n) for n in LENGTHS]
    members = {"images": [image("i0"), image("i1")], "clips_768x416": clips,
               "clips_384x208": clips}
    counted = count_diffusion_pipe(_dp_plan(), members)
    by_name = {s.name: s for s in counted.sections}
    assert by_name["images"].items == 2
    # frame buckets [1, 21]: every clip ≥ 21 → one 21-frame window each
    assert by_name["clips_768x416"].items == 5
    # frame buckets [1, 45]: 30 and 44 are too short and skipped; 45, 46, 88 → one each
    assert by_name["clips_384x208"].items == 3
    skipped = [w for w in by_name["clips_384x208"].warnings if w.code == "too_short"]
    assert sorted(w.item for w in skipped) == ["clip:c30", "clip:c44"]
    assert "1 short" in next(w.message for w in skipped if w.item == "clip:c44")
    assert counted.total_items == 2 + 5 + 3 and counted.steps_per_epoch == 10
    assert any(w.code == "one_window" for w in by_name["clips_384x208"].warnings)


def test_diffusion_pipe_truncates_buckets_to_the_global_batch():
    clips = [video(f"c{i}", 88) for i in range(5)]
    members = {"images": [image(f"i{i}") for i in range(3)], "clips_768x416": clips,
               "clips_384x208": clips}
    counted = count_diffusion_pipe(
        _dp_plan(micro_batch_size_per_gpu=2, image_micro_batch_size_per_gpu=4,
                 gradient_accumulation_steps=1), members)
    # videos: global batch 2: 5 → 4 kept in each of the two video buckets (2 steps each);
    # images: global batch 4: a bucket of 3 is dropped entirely
    assert counted.total_items == 4 + 4
    assert counted.steps_per_epoch == 2 + 2
    codes = [w.code for w in counted.warnings]
    assert codes.count("bucket_truncated") == 2 and codes.count("bucket_dropped") == 1


def test_diffusion_pipe_frames_come_from_the_file_rate():
    # int(frames * 16 / fps): a 24 fps file of 65 frames is 43 frames at 16 fps
    plan = DatasetPlan("p", (section("head", (21,), name="v"),), trainer="diffusion-pipe")
    counted = count_diffusion_pipe(plan, {"v": [video("a", 65, fps=24)]})
    assert counted.sections[0].media[0].frames == 43


# --- the layout converts frame counts before counting ------------------------------------

class _Clip:
    def __init__(self, cid, name, frames, fps, size=(1920, 1040), caption="sks style, x",
                 tags=()):
        from pathlib import Path
        self.id, self.source_id = cid, cid
        self.source_path = Path(f"/media/{name}.mkv")
        self.source_hash = f"h{cid}"
        self.start_frame, self.end_frame = 100, 100 + frames
        self.fps = Fraction(fps)
        self.width, self.height = size
        self.caption, self.caption_origin, self.tags = caption, "manual", tuple(tags)


def test_layout_counts_the_24fps_clip_at_16fps_and_sizes_for_the_largest_section():
    clips = [_Clip(i, f"c{n}", n, 16) for i, n in enumerate(LENGTHS)] + \
            [_Clip(9, "c24", 65, 24)]
    layout = build_layout(_user_plan(), clips, [], "musubi")
    frames = {c.stem: c.frames for c in layout.clips}
    assert frames["c24_100-165"] == N_24FPS and frames["c88_100-188"] == 88
    # largest section 768x416: 1920x1040 scaled by 0.4 → 768x416 exactly (never upscaled)
    assert {(c.width, c.height) for c in layout.clips} == {(768, 416)}
    counted = count_musubi(_user_plan(), layout.media_by_section())
    # head [1,21]: 2 per clip (6 clips); uniform [45]×2: 0,0,1,2,2,0
    assert counted.total_items == 6 * 2 + (1 + 2 + 2)
