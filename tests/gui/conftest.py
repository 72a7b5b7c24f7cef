"""Fixtures for the window tests: a real catalog of generated clips, a window, no stray threads.

Every test under tests/gui gets them by name; `TRIGGER` is imported where a test needs it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThread
from PySide6.QtWidgets import QApplication
from shiboken6 import isValid

from curator.core.catalog import Catalog
from curator.core.media import content_hash, probe
from curator.core.project import Project
from curator.gui.collector import MainThreadCollector, collect_on_gui_thread
from tests.media_factory import Segment, make_video

TRIGGER = "Ghibli style."


def select_clip(window, row: int):
    """Select the browser's `row` and return that clip's catalog row (as the window sees it)."""
    window.browser.select_row(row)
    return window.catalog.get_clip(window.browser.current_clip_id())

# Three small films with known cuts: each shot becomes a clip.
FILMS = {
    "rain.mp4": [Segment("texture", 30, seed=1), Segment("bars", 24, seed=2),
                 Segment("color", 18, seed=3)],
    "harbour.mkv": [Segment("fast", 36, seed=4), Segment("texture", 30, seed=5)],
    "night.mp4": [Segment("noise", 20, seed=6), Segment("texture", 40, seed=7),
                  Segment("bars", 26, seed=8), Segment("color", 22, seed=9)],
}


@pytest.fixture(scope="session")
def synthetic_films(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[int]]]:
    """name -> (file, cut frames), written once per test session (160×90, 24 fps)."""
    folder = tmp_path_factory.mktemp("films")
    out = {}
    for name, segments in FILMS.items():
        video = make_video(folder / name, segments, fps=Fraction(24), size=(160, 90), gop=12)
        out[name] = (video.path, list(video.cuts))
    return out


def add_films(catalog: Catalog, films: dict[str, tuple[Path, list[int]]]) -> None:
    """Catalogue each film with one clip per shot, as ingest does (exact decoded counts)."""
    for path, cuts in films.values():
        info = probe(path)
        bounds = [0, *cuts, info.frame_count]
        stat = path.stat()
        catalog.upsert_source(
            path=path, size=stat.st_size, mtime=stat.st_mtime, content_hash=content_hash(path),
            container=info.container, codec=info.codec, fps=info.fps,
            frame_count=info.frame_count, header_frame_count=info.header_frame_count,
            width=info.width, height=info.height, duration=info.duration,
            clip_ranges=list(zip(bounds, bounds[1:])))


@pytest.fixture(scope="session")
def filled_catalog_file(tmp_path_factory: pytest.TempPathFactory,
                        synthetic_films: dict[str, tuple[Path, list[int]]]) -> Path:
    """A catalog made once per session; each test copies it (ingest is the media tests' job)."""
    root = tmp_path_factory.mktemp("template-project")
    catalog = Catalog.for_project(root)
    add_films(catalog, synthetic_films)
    catalog.update_settings(trigger=TRIGGER)
    clips = catalog.list_clips()
    catalog.save_caption(f"{TRIGGER} Rain falls on a quiet street.", clip_id=clips[0].id)
    catalog.save_caption(f"{TRIGGER} A harbour at dusk, boats rocking.", clip_id=clips[3].id)
    catalog.save_analysis(clips[1].id, {}, motion=3.5, cuts=0)
    catalog.save_analysis(clips[4].id, {}, motion=21.0, cuts=0)
    with catalog.engine.connect() as connection:  # fold the WAL into the file before copying
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    catalog.close()
    return root / "curator.db"


@pytest.fixture
def filled_project(project: Project, filled_catalog_file: Path) -> Project:
    """The `project` fixture holding 9 clips of 3 generated films, 2 captioned, 2 analysed."""
    shutil.copy(filled_catalog_file, project.root / "curator.db")
    return project


@pytest.fixture(scope="session", autouse=True)
def no_user_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Any `QSettings()` a test reaches writes under a temporary folder, never a person's."""
    folder = tmp_path_factory.mktemp("qsettings")
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.NativeFormat, scope, str(folder))
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))


@pytest.fixture
def ui_settings(tmp_path: Path) -> QSettings:
    """Per-test window settings in an INI file: tests never touch a person's own settings."""
    return QSettings(str(tmp_path / "curator-ui.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, ui_settings: QSettings):
    """Open a MainWindow on a project (shown, exposed); closed by qtbot at the end."""
    from curator.gui.main_window import MainWindow

    def make(project: Project, settings: QSettings | None = None) -> MainWindow:
        window = MainWindow(project, settings if settings is not None else ui_settings)
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()  # window shortcuts (A, R, J…) need the active window
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        return window

    return make


@pytest.fixture(scope="session", autouse=True)
def gui_thread_collector(qapp: QApplication) -> MainThreadCollector:
    """As in the app: cycles are collected on the GUI thread, never in a job's QThread."""
    return collect_on_gui_thread(qapp)


@pytest.fixture(autouse=True)
def collect_after_each_test(gui_thread_collector: MainThreadCollector) -> Iterator[None]:
    """A test that never spins the event loop still gets its due collection."""
    yield
    gui_thread_collector.collect_due()


@pytest.fixture(autouse=True)
def no_dangling_qthreads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QThread running (napari's `_dangling_qthreads`)."""
    started: list[QThread] = []
    original = QThread.start

    def start(self: QThread, *args: object) -> None:
        started.append(self)
        original(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield
    alive = []
    for thread in started:
        if isValid(thread) and thread.isRunning() and not thread.wait(2000):
            alive.append(thread.objectName() or repr(thread))
    assert not alive, f"QThreads still running after the test: {alive}"
