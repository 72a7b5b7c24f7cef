"""The Train tab's checks for a window user: real model files, the Python asked off thread."""

from __future__ import annotations

import stat
import sys

from curator.gui.tabs.train import TrainPanel
from curator.gui.workers import JobRunner
from tests.gui.test_train_panel import fill
from tests.training_fixtures import make_dataset, make_fake_musubi, make_models


def test_train_tab_flags_an_empty_vae_and_a_python_without_torch(qtbot, project, tmp_path):
    files = {**make_models(tmp_path / "models"), "dataset": make_dataset(tmp_path / "export"),
             "out": tmp_path / "runs"}
    files["vae"].write_bytes(b"")  # a download that never finished
    bare = tmp_path / "python-bare"
    bare.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S -I "$@"\n')
    bare.chmod(bare.stat().st_mode | stat.S_IXUSR)
    runner = JobRunner(project.catalog)
    panel = TrainPanel(project=project, catalog=project.catalog, job_runner=runner)
    qtbot.addWidget(panel)
    try:
        fill(panel, files, make_fake_musubi(tmp_path / "musubi-tuner"), python=str(bare))
        vae = panel.editors["vae"].message.text()
        assert "0 bytes" in vae and "--vae" not in vae
        assert "Ready" not in panel.summary_label.text()
        # The interpreter is started once, off the GUI thread; the form is checked again then.
        qtbot.waitUntil(lambda: "cannot import torch" in panel.editors["python"].message.text(),
                        timeout=30_000)
        assert "--python" not in panel.editors["python"].message.text()
    finally:
        panel.shutdown()
        assert runner.shutdown(10_000)
