"""Runs killed with kill -9 (issue 10, degraded items): the job is marked interrupted when the
project is next opened, and a trainer such a run left behind is named."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from curator.core.catalog import Catalog
from curator.core.processes import is_alive
from curator.core.project import Project
from tests.caption_fixtures import FakeChatServer, add_video, chat_reply
from tests.conftest import REPO_ROOT
from tests.media_factory import Segment, make_video

ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("recovery-media")
    return make_video(folder / "shot.mp4", [Segment("texture", 24, seed=2)], fps=24,
                      size=(96, 54)).path


@pytest.fixture
def root(tmp_path, video) -> Path:
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    add_video(catalog, video, [(0, 12), (12, 24)])
    catalog.close()
    return root


def wait_for_running_job(root: Path, kind: str, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    catalog = Catalog.for_project(root)
    try:
        while time.monotonic() < deadline:
            running = [j for j in catalog.list_jobs(kind=kind) if j.status == "running"]
            if running and (kind != "train" or "child" in (running[0].params or {})):
                return running[0].id
            time.sleep(0.1)
    finally:
        catalog.close()
    raise AssertionError(f"no running {kind} job within {timeout} s")


def caption_cli(root: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "curator.cli", "--project", str(root), "-q", "caption",
         "--backend", "openai", "--url", url, "--model", "tiny-vl", "--max-frames", "2",
         "--max-pixels", "4096", "--concurrency", "1"],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_caption_run_killed_with_kill_9_is_marked_interrupted_on_next_open(root):
    with FakeChatServer(responder=lambda body, n: chat_reply("A scene."), delay=30) as server:
        proc = caption_cli(root, server.url)
        job_id = wait_for_running_job(root, "caption")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    project = Project(root)
    try:
        job = project.catalog.get_job(job_id)
        assert job.status == "interrupted"
        assert f"caption job {job_id} was interrupted" in project.notices[0]
        assert "killed or crashed" in job.log
    finally:
        project.close()
    # the CLI says it once, when it opens the project; the row is not 'running' any more
    again = subprocess.run([sys.executable, "-m", "curator.cli", "--project", str(root),
                            "clips", "--json"], env=ENV, capture_output=True, text=True,
                           timeout=60, check=False)
    assert again.returncode == 0 and "was interrupted" not in again.stderr


@pytest.mark.slow
def test_a_second_caption_run_says_another_is_active_instead_of_captioning_twice(root):
    # each answer takes 8 s: the first run is still at its first clip when the second starts
    with FakeChatServer(responder=lambda body, n: chat_reply("A scene."), delay=8) as server:
        first = caption_cli(root, server.url)
        wait_for_running_job(root, "caption")
        second = caption_cli(root, server.url)
        _out, err = second.communicate(timeout=120)
        assert first.poll() is None, "the first run ended before the second started"
        assert second.returncode == 2, err
        assert "another caption run is active on this project" in err
        _out, first_err = first.communicate(timeout=120)
        assert first.returncode == 0, first_err
        assert len(server.requests) == 2  # each clip captioned once
    catalog = Catalog.for_project(root)
    try:
        assert all(c.caption == "A scene." for c in catalog.list_clips())
        assert all(len(catalog.caption_history(clip_id=c.id)) == 1
                   for c in catalog.list_clips())
    finally:
        catalog.close()


TRAIN = textwrap.dedent("""
    import sys
    from curator.core.project import Project
    from curator.core.training.commands import TrainStep
    from curator.core.training.runner import run_steps
    project = Project(sys.argv[1])
    trainer = TrainStep("train", (sys.executable, "-c", "import time; time.sleep(120)"),
                        cwd=sys.argv[1])
    run_steps([trainer], catalog=project.catalog)
""")


def test_a_trainer_left_behind_by_a_killed_curator_is_reported(root):
    curator = subprocess.Popen([sys.executable, "-c", TRAIN, str(root)], env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    job_id = wait_for_running_job(root, "train")
    curator.send_signal(signal.SIGKILL)
    curator.wait(timeout=30)
    project = Project(root)
    try:
        job = project.catalog.get_job(job_id)
        child = job.params["child"]
        try:
            assert is_alive(child)  # the trainer runs in its own session: it outlived Curator
            assert job.status == "interrupted"
            (notice,) = project.notices
            assert f"the trainer it started (pid {child['pid']}) is still running" in notice
        finally:
            os.killpg(child["pid"], signal.SIGKILL)
    finally:
        project.close()
