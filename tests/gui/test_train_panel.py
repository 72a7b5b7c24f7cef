"""The Train tab on real processes: a fake musubi-tuner replays recorded output through it.

The fake checkout (tests/training_fixtures.py) runs the exact argv the tab builds, through a
stand-in `accelerate launch`, so progress, cancel and failures travel the whole way: form ->
`plan_run` -> JobRunner thread -> `run_steps` -> subprocess -> LineChannel -> widgets. The
checkpoint gallery reads a sample folder named as musubi-tuner names it.
"""

from __future__ import annotations

import stat
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt, QUrl

from curator.core.training.commands import format_command
from curator.core.training.diagnosis import prompt_texts
from curator.core.training.samples import Checkpoint
from curator.gui.panels.loss_plot import LossPlot, format_loss, smooth
from curator.gui.tabs.train import TrainPanel
from curator.gui.tabs.train.channel import LineChannel
from curator.gui.tabs.train.gallery import CheckpointGallery
from curator.gui.tabs.train.gallery_loader import common_output_name, playback_stride, run_folder
from curator.gui.workers import JobRunner
from tests.training_fixtures import (
    DATA,
    make_dataset,
    make_fake_musubi,
    make_models,
    received_argv,
)

pytestmark = pytest.mark.timeout(60)

RUN_TIMEOUT_MS = 30_000


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    models = make_models(tmp_path / "models")
    return {**models, "dataset": make_dataset(tmp_path / "export"), "out": tmp_path / "runs"}


@pytest.fixture
def panel(qtbot, project):
    runner = JobRunner(project.catalog)
    widget = TrainPanel(project=project, catalog=project.catalog, job_runner=runner)
    widget.grace_s = 5.0
    qtbot.addWidget(widget)
    widget.resize(1400, 860)
    yield widget
    widget.shutdown()
    assert runner.shutdown(10_000)


def fill(panel: TrainPanel, files: dict[str, Path], trainer: Path | None = None,
         **more: str) -> None:
    """Type the run's paths into the form, as a person would."""
    values = {"trainer_dir": str(trainer) if trainer else "", "python": sys.executable,
              "dit": str(files["dit"]), "vae": str(files["vae"]), "t5": str(files["t5"]),
              "dataset_config": str(files["dataset"]), "output_dir": str(files["out"]),
              "output_name": "fox", **more}
    for name, text in values.items():
        editor = panel.editors[name]
        if editor.spin is not None:
            editor.spin.setValue(int(text))
        else:
            editor.line.setText(text)
    panel.replan()


def run_to_end(qtbot, panel: TrainPanel) -> str:
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        assert panel.run() is not None
    return finished.args[0]


# --- pure helpers ----------------------------------------------------------------------------

def test_loss_plot_helpers_smooth_and_format():
    assert smooth([1.0, 1.0, 1.0], 0.9) == pytest.approx([1.0, 1.0, 1.0])  # debiased: no droop
    values = smooth([1.0, 0.0, 1.0, 0.0], 0.5)
    assert values[0] == 1.0 and 0.0 < values[-1] < 1.0
    assert smooth([0.5, float("nan"), 0.3], 0.0) == [0.5, 0.5, 0.3]
    assert format_loss(0.0871) == "0.0871" and format_loss(1.5e-5) == "1.5e-05"


def test_loss_plot_appends_steps_like_a_full_recompute(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    for step, loss in [(1, 0.2), (2, 0.18), (2, 0.17), (3, 0.15), (4, 0.16)]:
        plot.add_point(step, loss)
    assert plot.points == [(1, 0.2), (2, 0.17), (3, 0.15), (4, 0.16)]
    assert plot.smoothed == pytest.approx(smooth([0.2, 0.17, 0.15, 0.16]))
    plot.resize(400, 200)
    assert not plot.grab().isNull()


def test_line_channel_batches_lines_with_one_signal_per_batch(qtbot, monkeypatch):
    channel = LineChannel()
    signals = []
    channel.ready.connect(lambda: signals.append(1))
    for i in range(5):
        channel.line("stderr", f"line {i}")
    assert len(signals) == 1  # one signal until the batch is taken
    assert [item[2] for item in channel.take()] == [f"line {i}" for i in range(5)]
    channel.line("stdout", "next")
    assert len(signals) == 2 and channel.take() == [("line", "stdout", "next")]
    # A stalled window: the oldest lines go, never a step start, and the log says so.
    monkeypatch.setattr("curator.gui.tabs.train.channel.MAX_PENDING", 10)
    channel.step("STEP", 0, 1)
    for i in range(20):
        channel.line("stderr", f"flood {i}")
    items = channel.take()
    assert items[0][2].startswith("[") and "lines skipped" in items[0][2]
    assert ("step", "STEP", 0, 1) in items and items[-1] == ("line", "stderr", "flood 19")
    assert prompt_texts("# comment\nA fox --w 832\n\n B hill --h 480\n") == ["A fox", "B hill"]


# --- settings, problems, commands ------------------------------------------------------------

def test_problems_show_beside_fields_and_commands_follow_the_form(qtbot, panel, files, tmp_path,
                                                                   project):
    # The 24 GB preset names no files yet: each missing one is marked where it is typed.
    plan = panel.plan
    assert plan is not None and not plan.ready
    for name in ("trainer_dir", "dit", "vae", "t5", "dataset_config"):
        message = panel.editors[name].message
        assert message.isVisibleTo(panel), name
        assert "not set" in message.text()
    assert not panel.run_button.isEnabled()

    trainer = make_fake_musubi(tmp_path / "musubi-tuner")
    fill(panel, files, trainer)
    assert panel.plan.ready, [p.message for p in panel.plan.problems]
    assert panel.run_button.isEnabled()
    assert not panel.editors["dit"].message.isVisibleTo(panel)
    text = panel.commands_view.toPlainText()
    train = panel.plan.steps[-1]
    # The core's one script writer, shown as it would be written (the date line aside).
    assert text.splitlines()[2:] == panel.plan.script().splitlines()[2:]
    assert format_command(train.argv) in text
    assert "--output_name fox" in text and f"cd {trainer}" in text

    # A value the trainer refuses: the fix-it text from the core, beside the field.
    panel.editors["blocks_to_swap"].spin.setValue(45)
    panel.replan()
    message = panel.editors["blocks_to_swap"].message.text()
    assert "at most 39" in message and not panel.run_button.isEnabled()
    panel.editors["blocks_to_swap"].spin.setValue(20)
    panel.editors["learning_rate"].line.setText("fast")
    panel.replan()
    assert "not a number" in panel.editors["learning_rate"].message.text()
    assert not panel.run_button.isEnabled()
    panel.editors["learning_rate"].line.setText("1e-4")
    panel.replan()
    assert panel.run_button.isEnabled()
    assert "--blocks_to_swap 20" in panel.commands_view.toPlainText()
    assert "--learning_rate 0.0001" in panel.commands_view.toPlainText()

    # Resume a saved state: the trainer's folder names are offered, --resume is passed.
    state = files["out"] / "fox-000002-state"
    state.mkdir(parents=True)
    panel.editors["save_state"].check.setChecked(True)
    panel.replan()
    assert panel.editors["resume"].combo.findText(str(state)) >= 0
    panel.editors["resume"].line.setText(str(state))
    panel.replan()
    assert panel.plan.ready
    assert f"--save_state \\\n    --resume {state}" in panel.commands_view.toPlainText()

    # Only one step: the others' commands disappear.
    panel.set_steps("cache-text")
    assert [s.name for s in panel.plan.steps] == ["cache-text"]

    # Export the script, then keep the settings as the project's profile.
    script = panel.export_script(tmp_path / "remote" / "train.sh")
    assert script is not None and "wan_cache_text_encoder_outputs.py" in script.read_text()
    assert script.stat().st_mode & stat.S_IXUSR
    saved = panel.save_profile()
    assert saved == project.root / "training" / "wan21-14b-style-24gb.toml"
    assert "project profile" in panel.origin_label.text()
    assert "blocks_to_swap = 20" in saved.read_text()


def test_switching_profiles_keeps_unsaved_edits(qtbot, panel):
    assert panel.profile_combo.currentData() == "wan21-14b-style-24gb"
    names = [panel.profile_combo.itemData(i) for i in range(panel.profile_combo.count())]
    assert {"wan21-1.3b-style-12gb", "wan22-t2v-a14b-24gb", "dp-wan21-14b-24gb"} <= set(names)
    panel.editors["blocks_to_swap"].spin.setValue(25)
    panel.replan()
    assert "modified" in panel.origin_label.text()
    panel.load("wan22-t2v-a14b-24gb")  # Wan2.2: the high-noise DiT row appears
    assert panel.editors["task"].value() == "t2v-A14B"
    assert panel.editors["dit_high_noise"].isVisibleTo(panel)
    assert not panel.editors["clip"].isVisibleTo(panel)
    panel.load("dp-wan21-14b-24gb")  # diffusion-pipe: its checkpoint folder instead of a VAE
    assert panel.editors["dp_ckpt_path"].isVisibleTo(panel)
    assert not panel.editors["vae"].isVisibleTo(panel)
    panel.load("wan21-14b-style-24gb")
    assert panel.editors["blocks_to_swap"].value() == 25
    assert "modified" in panel.origin_label.text()


def test_dataset_defaults_to_the_last_export_and_prompts_are_checked(qtbot, panel, files,
                                                                     tmp_path, project):
    export = tmp_path / "export-root"
    export.mkdir()
    (export / "musubi_dataset.toml").write_text(files["dataset"].read_text())
    project.catalog.update_settings(export_root=str(export), trigger="Studio Ghibli style.")
    fill(panel, files, make_fake_musubi(tmp_path / "musubi-tuner"), dataset_config="")
    assert panel.plan.profile.dataset_config == str(export / "musubi_dataset.toml")
    assert "from the last export" in panel.editors["dataset_config"].line.placeholderText()
    message = panel.editors["dataset_config"].message.text()
    assert "3 video files" in message and "no counts from `curator export`" in message

    panel.prompt_edit.setPlainText("Studio Ghibli style. a fox in snow --w 830 --h 480 --f 32")
    problems = panel.prompt_problems.text()
    assert "not a multiple of 16" in problems and "4n+1" in problems and "--fs" in problems
    qtbot.mouseClick(panel.findChild(type(panel.run_button), "fixPrompts"),
                     Qt.MouseButton.LeftButton)
    fixed = panel.prompt_edit.toPlainText()
    assert "--w 816" in fixed and "--f 29" in fixed and "--fs 3.0" in fixed and "--l 5.0" in fixed
    assert "ready" in panel.prompt_problems.text()
    prompts_file = project.root / "training" / "wan21-14b-style-24gb.prompts.txt"
    qtbot.waitUntil(lambda: prompts_file.is_file(), timeout=5000)  # kept once checked
    assert prompts_file.read_text().strip() == fixed.strip()
    panel.replan()
    assert f"--sample_prompts {prompts_file}" in panel.commands_view.toPlainText()


# --- running ---------------------------------------------------------------------------------

def test_a_fake_run_streams_progress_loss_and_is_recorded(qtbot, panel, files, tmp_path,
                                                          project):
    trainer = make_fake_musubi(tmp_path / "musubi-tuner", delay=0.01)
    fill(panel, files, trainer)
    panel.editors["max_train_epochs"].spin.setValue(2)
    values: list[int] = []
    panel.progress_bar.valueChanged.connect(values.append)
    started = []
    panel.run_started.connect(started.append)

    assert run_to_end(qtbot, panel) == "done"

    # The exact command the form describes reached the trainer.
    argv = received_argv(trainer, "train")["argv"]
    assert argv[argv.index("--max_train_epochs") + 1] == "2"
    assert argv[argv.index("--output_name") + 1] == "fox"

    bar = panel.progress_bar
    assert bar.maximum() == 12 and bar.value() == 12
    assert any(0 < v < 12 for v in values), values  # it moved while the run was live
    assert "12 of 12" in bar.format()
    assert panel.stat_labels["epoch"].text() == "2 / 2"
    assert panel.stat_labels["loss"].text() == "0.0871"
    assert panel.stat_labels["speed"].text().endswith("s/it")
    assert [s for s, _ in panel.loss_plot.points] == list(range(1, 13))
    assert panel.loss_plot.points[-1] == (12, 0.0871)
    assert panel.loss_plot.steps_per_epoch == 6
    log = panel.log_text()
    assert "== step 1/3: cache-latents" in log and "== step 3/3: train" in log
    # the end of the run: its last line, or the one before when the checkpoint print
    # (stdout) is read after it (stderr): two pipes keep no order between them
    assert ("INFO:musubi_tuner.training.trainer_base:model saved."
            in log.rstrip().splitlines()[-2:])
    # Bars redrawn in place: one line per bar run, not one per redraw.
    assert sum(1 for line in log.splitlines() if line.startswith("steps:")) < 6
    assert "Done" in panel.banner.text() and panel.banner.isVisibleTo(panel)

    # One 'train' job in the jobs panel, recorded in the catalog with each step's return code.
    handle = started[0]
    assert handle.kind == "train" and handle.status == "done"
    rows = project.catalog.list_jobs(kind="train")
    run_row = next(r for r in rows if r.id == handle.catalog_job_id)
    assert run_row.status == "done" and run_row.params["profile"] == "wan21-14b-style-24gb"
    assert [r["status"] for r in run_row.result["records"]] == ["done"] * 3
    steps = [r for r in rows if r.id != handle.catalog_job_id]
    assert sorted(r.params["step"] for r in steps) == ["cache-latents", "cache-text", "train"]
    assert all(r.return_code == 0 and r.status == "done" for r in steps)

    # Links point into the output folder the run wrote.
    urls = panel.link_urls()
    assert urls["output"] == QUrl.fromLocalFile(str(files["out"]))
    assert urls["samples"] == QUrl.fromLocalFile(str(files["out"] / "sample"))
    assert urls["tensorboard"] == QUrl.fromLocalFile(str(files["out"] / "logs"))
    assert panel.link_buttons["output"].isEnabled()
    assert panel.link_buttons["tensorboard"].isEnabled()
    assert not panel.running and panel.run_button.isEnabled()


def test_cancel_stops_the_trainer_and_records_it(qtbot, panel, files, tmp_path, project):
    marker = tmp_path / "signals.txt"
    trainer = make_fake_musubi(tmp_path / "musubi-tuner", hang={"train"}, marker=marker)
    fill(panel, files, trainer)
    panel.set_steps("train")
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        handle = panel.run()
        assert handle is not None and panel.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: "model saved." in panel.log_text(), timeout=RUN_TIMEOUT_MS)
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        assert "SIGINT" in panel.run_title.text()
    assert finished.args == ["cancelled"]
    assert handle.status == "cancelled"
    assert "SIGINT" in panel.banner.text()
    assert "SIGINT" in marker.read_text()
    assert panel.progress_bar.property("state") == "cancelled"
    step_rows = [r for r in project.catalog.list_jobs(kind="train")
                 if r.id != handle.catalog_job_id]
    assert [r.status for r in step_rows] == ["cancelled"]
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_a_failing_step_shows_the_trainers_error(qtbot, panel, files, tmp_path, project):
    trainer = make_fake_musubi(tmp_path / "musubi-tuner", exit_codes={"train": 1},
                               logs={"cache-latents": DATA / "musubi_cache_latents.log",
                                     "cache-text": DATA / "musubi_cache_text.log",
                                     "train": DATA / "musubi_train_oom.log"})
    fill(panel, files, trainer)
    panel.set_steps("train")
    assert run_to_end(qtbot, panel) == "failed"
    banner = panel.banner.text()
    assert "train exited with code 1" in banner and "torch.OutOfMemoryError" in banner
    assert "raise Blocks to swap (now 10, at most 39)" in banner  # the usual fix, in words
    assert panel.stat_labels["speed"].text() == "–"  # not the caching step's speed
    assert panel.progress_bar.property("state") == "failed"
    assert panel.run_title.text() == "Failed"
    rows = project.catalog.list_jobs(kind="train")
    assert {r.status for r in rows} == {"failed"}
    assert any(r.return_code == 1 for r in rows)


# --- checkpoint gallery ----------------------------------------------------------------------

EPOCH_COLORS = {1: (200, 40, 40), 2: (40, 200, 40), 3: (40, 40, 200), 4: (200, 200, 40)}
FRAMES = 9


def write_sample_video(path: Path, color: tuple[int, int, int], frames: int = FRAMES) -> None:
    """A tiny H.264 clip: a flat colour, brightening frame by frame (so frames differ)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(16))
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(frames):
            level = np.clip(np.array(color) * (0.5 + 0.5 * i / (frames - 1)), 0, 255)
            array = np.empty((64, 96, 3), np.uint8)
            array[:] = level.astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_samples(sample_dir: Path, epochs: list[int]) -> None:
    """musubi-tuner's names: two video prompts and one one-frame (still) prompt per epoch."""
    sample_dir.mkdir(parents=True, exist_ok=True)
    for epoch in epochs:
        stamp = f"202506011200{epoch:02d}"
        for prompt in (0, 1):
            write_sample_video(sample_dir / f"fox_e{epoch:06d}_{prompt:02d}_{stamp}_42.mp4",
                               EPOCH_COLORS[epoch])
        Image.new("RGB", (64, 96), EPOCH_COLORS[epoch]).save(
            sample_dir / f"fox_e{epoch:06d}_02_{stamp}_42_000.png")
    (sample_dir / "notes.txt").write_text("not a sample")


@pytest.fixture
def gallery(qtbot):
    widget = CheckpointGallery()
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    yield widget
    widget.shutdown()


def center_color(image) -> tuple[int, int, int]:
    pixel = image.pixelColor(image.width() // 2, image.height() // 2)
    return pixel.red(), pixel.green(), pixel.blue()


def test_gallery_groups_prompts_across_checkpoints_plays_in_sync_and_picks_a_lora(
        qtbot, gallery, tmp_path):
    out = tmp_path / "runs" / "fox"
    write_samples(out / "sample", [1, 2, 3])
    for name in ("fox-000001.safetensors", "fox-000002.safetensors", "fox.safetensors"):
        (out / name).write_bytes(b"")
    assert run_folder(out / "sample") == out and run_folder(out) == out

    gallery.open_folder(out / "sample")  # a finished run, opened by hand
    g = gallery.gallery
    assert gallery.output_dir == out and gallery.output_name == "fox"
    assert g.prompts == [0, 1, 2]
    assert g.checkpoints == [Checkpoint("epoch", n) for n in (1, 2, 3)]
    assert all(s is not None and s.checkpoint.number == n
               for n, s in zip((1, 2, 3), g.row(1)))
    assert [s.is_video for s in g.column(Checkpoint("epoch", 2))] == [True, True, False]
    qtbot.waitUntil(lambda: not gallery.is_loading() and len(gallery.grid.images) == 9,
                    timeout=15_000)
    grid = gallery.grid
    # Each cell shows its own checkpoint: the first frame (videos) or the image (stills).
    for (prompt, checkpoint), sample in g.cells.items():
        image = grid.images[grid.keys[sample.path]]
        expected = np.array(EPOCH_COLORS[checkpoint.number]) * (0.5 if sample.is_video else 1)
        assert np.abs(np.array(center_color(image)) - expected).max() < 16, (prompt, checkpoint)
    assert grid.row_heights()[2] > grid.row_heights()[0]  # the portrait still's row is taller

    # Play: every video's frames decoded once, all cells on the same frame index.
    gallery.set_playing(True)
    qtbot.waitUntil(lambda: len(grid.frames) == 6 and not gallery.is_loading(), timeout=15_000)
    assert {frames.shape[0] for frames in grid.frames.values()} == {FRAMES}
    first = g.cells[(0, Checkpoint("epoch", 1))]
    other = g.cells[(1, Checkpoint("epoch", 3))]
    qtbot.waitUntil(lambda: grid.tick % FRAMES >= 4, timeout=5000)
    gallery.set_playing(False)
    tick = grid.tick
    grid.playing = True  # look at the frame that was on screen
    a, b = center_color(grid.cell_image(first)), center_color(grid.cell_image(other))
    grid.playing = False
    level = 0.5 + 0.5 * (tick % FRAMES) / (FRAMES - 1)
    assert abs(a[0] - EPOCH_COLORS[1][0] * level) < 16
    assert abs(b[2] - EPOCH_COLORS[3][2] * level) < 16
    assert not gallery._play_timer.isActive()

    # Clicking a column header picks that checkpoint's LoRA.
    chosen = []
    gallery.checkpoint_chosen.connect(lambda c, p: chosen.append((c, p)))
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton,
                     pos=QPoint(grid.column_x(1) + 20, grid.PAD + 10))
    assert chosen == [(Checkpoint("epoch", 2), out / "fox-000002.safetensors")]
    assert str(out / "fox-000002.safetensors") in gallery.chosen_label.text()
    assert gallery.copy_button.isEnabled()
    # The last epoch's LoRA is the final file of a finished run.
    gallery.choose_column(2)
    assert gallery.chosen_lora == out / "fox.safetensors"
    assert not grid.grab().isNull()


def test_gallery_follows_a_live_run(qtbot, gallery, tmp_path):
    out = tmp_path / "runs" / "live"
    out.mkdir(parents=True)
    gallery.set_run(out, output_name="fox", prompt_texts=["a fox", "a hill", "a still"],
                    live=True)
    assert len(gallery.gallery) == 0 and gallery.empty_label.isVisibleTo(gallery)
    write_samples(out / "sample", [1])
    qtbot.waitUntil(lambda: len(gallery.gallery.checkpoints) == 1, timeout=10_000)
    write_samples(out / "sample", [2])
    qtbot.waitUntil(lambda: len(gallery.gallery.checkpoints) == 2, timeout=10_000)
    assert gallery.gallery.prompt_texts[0] == "a fox"
    assert gallery.scroll.isVisibleTo(gallery) and "live" in gallery.folder_label.text()
    qtbot.waitUntil(lambda: not gallery.is_loading() and len(gallery.grid.images) == 6,
                    timeout=15_000)
    # While live the newest epoch maps to its own file, not yet the final one.
    (out / "fox.safetensors").write_bytes(b"")
    gallery.choose_column(1)
    assert gallery.chosen_lora is None and "expected fox-000002.safetensors" in \
        gallery.chosen_label.text()


def test_gallery_helpers():
    assert playback_stride([100, 100], budget=1000) == 1
    assert playback_stride([800, 800], budget=1000) == 2
    assert common_output_name([]) is None


def test_train_panel_opens_a_finished_run_folder(qtbot, panel, tmp_path):
    out = tmp_path / "old-run"
    write_samples(out / "sample", [1, 2])
    panel.open_run_folder(out)
    assert panel.tabs.currentWidget() is panel.gallery
    assert panel.gallery.output_dir == out and len(panel.gallery.gallery) == 6
    panel.replan()  # editing settings does not replace a folder opened by hand
    assert panel.gallery.output_dir == out
    qtbot.waitUntil(lambda: not panel.gallery.is_loading(), timeout=15_000)


def test_run_refuses_while_problems_remain(qtbot, panel):
    assert panel.run() is None
    assert panel.tabs.currentIndex() == 0 and not panel.running
