"""The runner with real subprocesses: a fake trainer replays recorded musubi-tuner output.

Covers exit codes 0 and 3, cancel (SIGINT reaches the child and its own child through the
process group, then SIGTERM and SIGKILL for a trainer that ignores it), a command that cannot
start, a failing step stopping the chain, and the Job rows written to the catalog.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from curator.core.jobs import CancelToken
from curator.core.training.commands import build_steps
from curator.core.training.profile import load_profile
from curator.core.training.runner import run_command, run_steps
from tests.training_fixtures import (
    FAKE_TRAINER,
    LOGS,
    make_dataset,
    make_fake_musubi,
    make_models,
    received_argv,
)

pytestmark = pytest.mark.timeout(60)


def fake(*args: str) -> list[str]:
    return [sys.executable, str(FAKE_TRAINER), *args]


def test_a_successful_run_streams_lines_per_stream_and_records_them(tmp_path):
    seen: list[tuple[str, str]] = []
    record = run_command(fake("--replay", str(LOGS["train"]), "--delay", "0.001"),
                         cwd=tmp_path, on_line=lambda s, line: seen.append((s, line)),
                         name="train")
    assert (record.status, record.return_code, record.error) == ("done", 0, None)
    assert record.started_at <= record.ended_at and record.duration_s >= 0
    assert ("stdout", "epoch 1/2") in seen and ("stdout", "epoch 2/2") in seen
    bar_streams = {s for s, line in seen if line.startswith("steps:")}
    assert bar_streams == {"stderr"}  # tqdm writes to stderr
    assert len([1 for _, line in seen if line.startswith("steps:")]) >= 13  # every redraw
    assert ("stderr", "INFO:musubi_tuner.training.trainer_base:model saved.") in seen
    # The record keeps the last lines; each bar keeps only the redraw it ended on.
    assert record.last_lines[-1] == "INFO:musubi_tuner.training.trainer_base:model saved."
    assert "saving checkpoint: /runs/style/wan21-style.safetensors" in record.stdout_tail
    kept_bars = [line for line in record.last_lines if line.startswith("steps:")]
    assert [line.split("|")[2].split()[0] for line in kept_bars] == ["0/12", "6/12", "12/12"]
    assert record.argv[0] == sys.executable and record.cwd == str(tmp_path)


def test_a_failing_run_says_how_it_ended(tmp_path):
    record = run_command(fake("--replay", str(LOGS["cache-text"]), "--exit-code", "3"),
                         cwd=tmp_path, name="cache-text")
    assert (record.status, record.return_code) == ("failed", 3)
    assert record.error.startswith("cache-text exited with code 3")


def test_the_error_line_of_a_crash_is_the_reason(tmp_path):
    record = run_command(fake("--replay", str(tmp_path.parent / "x")), cwd=tmp_path)
    assert record.status == "failed"
    assert "FileNotFoundError" in record.error  # the fake's own traceback, read from stderr


def test_a_command_that_cannot_start(tmp_path):
    record = run_command([str(tmp_path / "no-such-python"), "x.py"], cwd=tmp_path, name="train")
    assert record.status == "failed" and record.return_code is None
    assert "could not start" in record.error


def test_cancel_sends_sigint_to_the_whole_process_group(tmp_path):
    marker = tmp_path / "signals.txt"
    cancel = CancelToken()

    def on_line(stream: str, line: str) -> None:
        if line.endswith("model saved."):
            cancel.cancel()  # the replay is over; the trainer now hangs until signalled

    started = time.monotonic()
    record = run_command(fake("--replay", str(LOGS["train"]), "--hang", "--spawn-child",
                              "--marker", str(marker)),
                         cwd=tmp_path, on_line=on_line, cancel=cancel, grace_s=20,
                         name="train")
    assert time.monotonic() - started < 15  # stopped by SIGINT, long before the grace ran out
    assert record.status == "cancelled" and record.signals_sent == ("SIGINT",)
    received = marker.read_text().splitlines()
    # Launcher and training script both got it: the signal went to the group, not one pid.
    assert len(received) == 2 and all(line.startswith("SIGINT") for line in received)
    assert len({line.split("pid=")[1] for line in received}) == 2


def test_a_trainer_that_ignores_sigint_gets_sigterm_then_sigkill(tmp_path):
    marker = tmp_path / "signals.txt"
    cancel = CancelToken()
    record = run_command(
        fake("--replay", str(LOGS["cache-text"]), "--hang", "--ignore-sigint", "--marker",
             str(marker)),
        cwd=tmp_path, cancel=cancel, grace_s=0.3, term_grace_s=10,
        on_line=lambda s, line: cancel.cancel(), name="cache-text")
    assert record.status == "cancelled" and record.signals_sent == ("SIGINT", "SIGTERM")
    assert record.return_code == 143
    assert [line.split()[0] for line in marker.read_text().splitlines()] == ["SIGINT", "SIGTERM"]

    stubborn = CancelToken()
    record = run_command(
        fake("--replay", str(LOGS["cache-text"]), "--hang", "--ignore-sigint",
             "--ignore-sigterm"),
        cwd=tmp_path, cancel=stubborn, grace_s=0.2, term_grace_s=0.2,
        on_line=lambda s, line: stubborn.cancel())
    assert record.signals_sent == ("SIGINT", "SIGTERM", "SIGKILL")
    assert record.return_code == -9


def test_a_cancel_before_start_runs_nothing(tmp_path):
    cancel = CancelToken()
    cancel.cancel()
    record = run_command(fake("--replay", str(LOGS["train"])), cwd=tmp_path, cancel=cancel)
    assert record.status == "cancelled" and record.started_at is None


def test_an_exception_in_the_callback_leaves_no_process_behind(tmp_path):
    info = tmp_path / "argv.json"

    def explode(stream: str, line: str) -> None:
        raise RuntimeError("widget gone")

    with pytest.raises(RuntimeError, match="widget gone"):
        run_command(fake("--replay", str(LOGS["train"]), "--hang", "--argv-out", str(info)),
                    cwd=tmp_path, on_line=explode)
    pid = json.loads(info.read_text())["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped, not left running


# ---- several steps, through the commands Curator builds -----------------------------------------

@pytest.fixture
def profile_for(tmp_path):
    models = make_models(tmp_path / "models")
    dataset = make_dataset(tmp_path / "export")

    def build(**fake_options):
        trainer = make_fake_musubi(tmp_path / "musubi-tuner", **fake_options)
        return load_profile("wan21-14b-style-24gb").replace(
            trainer_dir=str(trainer), python=sys.executable, dit=str(models["dit"]),
            vae=str(models["vae"]), t5=str(models["t5"]), dataset_config=str(dataset),
            output_dir=str(tmp_path / "out"))

    return build


def test_all_steps_run_in_order_with_the_built_argv_and_are_recorded(profile_for, catalog):
    profile = profile_for()
    steps = build_steps(profile)
    started, updates = [], []
    report = run_steps(steps, catalog=catalog, job_params={"profile": profile.name},
                       on_step=lambda step, i, n: started.append((step.name, i, n)),
                       on_progress=lambda step, state: updates.append((step.name, state)),
                       job_update_every_s=0)
    assert report.ok and report.done == 3 and not report.failed
    assert started == [("cache-latents", 0, 3), ("cache-text", 1, 3), ("train", 2, 3)]
    trainer = profile.trainer_dir
    for step in steps:
        got = received_argv(Path(trainer), step.name)
        script_at = next(i for i, w in enumerate(step.argv) if w.endswith(".py"))
        assert got["argv"] == list(step.argv[script_at + 1:])  # through accelerate for train
        assert got["cwd"] == trainer and got["pythonpath"].startswith(f"{trainer}/src")
        assert got["unbuffered"] == "1"
    final = [state for name, state in updates if name == "train"][-1]
    assert (final.step, final.total_steps, final.phase) == (12, 12, "finished")
    assert any(name == "cache-latents" and s.phase == "caching" for name, s in updates)
    assert (Path(profile.output_dir) / "logs").is_dir()  # the step's folders were made

    jobs = sorted(catalog.list_jobs(kind="train"), key=lambda j: j.id)
    assert [j.params["step"] for j in jobs] == ["cache-latents", "cache-text", "train"]
    assert all(j.status == "done" and j.return_code == 0 and j.ended_at for j in jobs)
    assert jobs[2].params["argv"] == list(steps[2].argv) and jobs[2].params["profile"] == \
        profile.name
    assert "model saved." in jobs[2].log
    assert jobs[2].result["progress"]["step"] == 12 and jobs[2].total == 12


def test_a_failing_step_stops_the_chain(profile_for, catalog):
    profile = profile_for(exit_codes={"cache-text": 3})
    report = run_steps(build_steps(profile), catalog=catalog)
    assert [r.name for r in report.records] == ["cache-latents", "cache-text"]
    assert [r.status for r in report.records] == ["done", "failed"]
    assert report.done == 1 and not report.ok
    assert report.failed[0].path == "cache-text" and "exited with code 3" in \
        report.failed[0].reason
    trainer = Path(profile.trainer_dir)
    assert not (trainer / "argv-train.json").exists()  # train never started
    jobs = sorted(catalog.list_jobs(kind="train"), key=lambda j: j.id)
    assert [(j.status, j.return_code) for j in jobs] == [("done", 0), ("failed", 3)]


def test_cancelling_the_training_step_is_recorded_as_cancelled(profile_for, catalog, tmp_path):
    marker = tmp_path / "signals.txt"
    profile = profile_for(hang={"train"}, marker=marker)
    cancel = CancelToken()

    def on_line(stream: str, line: str) -> None:
        if line.endswith("model saved."):
            cancel.cancel()

    report = run_steps(build_steps(profile, "train"), cancel=cancel, on_line=on_line,
                       catalog=catalog, grace_s=20)
    assert report.cancelled and not report.failed and report.done == 0
    (record,) = report.records
    assert record.status == "cancelled" and record.signals_sent == ("SIGINT",)
    assert marker.read_text().startswith("SIGINT")  # reached the script under the launcher
    (job,) = catalog.list_jobs(kind="train")
    assert job.status == "cancelled" and job.ended_at is not None


def test_a_callback_failure_marks_the_job_failed_not_running(profile_for, catalog):
    profile = profile_for()

    def explode(stream: str, line: str) -> None:
        raise RuntimeError("log view closed")

    with pytest.raises(RuntimeError, match="log view closed"):
        run_steps(build_steps(profile, "cache-text"), on_line=explode, catalog=catalog)
    (job,) = catalog.list_jobs(kind="train")
    assert job.status == "failed" and "log view closed" in job.log
