"""The transformers backend with tiny random-weight Qwen2-VL / Qwen2.5-VL / Qwen3-VL models.

The models are built by tests/tiny_vlm.py (real architectures, real processors, a tokenizer
trained here), saved with save_pretrained and loaded through the app's own code with
HF_HUB_OFFLINE=1. Their words are noise: these tests check the path (captions saved, trigger
first, versions recorded, resume after cancel, batching, clear load errors).
"""

from __future__ import annotations

import gc
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from curator.core.captioning import (
    CaptionRequest,
    ModelLoadError,
    Sampling,
    caption_items,
    default_prompt,
    make_backend,
    prompt_hash,
    render_prompt,
)
from curator.core.captioning.transformers_backend import (
    cached_models,
    free_released_memory,
    load_model,
    release_models,
)
from curator.core.jobs import CancelToken
from tests.caption_fixtures import add_image, add_video, write_image
from tests.media_factory import Segment, make_video
from tests.tiny_vlm import tiny_vlm

TRIGGER = "ohwx style"
# small frames and short answers keep a tiny model's run to a fraction of a second per clip
SAMPLING = Sampling(fps=2.0, max_frames=4, max_pixels=112 * 84, image_max_pixels=140 * 112)
GENERATION = {"max_new_tokens": 16, "seed": 0}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """A tiny model gains nothing from threads, and on a busy 2-core machine they spin."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, Path]:
    os.environ["HF_HUB_OFFLINE"] = "1"
    return {family: tiny_vlm(family) for family in ("qwen2_vl", "qwen2_5_vl", "qwen3_vl")}


@pytest.fixture(scope="session")
def clips_media(tmp_path_factory) -> list[tuple[Path, list[tuple[int, int]]]]:
    """Real footage when ../shared/media is there (else generated): (file, clip ranges)."""
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "media"
    if (shared / "Megamind.avi").is_file() and (shared / "birds.mp4").is_file():
        return [(shared / "Megamind.avi", [(0, 99), (99, 155)]), (shared / "birds.mp4", [(0, 31)])]
    folder = tmp_path_factory.mktemp("caption-media")
    film = make_video(folder / "film.mp4", [Segment("texture", 40, seed=1),
                                            Segment("bars", 30, seed=2)], fps=24)
    short = make_video(folder / "short.mkv", [Segment("fast", 31, seed=3)], fps=30,
                       size=(256, 144))
    return [(film.path, [(0, 40), (40, 70)]), (short.path, [(0, 31)])]


@pytest.fixture
def filled(catalog, clips_media, tmp_path):
    catalog.update_settings(trigger=TRIGGER)
    clips = [c for path, ranges in clips_media for c in add_video(catalog, path, ranges)]
    images = [add_image(catalog, write_image(tmp_path / "wide.png", (400, 160), seed=1)),
              add_image(catalog, write_image(tmp_path / "tall.jpg", (120, 200), seed=2))]
    return catalog, clips, images


def check_saved(catalog, kind: str, item_id: int, model_id: str, prompt: str) -> None:
    row = catalog.get_clip(item_id) if kind == "clip" else catalog.get_image(item_id)
    assert row.caption.startswith(TRIGGER + " ")
    assert row.caption.lower().count(TRIGGER) == 1
    assert "\n" not in row.caption and len(row.caption) > len(TRIGGER) + 1
    assert row.caption_origin == model_id and not row.caption_is_manual
    [version] = catalog.caption_history(**{f"{kind}_id": item_id})
    assert version.text == row.caption and version.origin == model_id
    assert version.prompt_hash == prompt_hash(prompt)
    assert version.settings["backend"] == "transformers"
    if kind == "clip":
        assert all(row.start_frame <= i < row.end_frame for i in version.settings["frames"])
        assert 1 <= len(version.settings["frames"]) <= SAMPLING.max_frames


def test_tiny_qwen2_vl_captions_real_clips_and_images(filled, tiny_models):
    catalog, clips, images = filled
    backend = make_backend("transformers", model=str(tiny_models["qwen2_vl"]), **GENERATION)
    assert backend.model_id == "transformers:tiny-qwen2-vl"
    assert backend.settings["device"] == "cpu" and backend.settings["dtype"] == "float32"
    progress = []
    report = caption_items(catalog, backend=backend, clip_ids=clips, image_ids=images,
                           sampling=SAMPLING, progress=progress.append)
    assert report.failed == [] and report.stopped is None and not report.cancelled
    assert report.done == len(clips) + len(images)
    assert [p.done for p in progress] == list(range(len(clips) + len(images) + 1))
    video_prompt = render_prompt(default_prompt("video"), TRIGGER)
    image_prompt = render_prompt(default_prompt("image"), TRIGGER)
    for clip_id in clips:
        check_saved(catalog, "clip", clip_id, backend.model_id, video_prompt)
    for image_id in images:
        check_saved(catalog, "image", image_id, backend.model_id, image_prompt)
    assert report.model_seconds > 0 and report.decode_seconds > 0
    assert catalog.get_job(report.job_id).status == "done"
    assert catalog.counts()["captioned"] == len(clips)


def test_cancel_then_rerun_resumes_without_recaptioning(filled, tiny_models):
    catalog, clips, images = filled
    backend = make_backend("transformers", model=str(tiny_models["qwen2_vl"]), **GENERATION)
    cancel = CancelToken()
    first = caption_items(catalog, backend=backend, clip_ids=clips, image_ids=images,
                          sampling=SAMPLING, on_caption=lambda result: cancel.cancel(),
                          cancel=cancel)
    assert first.cancelled and first.done == 1
    assert [c.id for c in first.captions] == clips[:1]
    assert all(catalog.get_clip(c).caption is None for c in clips[1:])
    second = caption_items(catalog, backend=backend, clip_ids=clips, image_ids=images,
                           sampling=SAMPLING)
    assert second.skipped == 1 and second.done == len(clips) + len(images) - 1
    assert not second.cancelled and second.failed == []
    for clip_id in clips:
        assert len(catalog.caption_history(clip_id=clip_id)) == 1
    # --all captions again: a new version (unless the text is the same), the old one kept
    before = catalog.get_clip(clips[0]).caption
    third = caption_items(catalog, backend=backend, clip_ids=clips[:1], only_missing=False,
                          sampling=SAMPLING)
    assert third.done == 1
    history = catalog.caption_history(clip_id=clips[0])
    assert history[0].text == third.captions[0].text
    assert len(history) == (1 if third.captions[0].text == before else 2)


def test_tiny_qwen2_5_vl_batched_generation(filled, tiny_models):
    catalog, clips, images = filled
    backend = make_backend("transformers", model=str(tiny_models["qwen2_5_vl"]), batch_size=3,
                           **GENERATION)
    report = caption_items(catalog, backend=backend, clip_ids=clips, image_ids=images,
                           sampling=SAMPLING)
    assert report.failed == [] and report.done == len(clips) + len(images)
    prompt = render_prompt(default_prompt("video"), TRIGGER)
    for clip_id in clips:
        check_saved(catalog, "clip", clip_id, "transformers:tiny-qwen2-5-vl", prompt)
    # left padding: a prompt's answer does not depend on the longer prompt batched with it
    frames = [np.full((84, 112, 3), v, np.uint8) for v in (40, 90, 140, 200)]
    alone = backend.caption_video(frames[:2], 2.0, "Describe.")
    batched = backend.caption_many([*_requests(frames[:2], "Describe."),
                                    *_requests(frames, "Describe this longer clip, please.")])
    assert batched[0] == alone and isinstance(batched[1], str)
    image = np.asarray(np.random.default_rng(0).integers(0, 255, (70, 150, 3)), np.uint8)
    assert isinstance(backend.caption_image(image, "Describe."), str)


def _requests(frames, prompt):
    return [CaptionRequest(prompt=prompt, frames=frames, fps=2.0)]


def test_tiny_qwen3_vl_captions_a_clip_and_an_image(filled, tiny_models):
    catalog, clips, images = filled
    backend = make_backend("transformers", model=str(tiny_models["qwen3_vl"]), **GENERATION)
    report = caption_items(catalog, backend=backend, clip_ids=clips[-1:], image_ids=images[:1],
                           sampling=SAMPLING)
    assert report.failed == [] and report.done == 2
    assert catalog.caption_history(clip_id=clips[-1])[0].settings["model_type"] == "qwen3_vl"


def test_a_loaded_model_is_cached_and_released_on_request(tiny_models):
    folder = tiny_models["qwen2_vl"]
    a = make_backend("transformers", model=str(folder))
    b = make_backend("transformers", model=folder, max_new_tokens=8)
    assert a.loaded is b.loaded
    assert any(key[0] == str(folder.resolve()) for key in cached_models())
    assert release_models(folder) == 1
    assert not any(key[0] == str(folder.resolve()) for key in cached_models())
    c = make_backend("transformers", model=str(folder), keep_loaded=False)
    assert c.loaded is not a.loaded
    c.close()
    assert not any(key[0] == str(folder.resolve()) for key in cached_models())


def test_models_that_do_not_load_say_which_and_why(tiny_models, tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist") as info:
        load_model(tmp_path / "models" / "Qwen2-VL-7B-Instruct")
    assert "Qwen2-VL-7B-Instruct" in str(info.value)

    empty = tmp_path / "empty-model"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="no config.json") as info:
        load_model(empty)
    assert str(empty) in str(info.value)

    broken = tmp_path / "broken-weights"
    shutil.copytree(tiny_models["qwen2_vl"], broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelLoadError, match="weights") as info:
        load_model(broken)
    assert str(broken) in str(info.value)

    alien = tmp_path / "alien"
    shutil.copytree(tiny_models["qwen2_vl"], alien)
    config = (alien / "config.json").read_text().replace('"qwen2_vl"', '"alien_vlm_9"')
    (alien / "config.json").write_text(config)
    with pytest.raises(ModelLoadError, match="does not know its model type"):
        load_model(alien)

    chatless = tmp_path / "no-chat-template"
    shutil.copytree(tiny_models["qwen2_vl"], chatless)
    (chatless / "chat_template.jinja").unlink()
    with pytest.raises(ModelLoadError, match="chat template"):
        load_model(chatless)

    with pytest.raises(ModelLoadError, match="offline"):  # conftest sets HF_HUB_OFFLINE=1
        load_model("curator-tests/no-such-model-anywhere")

    with pytest.raises(ModelLoadError, match="bitsandbytes|CUDA"):
        load_model(tiny_models["qwen2_vl"], quantization="4bit")


def test_a_model_that_fails_to_load_is_reported_by_the_job_caller(filled, tmp_path):
    # make_backend is where loading fails: before any item, with the folder named
    with pytest.raises(ModelLoadError) as info:
        make_backend("transformers", model=str(tmp_path / "nowhere"))
    assert "nowhere" in str(info.value) and info.value.fatal


def test_a_model_released_on_a_worker_thread_is_collected_on_the_main_thread(tiny_models):
    """A collection in a worker finalises garbage other threads own (the window's Qt objects):
    release there drops the model; the host collects when the job ends."""
    finalised_in: list[int] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            finalised_in.append(threading.get_ident())

    folder = tiny_models["qwen2_vl"]
    make_backend("transformers", model=folder, max_new_tokens=8)
    was_enabled = gc.isenabled()
    gc.disable()  # only the explicit collections are under test
    try:
        Cycle()
        worker = threading.Thread(target=release_models, args=(folder,))
        worker.start()
        worker.join()
        assert not any(key[0] == str(folder.resolve()) for key in cached_models())
        assert finalised_in == []
        free_released_memory()
        assert finalised_in == [threading.get_ident()]
    finally:
        if was_enabled:
            gc.enable()
