"""`curator caption` under repeat, concurrent and hostile use (issue 10, items 5 and degraded).

Each runs the real CLI against a real OpenAI-compatible HTTP server on localhost.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.cli import main
from curator.core.catalog import Catalog
from tests.caption_fixtures import FakeChatServer, add_video, chat_reply
from tests.media_factory import Segment, make_video

TRIGGER = "ohwx style"


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("caption-safety-media")
    return make_video(folder / "shot.mp4", [Segment("texture", 36, seed=4)], fps=24,
                      size=(192, 108)).path


@pytest.fixture
def root(tmp_path, video) -> Path:
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    catalog.update_settings(trigger=TRIGGER)
    add_video(catalog, video, [(i * 4, i * 4 + 4) for i in range(8)])
    catalog.close()
    return root


def caption(root: Path, url: str, *args: str) -> int:
    return main(["--project", str(root), "-q", "caption", "--max-frames", "2",
                 "--max-pixels", "4096", "--backend", "openai", "--url", url,
                 "--model", "tiny-vl", "--only", "clips", *args])


def captioned(root: Path) -> int:
    catalog = Catalog.for_project(root)
    try:
        return sum(1 for c in catalog.list_clips() if c.caption)
    finally:
        catalog.close()


def test_limit_two_run_three_times_captions_six_clips(root, capsys):
    with FakeChatServer(responder=lambda body, n: chat_reply(f"A scene number {n}.")) as server:
        for run in range(1, 4):
            assert caption(root, server.url, "--limit", "2", "--json") == 0
            report = json.loads(capsys.readouterr().out)
            assert report["done"] == 2 and report["skipped"] == 2 * (run - 1)
    assert captioned(root) == 6
    assert len(server.requests) == 6
