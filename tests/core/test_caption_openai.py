"""The openai backend and the captioning job against an OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from curator.core.captioning import (
    CaptionBackendError,
    Prompts,
    Sampling,
    caption_items,
    default_prompt,
    make_backend,
    prompt_hash,
    render_prompt,
    run_caption_job,
)
from curator.core.jobs import CancelToken
from tests.caption_fixtures import (
    FakeChatServer,
    add_image,
    add_video,
    chat_reply,
    error_reply,
    write_image,
)
from tests.media_factory import Segment, make_video

TRIGGER = "ohwx style"
FAST = {"backoff": 0.01, "timeout": 10}


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("caption-openai-media")
    first = make_video(folder / "walk.mp4", [Segment("texture", 48, seed=1)], fps=24,
                       size=(320, 180))
    second = make_video(folder / "bars.mkv", [Segment("bars", 30, seed=2)], fps=30,
                        size=(256, 144))
    return [first.path, second.path]


@pytest.fixture
def filled(catalog, videos, tmp_path):
    """A catalog with three clips over two videos and two images, trigger set."""
    catalog.update_settings(trigger=TRIGGER)
    clips = add_video(catalog, videos[0], [(0, 24), (24, 48)]) + add_video(catalog, videos[1])
    images = [add_image(catalog, write_image(tmp_path / f"still{i}.png", seed=i))
              for i in range(2)]
    return catalog, clips, images


def test_request_carries_model_frames_and_prompt_and_captions_are_saved(filled, monkeypatch):
    catalog, clips, images = filled
    monkeypatch.setenv("CURATOR_OPENAI_API_KEY", "sk-test")
    answers = iter(["Sure! Here is the description:\nA bright scene.", "A field.",
                    "ohwx style Bars of colour.", "A gradient.", "A box."])
    lock = threading.Lock()

    def respond(body, n):
        with lock:
            return chat_reply(next(answers))

    with FakeChatServer(responder=respond, api_key="sk-test") as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, concurrency=1, **FAST)
        sampling = Sampling(fps=4.0, max_frames=3, max_pixels=96 * 54)
        report = caption_items(catalog, backend=backend, clip_ids=clips, image_ids=images,
                               sampling=sampling)
        backend.close()
    assert report.failed == [] and report.done == 5 and report.stopped is None
    assert len(server.requests) == 5
    first = server.requests[0]
    assert first.path == "/v1/chat/completions"
    assert first.headers["Authorization"] == "Bearer sk-test"
    assert first.body["model"] == "tiny-vl"
    video_prompt = render_prompt(default_prompt("video"), TRIGGER)
    assert first.prompt == video_prompt
    frames = first.images()
    # a 24-frame clip at 24 fps sampled at 4 fps gives 4 frames, capped at max_frames
    assert len(frames) == 3
    assert all(f.shape[0] * f.shape[1] <= 96 * 54 for f in frames)
    assert frames[0].shape[1] / frames[0].shape[0] == pytest.approx(320 / 180, rel=0.1)
    image_request = server.requests[3]
    assert image_request.prompt == render_prompt(default_prompt("image"), TRIGGER)
    assert [im.shape[:2] for im in image_request.images()] == [(200, 320)]
    # the content lists the pixels first, then the text: Qwen models read them in that order
    assert [p["type"] for p in first.content] == ["image_url"] * 3 + ["text"]

    saved = catalog.get_clip(clips[0])
    assert saved.caption == "ohwx style A bright scene."
    assert saved.caption_origin == "openai:tiny-vl" and not saved.caption_is_manual
    [version] = catalog.caption_history(clip_id=clips[0])
    assert version.prompt_hash == prompt_hash(video_prompt)
    assert version.settings["url"] == server.url + "/chat/completions"
    assert version.settings["frames"] == sorted(version.settings["frames"])
    assert all(0 <= i < 24 for i in version.settings["frames"])
    assert catalog.get_clip(clips[2]).caption == "ohwx style Bars of colour."
    for image_id in images:
        assert catalog.get_image(image_id).caption.startswith(TRIGGER + " ")
    assert "sk-test" not in json.dumps(version.settings)  # keys never land in the catalog
    job = catalog.get_job(report.job_id)
    assert job.kind == "caption" and job.status == "done" and job.done == 5


def test_server_error_is_retried_then_succeeds(filled):
    catalog, clips, _ = filled

    def respond(body, n):
        return error_reply(500, "CUDA error: an illegal memory access") if n == 0 \
            else chat_reply("A calm shot of a street.")

    with FakeChatServer(responder=respond) as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, concurrency=1, **FAST)
        report = caption_items(catalog, backend=backend, clip_ids=clips[:1],
                               sampling=Sampling(max_frames=2, max_pixels=64 * 36))
    assert report.done == 1 and report.failed == []
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body  # the same request, sent again
    assert catalog.get_clip(clips[0]).caption == "ohwx style A calm shot of a street."


def test_a_timeout_is_retried(filled):
    catalog, clips, _ = filled

    def respond(body, n):
        if n == 0:
            time.sleep(0.8)  # longer than the client waits: the answer comes too late
        return chat_reply("A slow server's scene.")

    with FakeChatServer(responder=respond) as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, timeout=0.3,
                               backoff=0.01)
        report = caption_items(catalog, backend=backend, clip_ids=clips[:1],
                               sampling=Sampling(max_frames=2, max_pixels=64 * 36))
    assert report.done == 1 and len(server.requests) == 2
    assert catalog.get_clip(clips[0]).caption == "ohwx style A slow server's scene."


def test_a_refused_key_stops_the_batch_with_a_clear_message(filled, monkeypatch):
    catalog, clips, images = filled
    monkeypatch.setenv("CURATOR_OPENAI_API_KEY", "sk-wrong")
    with FakeChatServer(api_key="sk-right") as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, concurrency=1, **FAST)
        report = caption_items(catalog, backend=backend, clip_ids=clips, image_ids=images,
                               sampling=Sampling(max_frames=2, max_pixels=64 * 36))
    assert report.stopped is not None
    assert "401" in report.stopped and "API key" in report.stopped
    assert "CURATOR_OPENAI_API_KEY" in report.stopped
    assert len(server.requests) == 1  # not once per item
    assert report.done == 0 and report.failed == []
    assert all(c.caption is None for c in catalog.list_clips())
    assert catalog.get_job(report.job_id).status == "failed"


def test_an_unknown_model_names_what_the_server_serves(filled):
    catalog, clips, _ = filled
    with FakeChatServer(models=("Qwen/Qwen2.5-VL-7B-Instruct", "llava")) as server:
        backend = make_backend("openai", model="qwen2-vl", url=server.url, **FAST)
        report = caption_items(catalog, backend=backend, clip_ids=clips,
                               sampling=Sampling(max_frames=2, max_pixels=64 * 36))
    assert "no model 'qwen2-vl'" in report.stopped
    assert "Qwen/Qwen2.5-VL-7B-Instruct" in report.stopped
    with FakeChatServer() as server:  # a base URL without /v1: the endpoint is not there
        backend = make_backend("openai", model="tiny-vl", url=server.url[:-3], **FAST)
        with pytest.raises(CaptionBackendError, match="404") as info:
            backend.caption_image(np.zeros((32, 48, 3), np.uint8), "Describe.")
        assert info.value.fatal


def test_an_unreachable_server_is_retried_then_stops_the_batch(filled):
    catalog, clips, _ = filled
    server = FakeChatServer()
    url = server.url  # bound but never started, then closed: nothing listens
    server._server.server_close()
    backend = make_backend("openai", model="tiny-vl", url=url, retries=1, **FAST)
    report = caption_items(catalog, backend=backend, clip_ids=clips,
                           sampling=Sampling(max_frames=2, max_pixels=64 * 36))
    assert report.stopped and "cannot reach the server" in report.stopped
    assert "2 tries" in report.stopped


def test_a_looping_answer_is_asked_again_with_sampling_and_never_saved(filled):
    catalog, clips, _ = filled

    def respond(body, n):
        if n == 0:
            return chat_reply("ohwx style a road a road a road a road a road a road")
        return chat_reply("ohwx style A road through hills.")

    with FakeChatServer(responder=respond) as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, **FAST)
        report = caption_items(catalog, backend=backend, clip_ids=clips[:1],
                               sampling=Sampling(max_frames=2, max_pixels=64 * 36))
    assert report.retried == 1 and report.done == 1
    first, second = server.requests
    assert first.body["temperature"] == 0.0 and second.body["temperature"] > 0.0
    [version] = catalog.caption_history(clip_id=clips[0])
    assert version.text == "ohwx style A road through hills." and version.settings["attempt"] == 1


def test_an_answer_that_keeps_looping_fails_the_item_and_the_batch_goes_on(filled):
    catalog, clips, _ = filled
    # one request at a time: clip 1 (two tries), clip 2 (two tries), then clip 3
    with FakeChatServer(responder=lambda body, n: chat_reply("" if n < 4 else "Bars.")) as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, concurrency=1, **FAST)
        report = caption_items(catalog, backend=backend, clip_ids=clips, retries=1,
                               sampling=Sampling(fps=None, max_frames=2, max_pixels=64 * 36))
    assert [f.reason for f in report.failed] == [
        f"clip {clips[0]} [0, 24): the model's answer was unusable after 2 tries (empty): ''",
        f"clip {clips[1]} [24, 48): the model's answer was unusable after 2 tries (empty): ''"]
    assert report.done == 1 and catalog.get_clip(clips[2]).caption == "ohwx style Bars."
    assert catalog.get_clip(clips[0]).caption is None
    assert len(server.requests) == 5


def test_too_long_a_request_is_tried_again_with_fewer_frames(filled):
    catalog, clips, _ = filled

    def respond(body, n):
        images = sum(1 for p in body["messages"][0]["content"] if p["type"] == "image_url")
        if images > 2:
            return error_reply(400, f"This model's maximum context length is 4096 tokens. "
                                    f"However, you requested {images * 900} tokens.")
        return chat_reply("A short clip.")

    with FakeChatServer(responder=respond) as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, **FAST)
        report = caption_items(catalog, backend=backend, clip_ids=clips[:1],
                               sampling=Sampling(fps=None, max_frames=8, max_pixels=64 * 36))
    assert report.done == 1 and report.fewer_frames == 2
    assert [len(r.images()) for r in server.requests] == [8, 4, 2]
    assert len(catalog.caption_history(clip_id=clips[0])[0].settings["frames"]) == 2


def test_requests_run_concurrently(filled):
    catalog, clips, images = filled
    with FakeChatServer(delay=0.3) as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, concurrency=4, **FAST)
        assert backend.batch_size == 4
        report = caption_items(catalog, backend=backend, clip_ids=clips, image_ids=images,
                               sampling=Sampling(max_frames=2, max_pixels=64 * 36))
        backend.close()
    assert report.done == 5
    assert server.max_in_flight >= 3


def test_video_url_mode_sends_one_mp4_with_the_sampled_frames(filled):
    catalog, clips, _ = filled
    with FakeChatServer() as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, video_mode="video_url",
                               **FAST)
        report = caption_items(catalog, backend=backend, clip_ids=clips[:1],
                               sampling=Sampling(fps=8.0, max_frames=16, max_pixels=128 * 72))
    assert report.done == 1
    [part] = [p for p in server.requests[0].content if p["type"] == "video_url"]
    url = part["video_url"]["url"]
    assert url.startswith("data:video/mp4;base64,")
    with av.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as container:
        stream = container.streams.video[0]
        decoded = list(container.decode(stream))
        assert float(stream.average_rate) == pytest.approx(8.0, rel=0.02)
    assert len(decoded) == 8  # one second of a 24 fps clip at 8 fps
    assert (decoded[0].width, decoded[0].height) == (128, 72)


def test_cancel_stops_within_one_clip_and_a_rerun_resumes(filled):
    catalog, clips, images = filled
    cancel = CancelToken()
    with FakeChatServer() as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, concurrency=1, **FAST)
        report = caption_items(catalog, backend=backend, clip_ids=clips, image_ids=images,
                               sampling=Sampling(max_frames=2, max_pixels=64 * 36),
                               on_caption=lambda result: cancel.cancel(), cancel=cancel)
        assert report.cancelled and report.done == 1 and len(server.requests) == 1
        assert catalog.get_job(report.job_id).status == "cancelled"
        again = caption_items(catalog, backend=backend, clip_ids=clips, image_ids=images,
                              sampling=Sampling(max_frames=2, max_pixels=64 * 36))
    assert again.done == 4 and again.skipped == 1 and not again.cancelled
    assert len(server.requests) == 5
    assert all(len(catalog.caption_history(clip_id=c)) == 1 for c in clips)


def test_manual_captions_are_kept_unless_asked(filled):
    catalog, clips, _ = filled
    catalog.save_caption("ohwx style written by a person.", clip_id=clips[0])
    with FakeChatServer() as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, **FAST)
        kept = caption_items(catalog, backend=backend, clip_ids=clips[:1], only_missing=False,
                             sampling=Sampling(max_frames=2, max_pixels=64 * 36))
        assert kept.skipped_manual == 1 and kept.done == 0 and server.requests == []
        assert catalog.get_clip(clips[0]).caption == "ohwx style written by a person."
        replaced = caption_items(catalog, backend=backend, clip_ids=clips[:1],
                                 only_missing=False, overwrite_manual=True,
                                 sampling=Sampling(max_frames=2, max_pixels=64 * 36))
    assert replaced.done == 1
    history = catalog.caption_history(clip_id=clips[0])
    assert [h.origin for h in history] == ["openai:tiny-vl", "manual"]  # both kept, newest first


def test_a_vanished_source_fails_its_clips_and_the_batch_goes_on(filled, videos, tmp_path):
    catalog, clips, _ = filled
    moved = tmp_path / "gone.mp4"
    moved.write_bytes(videos[0].read_bytes())
    gone = add_video(catalog, moved, [(0, 24)])
    moved.unlink()
    with FakeChatServer() as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, **FAST)
        report = caption_items(catalog, backend=backend, clip_ids=gone + clips[2:],
                               sampling=Sampling(max_frames=2, max_pixels=64 * 36))
    assert report.done == 1
    [failure] = report.failed
    assert failure.path == str(moved)
    assert failure.reason.startswith(f"clip {gone[0]} [0, 24): ") and "missing" in failure.reason
    assert catalog.get_clip(clips[2]).caption is not None


def test_prompts_and_trigger_can_be_given_per_run(filled):
    catalog, clips, _ = filled
    prompts = Prompts(image="Image of {trigger}.", video="Start with '{trigger} ' please.")
    with FakeChatServer(responder=lambda b, n: chat_reply("A hill.")) as server:
        backend = make_backend("openai", model="tiny-vl", url=server.url, **FAST)
        caption_items(catalog, backend=backend, clip_ids=clips[:1], prompts=prompts,
                      trigger="zzq", sampling=Sampling(max_frames=2, max_pixels=64 * 36))
    assert server.requests[0].prompt == "Start with 'zzq ' please."
    assert catalog.get_clip(clips[0]).caption == "zzq A hill."


def test_run_caption_job_takes_plain_values_for_a_gui_worker(filled):
    catalog, clips, _ = filled
    with FakeChatServer() as server:
        report = run_caption_job(
            catalog, backend="openai", backend_settings={"model": "tiny-vl", "url": server.url},
            clip_ids=clips[:1], prompts={"video": "Describe, starting with '{trigger} '."},
            sampling={"fps": None, "max_frames": 3, "max_pixels": 4096})
    assert report.done == 1 and report.stopped is None
    assert server.requests[0].prompt == "Describe, starting with 'ohwx style '."
    assert len(server.requests[0].images()) == 3
    refused = run_caption_job(catalog, backend="openai",
                              backend_settings={"model": "m", "url": "ftp://host/v1"},
                              clip_ids=clips)
    assert refused.done == 0 and "http://" in refused.stopped
