"""Ingest from the window: a folder, a scene mode, analysis on or off; clips show per source."""

from __future__ import annotations

import shutil
from fractions import Fraction

from PySide6.QtCore import Qt

from tests.media_factory import Segment, make_video


def test_ingest_dialog_takes_a_folder_and_a_scene_mode_and_shows_clips_per_source(
        qtbot, make_window, project, synthetic_films, tmp_path):
    folder = tmp_path / "films"
    folder.mkdir()
    for path, _cuts in synthetic_films.values():
        shutil.copy(path, folder / path.name)
    # Last in name order and long enough to report its frames while it is read: the clips of
    # the files before it must be in the browser by then.
    make_video(folder / "zz_long.mp4", [Segment("texture", 3000, seed=11)], fps=Fraction(24),
               size=(64, 36), gop=48)
    window = make_window(project)
    dialog = window.clip_actions.ingest_dialog()
    assert not dialog.ok_button.isEnabled()  # nothing chosen yet
    dialog.add_paths([folder])
    dialog.scenes.setCurrentIndex(dialog.scenes.findData("never"))
    dialog.analyse.setChecked(False)
    rows_while_running: list[int] = []
    window.model.modelReset.connect(  # each reload the window makes during the ingest
        lambda: any(h.running for h in window.jobs.jobs)
        and rows_while_running.append(window.model.rowCount()))
    with qtbot.waitSignal(window.jobs.job_finished, timeout=60_000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    clips = project.catalog.list_clips()
    assert len(clips) == 4  # "never": one clip per file
    assert all(c.analysis is None for c in clips)  # analysis switched off
    assert any(0 < n < 4 for n in rows_while_running)  # clips showed before the ingest ended
    qtbot.waitUntil(lambda: window.model.rowCount() == 4, timeout=5000)
    job = project.catalog.list_jobs(kind="ingest")[0]
    assert job.params["scenes"] == "never"


def test_ingest_auto_splits_at_cuts_and_analyses(qtbot, make_window, project, synthetic_films):
    window = make_window(project)
    path, cuts = synthetic_films["harbour.mkv"]
    with qtbot.waitSignal(window.jobs.job_finished, timeout=60_000):
        window.ingest([path], scenes="auto", analyse=True)
    clips = project.catalog.list_clips()
    assert [c.start_frame for c in clips] == [0, *cuts]
    assert all(c.analysis is not None for c in clips)
