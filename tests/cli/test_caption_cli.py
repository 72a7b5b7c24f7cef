"""`curator caption` in-process: a local tiny model, an OpenAI-compatible server, and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.cli import main
from curator.core.catalog import Catalog
from tests.caption_fixtures import FakeChatServer, add_image, add_video, chat_reply, write_image
from tests.media_factory import Segment, make_video

TRIGGER = "ohwx style"


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("caption-cli-media")
    return make_video(folder / "shot.mp4", [Segment("texture", 36, seed=4)], fps=24,
                      size=(192, 108)).path


@pytest.fixture
def project(tmp_path, video) -> tuple[Path, list[int], list[int]]:
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    catalog.update_settings(trigger=TRIGGER)
    clips = add_video(catalog, video, [(0, 12), (12, 24), (24, 36)])
    images = [add_image(catalog, write_image(tmp_path / "still.png", (160, 90)))]
    catalog.set_decision(clips[:1], "accepted")
    catalog.set_decision(clips[2:], "rejected", "blurry")
    catalog.close()
    return root, clips, images


def cli(root: Path, *args: str) -> int:
    return main(["--project", str(root), "-q", "caption", "--max-frames", "2",
                 "--max-pixels", "4096", *args])


def test_caption_through_a_server_then_resume_skips_what_is_done(project, capsys):
    root, clips, images = project
    with FakeChatServer(responder=lambda body, n: chat_reply(f"Sure! A scene number {n}.")) \
            as server:
        assert cli(root, "--backend", "openai", "--url", server.url, "--model", "tiny-vl",
                   "--json") == 0
        report = json.loads(capsys.readouterr().out)
        # rejected clips are left alone unless asked for by --status
        assert report["done"] == 3 and report["failed"] == [] and report["stopped"] is None
        assert {c["id"] for c in report["captions"] if c["kind"] == "clip"} == set(clips[:2])
        assert all(c["text"].startswith(TRIGGER + " A scene number") for c in report["captions"])
        assert cli(root, "--backend", "openai", "--url", server.url, "--model", "tiny-vl",
                   "--json") == 0
        again = json.loads(capsys.readouterr().out)
        assert again["done"] == 0 and again["skipped"] == 3 and len(server.requests) == 3
    catalog = Catalog.for_project(root)
    try:
        assert catalog.get_clip(clips[0]).caption.startswith(TRIGGER)
        assert catalog.get_clip(clips[2]).caption is None
        assert catalog.get_image(images[0]).caption_origin == "openai:tiny-vl"
    finally:
        catalog.close()


def test_prompt_file_trigger_status_and_all(project, tmp_path, capsys):
    root, clips, _ = project
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Describe it, starting with '{trigger} '.\n", encoding="utf-8")
    with FakeChatServer(responder=lambda body, n: chat_reply("zzq A field.")) as server:
        args = ("--backend", "openai", "--url", server.url, "--model", "tiny-vl",
                "--prompt-file", str(prompt), "--trigger", "zzq", "--status", "accepted")
        assert cli(root, *args) == 0
        assert [r.prompt for r in server.requests] == ["Describe it, starting with 'zzq '."]
        assert cli(root, *args) == 0 and len(server.requests) == 1  # only missing: nothing new
        assert cli(root, *args, "--all") == 0 and len(server.requests) == 2
    err = capsys.readouterr().err
    assert "captioned 1" in err


def test_a_local_tiny_model_through_the_cli(project, capsys):
    torch = pytest.importorskip("torch")
    from tests.tiny_vlm import tiny_vlm

    root, clips, images = project
    folder = tiny_vlm("qwen2_vl")
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model gains nothing from threads; on 2 busy cores they spin
    try:
        code = cli(root, "--model", str(folder), "--max-new-tokens", "12", "--seed", "1",
                   "--only", "clips", "--json")
    finally:
        torch.set_num_threads(before)
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["failed"] == [] and report["done"] == 2
    for caption in report["captions"]:
        assert caption["text"].startswith(TRIGGER + " ")
        assert caption["origin"] == f"transformers:{folder.name}"


def test_errors_are_sentences_with_exit_code_2(project, tmp_path, capsys):
    root, _, _ = project
    assert cli(root, "--model", str(tmp_path / "models" / "nothing-here")) == 2
    assert "nothing-here" in capsys.readouterr().err
    assert cli(root, "--backend", "openai", "--url", "http://127.0.0.1:9/v1") == 2
    assert "no model" in capsys.readouterr().err
    with FakeChatServer(api_key="sk-right") as server:
        assert cli(root, "--backend", "openai", "--url", server.url, "--model", "tiny-vl") == 2
    err = capsys.readouterr().err
    assert "401" in err and "CURATOR_OPENAI_API_KEY" in err
    assert cli(root, "--backend", "openai", "--url", "http://x/v1", "--model", "m",
               "--prompt-file", str(tmp_path / "missing.txt")) == 2
    assert "cannot read prompt file" in capsys.readouterr().err
