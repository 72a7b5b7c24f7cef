"""The dataset folder end to end: generated clips in a real catalog, exported and decoded back.

Proves that the frame counts promised before transcoding are the frames PyAV decodes from the
exported files at 16 fps (TRAINERS.md §1.7: N is what PyAV decodes), that the TOML parses with
musubi-tuner's reader (`toml` 0.10.2, §1.1) and holds only schema keys (§0.4, §1.2), and that
re-exports are incremental and a cancelled export leaves the previous one intact.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import toml

from curator.core.export import (
    DatasetPlan,
    FrameExtraction,
    Section,
    Selection,
    export_dataset,
    load_preset,
    plan_report,
    read_manifest,
)
from curator.core.export.trainer_config import (
    MUSUBI_IMAGE_KEYS,
    MUSUBI_VIDEO_KEYS,
    musubi_config_problems,
)
from curator.core.jobs import CancelToken, Progress
from curator.core.media.frames import resample_indices
from tests.export_fixtures import add_image, add_source, decoded_frames, write_clip
from tests.media_factory import Segment, make_video

LENGTHS = (30, 44, 45, 46, 88)
SIZE = (96, 52)


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """The test clips: 30, 44, 45, 46, 88 frames at 16 fps, 65 at 24 fps, 20 at 10 fps."""
    folder = tmp_path_factory.mktemp("export-media")
    out = {f"c{n}": write_clip(folder / f"c{n}.mp4", n, size=SIZE, seed=n) for n in LENGTHS}
    out["c24"] = write_clip(folder / "c24.mp4", 65, fps=24, size=SIZE, seed=24)
    out["c10"] = write_clip(folder / "c10.mp4", 20, fps=10, size=SIZE, seed=10)
    out["big"] = write_clip(folder / "big.mp4", 21, size=(800, 432), seed=7)
    # two flat colours with a hard cut at frame 100: shows exactly which frames were taken
    out["cut"] = make_video(folder / "cut.mp4",
                            [Segment("color", 100, color=(220, 40, 40)),
                             Segment("color", 100, color=(40, 40, 220))],
                            fps=16, size=(64, 36), gop=12).path
    return out


def _wan_plan(**changes) -> DatasetPlan:
    return load_preset("wan21-14b-style-24gb").replace(**changes)


def _catalog_with_clips(catalog, media, names=(*(f"c{n}" for n in LENGTHS), "c24")):
    catalog.update_settings(trigger="sks style")
    ids = {}
    for name in names:
        (ids[name],) = add_source(catalog, media[name])
    return ids


def test_exported_clips_decode_to_the_promised_frames_at_16fps(catalog, media, tmp_path):
    _catalog_with_clips(catalog, media)
    dry = plan_report(_wan_plan(), catalog.list_clips(status="accepted"), [], "musubi")
    report = export_dataset(catalog, _wan_plan(), tmp_path / "out", workers=2)
    assert not report.failed and not report.cancelled
    promised = {c.stem: c.frames for c in dry.layout.clips}
    # the 24 fps clip: 65 frames → round(65 * 16 / 24) = 43 (FFmpeg's fps filter)
    assert promised["c24_0-65"] == 43 == len(resample_indices(65, 24, 16.0))
    for stem, frames in promised.items():
        path = tmp_path / "out" / "videos" / f"{stem}.mp4"
        assert decoded_frames(path) == (frames, Fraction(16), SIZE)  # never upscaled
        assert (path.with_suffix(".txt")).read_text(encoding="utf-8").strip() == \
            "sks style, a scene"
    # 16 fps clips keep every frame: 30, 44, 45, 46, 88
    assert [promised[f"c{n}_0-{n}"] for n in LENGTHS] == list(LENGTHS)
    # head [1,21]: 2 per clip × 6; uniform [45]×2 on 30, 44, 45, 46, 88, 43: 0+0+1+2+2+0
    assert report.total_items == dry.total_items == 12 + 5
    assert [s.items for s in report.counts.sections] == [0, 12, 5]


def test_frames_repeated_and_dropped_match_the_fps_filter(catalog, media, tmp_path):
    # 10 fps → 16 fps repeats frames: 20 frames = 2 s → 32 frames
    _catalog_with_clips(catalog, media, names=("c10",))
    report = export_dataset(catalog, _wan_plan(), tmp_path / "out")
    (clip,) = report.layout.clips
    assert clip.frames == 32 == len(resample_indices(20, 10, 16.0))
    assert decoded_frames(tmp_path / "out" / "videos" / clip.filename)[0] == 32


def test_a_range_inside_a_source_takes_exactly_its_frames(catalog, media, tmp_path):
    # [95, 140) of a video that cuts from red to blue at frame 100: 5 red frames, then blue
    add_source(catalog, media["cut"], [(95, 140), (150, 196)])
    report = export_dataset(catalog, _wan_plan(), tmp_path / "out")
    first = next(c for c in report.layout.clips if c.start == 95)
    with av.open(str(tmp_path / "out" / "videos" / first.filename)) as container:
        frames = [f.to_ndarray(format="rgb24").mean(axis=(0, 1)) for f in container.decode(video=0)]
    assert len(frames) == 45
    red = [bool(f[0] > f[2]) for f in frames]
    assert red == [True] * 5 + [False] * 40


def test_clips_are_sized_for_the_largest_section(catalog, media, tmp_path):
    add_source(catalog, media["big"])
    report = export_dataset(catalog, _wan_plan(), tmp_path / "out")
    (clip,) = report.layout.clips
    # 800x432 → bucket 768x416 for [768,416]; scale = max(768/800, 416/432) = 0.963:
    # 770.4 x 416 → even, never below the bucket: 772 x 416
    assert (clip.width, clip.height) == (772, 416)
    assert decoded_frames(tmp_path / "out" / "videos" / clip.filename)[2] == (772, 416)
    sizes = {s.name: s.media[0].cached_size for s in report.counts.sections if s.media}
    assert sizes == {"clips_768x416": (768, 416), "clips_384x208": (384, 208)}


def test_the_musubi_toml_parses_with_toml_0_10_2_and_has_only_schema_keys(catalog, media,
                                                                         tmp_path):
    _catalog_with_clips(catalog, media, names=("c46",))
    add_image(catalog, tmp_path / "still.png")
    out = tmp_path / 'ex "quoted" \\ back'
    report = export_dataset(catalog, _wan_plan(), out)
    config_path = out / "musubi_dataset.toml"
    # the stable name (a link into the current generation, TRAINERS.md §1.1 reads through it)
    assert report.config_path == config_path.parent.resolve() / config_path.name
    data = toml.load(config_path)  # musubi-tuner's reader
    assert data == report.config
    assert set(data) == {"general", "datasets"}
    assert data["general"] == {"caption_extension": ".txt", "enable_bucket": True,
                               "bucket_no_upscale": True}
    assert musubi_config_problems(data) == []
    images, head, uniform = data["datasets"]
    assert set(images) <= MUSUBI_IMAGE_KEYS and set(head) <= MUSUBI_VIDEO_KEYS
    assert Path(images["image_directory"]) == out.resolve() / "images"
    assert Path(head["video_directory"]) == Path(uniform["video_directory"]) == \
        out.resolve() / "videos"
    assert len({d["cache_directory"] for d in data["datasets"]}) == 3
    assert all(Path(d["cache_directory"]).is_dir() for d in data["datasets"])
    assert head["target_frames"] == [1, 21] and head["frame_extraction"] == "head"
    assert uniform["frame_sample"] == 2 and "frame_sample" not in head
    assert "source_fps" not in head  # the clips are already at 16 fps
    assert (out / "images" / "still.png").is_file() and (out / "images" / "still.txt").is_file()


def test_the_schema_check_catches_what_musubi_rejects():
    bad = {"general": {"target_frames": [1]},
           "datasets": [{"video_directory": "/a", "source_fps": 30, "frame_sampel": 2},
                        {"video_directory": "/a"}]}
    problems = musubi_config_problems(bad)
    assert any("['general']['target_frames']" in p for p in problems)
    assert any("frame_sampel" in p for p in problems)
    assert any("source_fps must be a float" in p for p in problems)
    assert any("cache directory should be unique" in p for p in problems)


@pytest.mark.parametrize("root, joined", [
    ("/workspace/data set", "/workspace/data set/videos"),
    ('D:\\train\\"q"', 'D:\\train\\"q"\\videos'),
])
def test_paths_under_a_root_for_the_training_machine(catalog, media, tmp_path, root, joined):
    _catalog_with_clips(catalog, media, names=("c30",))
    report = export_dataset(catalog, _wan_plan(), tmp_path / "out", root=root)
    data = toml.load(report.config_path)
    assert data["datasets"][1]["video_directory"] == joined
    assert data["datasets"][1]["cache_directory"].startswith(root)


def test_reexport_is_incremental(catalog, media, tmp_path):
    ids = _catalog_with_clips(catalog, media, names=("c45", "c46", "c88"))
    out = tmp_path / "out"
    first = export_dataset(catalog, _wan_plan(), out)
    assert (first.encoded, first.reused) == (3, 0)
    mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "videos").glob("*.mp4")}
    # a caption changes: only its .txt is rewritten
    catalog.save_caption("sks style, a new caption", clip_id=ids["c45"])
    second = export_dataset(catalog, _wan_plan(), out)
    assert (second.encoded, second.reused, second.removed) == (0, 3, 0)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "videos").glob("*.mp4")} == mtimes
    assert (out / "videos" / "c45_0-45.txt").read_text().strip() == "sks style, a new caption"
    # a clip is trimmed: it alone is encoded again (its stem changes), the old file goes
    catalog.trim_clip(ids["c88"], 0, 60)
    third = export_dataset(catalog, _wan_plan(), out)
    assert (third.encoded, third.reused, third.removed) == (1, 2, 1)
    assert not (out / "videos" / "c88_0-88.mp4").exists()
    assert not (out / "videos" / "c88_0-88.txt").exists()
    assert decoded_frames(out / "videos" / "c88_0-60.mp4")[0] == 60
    # a clip is rejected: its files leave the folder
    catalog.set_decision([ids["c46"]], "rejected", reason="test")
    fourth = export_dataset(catalog, _wan_plan(), out)
    assert fourth.removed == 1 and not (out / "videos" / "c46_0-46.mp4").exists()
    names = sorted(p.name for p in (out / "videos").iterdir())
    assert names == ["c45_0-45.mp4", "c45_0-45.txt", "c88_0-60.mp4", "c88_0-60.txt"]
    manifest = read_manifest(out)
    assert sorted(manifest["files"]) == ["videos/c45_0-45.mp4", "videos/c88_0-60.mp4"]


def test_a_cancelled_export_leaves_the_previous_one_intact(catalog, media, tmp_path):
    _catalog_with_clips(catalog, media)
    out = tmp_path / "out"
    export_dataset(catalog, _wan_plan(), out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    token = CancelToken()

    def cancel_after_first(p: Progress) -> None:
        if p.done >= 1:
            token.cancel()

    # a new crf changes every clip's fingerprint: all six must be encoded again
    report = export_dataset(catalog, _wan_plan(crf=30), out, workers=1,
                            progress=cancel_after_first, cancel=token)
    assert report.cancelled
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
             if p.is_file() and ".staging" not in p.parts}
    assert after == before
    assert not list(out.rglob("*.part"))
    # what was finished before the cancel is kept for the next run
    resumed = export_dataset(catalog, _wan_plan(crf=30), out)
    assert 1 <= resumed.encoded < 6 and not (out / ".staging").exists()
    assert read_manifest(out)["encode"]["crf"] == 30


def test_a_clip_without_caption_is_left_out_and_named(catalog, media, tmp_path):
    _catalog_with_clips(catalog, media, names=("c45",))
    add_source(catalog, media["c46"], caption=None)
    report = export_dataset(catalog, _wan_plan(), tmp_path / "out")
    assert not (tmp_path / "out" / "videos" / "c46_0-46.mp4").exists()
    assert any("c46.mp4" in e and "FileNotFoundError" in e for e in report.errors)
    assert report.total_items == 2 + 1  # head [1,21] on c45, and its one collapsed window


def test_two_sources_with_one_name_get_distinct_stems(catalog, media, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    twin = other / "c30.mp4"
    twin.write_bytes(media["c30"].read_bytes() + b"")  # same name, another folder
    add_source(catalog, media["c30"])
    add_source(catalog, twin)
    report = export_dataset(catalog, _wan_plan(), tmp_path / "out")
    stems = sorted(c.stem for c in report.layout.clips)
    assert len(set(stems)) == 2 and stems[0] == "c30_0-30"
    assert any(w.code == "same_stem" and "c30_0-30" in w.message
               for w in report.counts.all_warnings())
    assert len(list((tmp_path / "out" / "videos").glob("*.mp4"))) == 2


def test_images_are_copied_or_scaled_down_never_up(catalog, tmp_path):
    small = tmp_path / "small.png"
    add_image(catalog, small, size=(96, 64))
    big = tmp_path / "big.jpg"
    add_image(catalog, big, size=(1600, 1200))
    cropped = tmp_path / "crop.png"
    crop_id = add_image(catalog, cropped, size=(300, 200))
    catalog.set_image_crop(crop_id, (10, 20, 200, 100))
    report = export_dataset(catalog, _wan_plan(), tmp_path / "out")
    out = tmp_path / "out" / "images"
    assert (out / "small.png").read_bytes() == small.read_bytes()  # copied as is
    from PIL import Image
    # 1600x1200 at [768,768] (no-upscale buckets): area over budget → bucket 896x656;
    # scale = max(896/1600, 656/1200) = 0.56 → 896 x 672, written as PNG
    with Image.open(out / "big.png") as img:
        assert img.size == (896, 672)
    # the 200x100 crop is under the budget: no-upscale keeps its own size rounded down to 16,
    # 192x96, which musubi reaches by scaling 0.96 (max(192/200, 96/100)); so do we
    with Image.open(out / "crop.png") as img:
        assert img.size == (192, 96)
    assert report.counts.section("images").items == 3


def test_diffusion_pipe_export_gets_one_folder_per_section(catalog, media, tmp_path):
    _catalog_with_clips(catalog, media)
    out = tmp_path / "out"
    report = export_dataset(catalog, _wan_plan(), out, trainer="diffusion-pipe")
    data = toml.load(out / "diffusion_pipe_dataset.toml")
    assert data == report.config
    paths = [Path(d["path"]) for d in data["directory"]]
    # the image section has no images: left out (diffusion-pipe stops on an empty folder)
    assert paths == [out.resolve() / "sections" / "clips_768x416",
                     out.resolve() / "sections" / "clips_384x208"]
    assert [d["frame_buckets"] for d in data["directory"]] == [[1, 21], [1, 45]]
    assert data["resolutions"] == [[768, 416]]
    clip = out / "sections" / "clips_768x416" / "c88_0-88.mp4"
    assert clip.samefile(out / "videos" / "c88_0-88.mp4")  # a link, not a second copy
    assert (clip.with_suffix(".txt")).is_file()
    # one window per video: 6 clips ≥ 21 frames; 45-frame bucket: 45, 46, 88 only
    assert [s.items for s in report.counts.sections] == [0, 6, 3]
    assert sorted(p.name for p in (out / "sections" / "clips_384x208").glob("*.mp4")) == \
        sorted(f"{c.stem}.mp4" for c in report.layout.clips)


def test_keeping_the_source_rate_writes_source_fps_as_a_float(catalog, media, tmp_path):
    _catalog_with_clips(catalog, media, names=("c24",))
    plan = _wan_plan(keep_source_fps=True)
    report = export_dataset(catalog, plan, tmp_path / "out")
    data = toml.load(report.config_path)
    videos = [d for d in data["datasets"] if "video_directory" in d]
    assert all(d["source_fps"] == 24.0 and isinstance(d["source_fps"], float) for d in videos)
    assert musubi_config_problems(data) == []
    (clip,) = report.layout.clips
    assert decoded_frames(tmp_path / "out" / "videos" / clip.filename)[:2] == (65, Fraction(24))
    # musubi drops frames: floor(64 * 16/24) + 1 = 43 → head [1, 21]: 2; uniform [45]: 0
    assert [s.items for s in report.counts.sections] == [0, 2, 0]


def test_the_manifest_records_sources_hashes_captions_plan_and_counts(catalog, media, tmp_path):
    ids = _catalog_with_clips(catalog, media, names=("c44",))
    report = export_dataset(catalog, _wan_plan(), tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    entry = manifest["files"]["videos/c44_0-44.mp4"]
    assert entry["range"] == [0, 44] and entry["frames"] == 44 and entry["fps"] == "16/1"
    assert entry["source"] == str(media["c44"])
    assert entry["source_hash"] == catalog.get_clip(ids["c44"]).source_hash
    import hashlib
    assert entry["sha256"] == hashlib.sha256(
        (tmp_path / "out" / "videos" / "c44_0-44.mp4").read_bytes()).hexdigest()
    assert entry["caption_version"] == catalog.caption_history(clip_id=ids["c44"])[0].id
    assert manifest["plan"]["name"] == "wan21-14b-style-24gb"
    assert manifest["counts"]["total_items"] == report.total_items == 2
    assert manifest["trainer"] == "musubi" and manifest["config"] == "musubi_dataset.toml"


def test_sections_can_select_clips_by_tag(catalog, media, tmp_path):
    add_source(catalog, media["c45"], tags=("fight",))
    add_source(catalog, media["c46"])
    plan = DatasetPlan("tagged", (
        Section("all", "videos", (384, 208), FrameExtraction("head", (1,))),
        Section("fights", "videos", (384, 208), FrameExtraction("head", (21,)),
                select=Selection(tags=("fight",))),
    ))
    report = export_dataset(catalog, plan, tmp_path / "out")
    assert [s.items for s in report.counts.sections] == [2, 1]
    data = toml.load(report.config_path)
    assert data["datasets"][1]["video_directory"].endswith("sections/fights")
    assert [p.name for p in (tmp_path / "out" / "sections" / "fights").glob("*.mp4")] == \
        ["c45_0-45.mp4"]
    assert musubi_config_problems(data) == []


def test_exported_clip_is_h264_yuv420p(catalog, media, tmp_path):
    _catalog_with_clips(catalog, media, names=("c30",))
    export_dataset(catalog, _wan_plan(), tmp_path / "out")
    with av.open(str(tmp_path / "out" / "videos" / "c30_0-30.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        frame = next(container.decode(video=0))
        assert np.asarray(frame.to_ndarray(format="rgb24")).shape == (SIZE[1], SIZE[0], 3)


def test_a_missing_source_fails_alone_and_is_named(catalog, media, tmp_path):
    _catalog_with_clips(catalog, media, names=("c45",))
    gone = tmp_path / "gone.mp4"
    gone.write_bytes(media["c46"].read_bytes())
    add_source(catalog, gone)
    gone.unlink()
    report = export_dataset(catalog, _wan_plan(), tmp_path / "out")
    assert [f.path for f in report.failed] == ["gone.mp4 [0, 46)"]
    assert "not found" in report.failed[0].reason
    assert (tmp_path / "out" / "videos" / "c45_0-45.mp4").is_file()
    assert report.total_items == 3  # c45 only: head 2, uniform 1
    assert read_manifest(tmp_path / "out")["files"].keys() == {"videos/c45_0-45.mp4"}


def test_files_curator_did_not_write_are_reported(catalog, media, tmp_path):
    _catalog_with_clips(catalog, media, names=("c45",))
    out = tmp_path / "out"
    (out / "videos").mkdir(parents=True)
    (out / "videos" / "stray.mp4").write_bytes(media["c30"].read_bytes())
    report = export_dataset(catalog, _wan_plan(), out)
    assert any(w.code == "foreign_file" and "stray.mp4" in w.message
               for w in report.counts.warnings)
    assert (out / "videos" / "stray.mp4").exists()  # never deleted: not ours


def test_a_folder_written_by_an_older_curator_is_converted_to_generations(catalog, media,
                                                                          tmp_path):
    """Before issue 10 the folders and files were real; the next export makes them links
    into a generation, keeps a person's own file, and re-encodes nothing."""
    import os
    import shutil

    _catalog_with_clips(catalog, media, names=("c45", "c46"))
    out = tmp_path / "out"
    export_dataset(catalog, _wan_plan(), out)
    for name in ("videos", "musubi_dataset.toml", "manifest.json"):  # the old layout
        real = out / name
        target = real.resolve()
        real.unlink()
        (shutil.copytree if target.is_dir() else shutil.copy2)(target, real)
    shutil.rmtree(out / ".curator-dataset")
    (out / "videos" / "mine.txt").write_text("a note\n")
    report = export_dataset(catalog, _wan_plan(), out)
    assert (report.encoded, report.reused) == (0, 2)
    for name in ("videos", "musubi_dataset.toml", "manifest.json"):
        assert os.readlink(out / name) == f".curator-dataset/current/{name}"
    assert (out / "videos" / "mine.txt").read_text() == "a note\n"
    assert sorted(read_manifest(out)["files"]) == ["videos/c45_0-45.mp4", "videos/c46_0-46.mp4"]
    assert toml.load(out / "musubi_dataset.toml")["datasets"]


def test_switching_trainer_replaces_the_config(catalog, media, tmp_path):
    _catalog_with_clips(catalog, media, names=("c45",))
    out = tmp_path / "out"
    export_dataset(catalog, _wan_plan(), out)
    assert (out / "musubi_dataset.toml").is_file()
    export_dataset(catalog, _wan_plan(), out, trainer="diffusion-pipe")
    assert (out / "diffusion_pipe_dataset.toml").is_file()
    assert not (out / "musubi_dataset.toml").exists()
    export_dataset(catalog, _wan_plan(), out)
    assert not list((out / "sections").rglob("*.mp4"))  # the diffusion-pipe links are gone


def test_runs_keep_a_film_in_one_pass_unless_the_cores_need_more():
    from curator.core.export.transcode import ClipJob, plan_runs

    def job(source: str, start: int, end: int) -> ClipJob:
        return ClipJob(f"{source}:{start}", Path(source), start, end, Fraction(24),
                       Fraction(16), 64, 36, Path("/unused"))

    # 10 films of 10 neighbouring scenes: one decoding pass per film
    runs = plan_runs([job(f"f{f}", i * 72, i * 72 + 72) for f in range(10) for i in range(10)],
                     workers=2)
    assert sorted(len(r) for r in runs) == [10] * 10
    assert all(len({j.source for j in r}) == 1 for r in runs)
    # one film of 100 scenes: halves until each of 2 workers has 2 runs, in order
    runs = plan_runs([job("one", i * 72, i * 72 + 72) for i in range(100)], workers=2)
    assert [len(r) for r in runs] == [25, 25, 25, 25]
    assert all([j.start for j in r] == sorted(j.start for j in r) for r in runs)
    # scenes far apart: a seek each
    assert len(plan_runs([job("one", i * 500, i * 500 + 72) for i in range(5)], 2)) == 5


def test_a_tampered_manifest_never_deletes_outside_the_folder(catalog, media, tmp_path):
    _catalog_with_clips(catalog, media, names=("c45",))
    out = tmp_path / "out"
    export_dataset(catalog, _wan_plan(), out)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["../victim.txt"] = {"caption_file": "../victim.txt"}
    manifest["links"].append("../victim.txt")
    (out / "manifest.json").write_text(json.dumps(manifest))
    export_dataset(catalog, _wan_plan(), out)
    assert victim.read_text() == "keep me"
