"""`curator caption --dry-run` says what a run would caption without loading a model, by the
same selection the run and the window's count use; a run prints each retry as a line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.cli import main
from curator.core.captioning.request import CaptionSelection, count_to_caption
from curator.core.catalog import Catalog
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


@pytest.fixture
def project(tmp_path) -> tuple[Path, list[int], list[int]]:
    video = make_video(tmp_path / "shot.mp4", [Segment("texture", 36, seed=4)], fps=24,
                       size=(160, 90)).path
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    catalog.update_settings(trigger=TRIGGER)
    clips = add_video(catalog, video, [(0, 12), (12, 24), (24, 36)])
    images = [add_image(catalog, write_image(tmp_path / "still.png", (160, 90)))]
    catalog.set_decision(clips[2:], "rejected", "blurry")
    catalog.save_caption(f"{TRIGGER} A hand-written one.", clip_id=clips[1])
    catalog.close()
    return root, clips, images


def caption(root: Path, *args: str) -> int:
    return main(["--project", str(root), "-q", "caption", *args])


def test_dry_run_counts_and_lists_what_a_run_would_caption(project, capsys):
    root, clips, images = project
    # No model named, no server: nothing is loaded, so nothing is needed.
    assert caption(root, "--dry-run") == 0
    said = capsys.readouterr().err
    assert "would caption 1 clip and 1 image (1 written by hand, kept)" in said
    assert caption(root, "--dry-run", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    assert (plan["clips"], plan["images"], plan["skipped_manual"]) == (1, 1, 1)
    assert [(i["kind"], i["id"]) for i in plan["items"]] == [("clip", clips[0]),
                                                             ("image", images[0])]
    assert plan["items"][0]["path"].endswith("shot.mp4") and plan["items"][0]["frames"] == [0, 12]
    assert plan["items"][1]["path"].endswith("still.png")
    # The same selection the window counts with ("Will caption 1 clip and 1 image").
    catalog = Catalog.for_project(root)
    try:
        counted = count_to_caption(catalog)
        assert CaptionSelection().select(catalog)[0] == clips[:2]
    finally:
        catalog.close()
    assert (counted.clips, counted.images, counted.skipped_manual) == (1, 1, 1)
    # Options narrow it as they narrow a run; nothing was captioned.
    assert caption(root, "--dry-run", "--json", "--all", "--overwrite-manual", "--only",
                   "clips") == 0
    plan = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in plan["items"]] == clips[:2] and plan["images"] == 0
    assert caption(root, "--dry-run", "--json", "--status", "rejected", "--limit", "1") == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out)["items"]] == clips[2:]
    catalog = Catalog.for_project(root)
    try:
        assert catalog.get_clip(clips[0]).caption is None
        assert catalog.list_jobs(kind="caption") == []  # no run was recorded
    finally:
        catalog.close()


def test_a_run_prints_each_retry_as_a_line(project, capsys):
    root, clips, _ = project

    def respond(body, n):
        return error_reply(503, "warming up") if n == 0 else chat_reply("A quiet street.")

    with FakeChatServer(responder=respond) as server:
        assert caption(root, "--backend", "openai", "--url", server.url, "--model", "tiny-vl",
                       "--ids", str(clips[0]), "--max-frames", "2", "--max-pixels", "4096") == 0
    said = capsys.readouterr().err
    assert "Server error 503, retry 1 of 4 in " in said
    assert len(server.requests) == 2
