"""Small things a person reads: a re-ingest names the files it found unchanged, and the New
project folder picker starts in the home folder, not the program's own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from curator.gui.dialogs.project_dialog import choose_project_folder


def test_ingesting_again_says_how_many_files_were_unchanged(qtbot, make_window, project,
                                                            synthetic_films):
    window = make_window(project)
    paths = [path for path, _ in synthetic_films.values()][:2]
    with qtbot.waitSignal(window.jobs.job_finished, timeout=60_000):
        window.ingest(paths, analyse=False)
    assert "new clips from 2 videos" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.jobs.job_finished, timeout=60_000):
        window.ingest(paths, analyse=False)
    assert window.statusBar().currentMessage() == (
        "Ingest done: 0 new clips from 0 videos; 2 files unchanged")


def test_the_new_project_picker_opens_in_the_home_folder(qtbot, monkeypatch, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    seen: list[str] = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(50, look)
            return
        seen.append(dialog.directory().absolutePath())
        dialog.reject()

    QTimer.singleShot(50, look)
    assert choose_project_folder(None, create=True) is None
    assert [Path(p).resolve() for p in seen] == [home.resolve()]
