"""The dataset at a glance at scale: `curator stats --json` at 1M clips, the Stats view at 30k.

Reuses bench/gui.py's generated catalogs (same generator and rows over ../shared/media), kept
in their own cache folder (/tmp/curator-bench-stats), then adds what a real analysed and
captioned project has and the generator leaves out: a 95th-percentile motion for every
analysed clip, and a trigger phrase that 97 % of the captions begin with (the rest must be
found by the trigger rule).

Measured, each in a fresh process, next to an anchor from the same run (machines here are
shared and noisy: the ratio is the steadier figure):

- `curator stats --json` at 1M clips, wall time from process start to exit (median of 3),
  against `curator settings --json` on the same project (start-up, imports, catalog open);
- the Stats view at 30k clips: from building it to every histogram drawn (median of 3), in
  a running Curator (one warm-up view on the small project first).

Run: `python bench/stats.py` (`--sizes 30000` for one size, `--screenshot out.png` to render
the window's Stats tab at 1920×1080; `CURATOR_BENCH_STATS_CACHE=DIR` for other catalogs).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gui as gui_bench  # noqa: E402 - bench/gui.py: the generator of the big catalogs

# Another folder for a branch whose catalog revision is newer: opening a shared catalog
# migrates it, and older code then cannot open it.
CACHE = Path(os.environ.get("CURATOR_BENCH_STATS_CACHE", "/tmp/curator-bench-stats"))
TRIGGER = "Studio Ghibli style."
CLI_TARGET_S = 2.0
VIEW_TARGET_MS = 1000.0


def prepare(size: int) -> Path:
    """bench/gui.py's catalog of `size` clips, plus p95 motion and trigger-led captions."""
    project = CACHE / f"clips-{size}"
    gui_bench.build_catalog(project, size)
    from curator.core.catalog import Catalog

    Catalog(f"sqlite:///{project / 'curator.db'}").close()  # migrated to the newest revision
    marker = project / "stats-prepared"
    if marker.exists():
        _add_text_share(project)
        return project
    started = time.perf_counter()
    con = sqlite3.connect(project / "curator.db")
    with con:
        con.execute("UPDATE clips SET motion_p95 = round(motion * 1.4 + (id % 5), 2) "
                    "WHERE motion IS NOT NULL")
        con.execute("UPDATE clips SET caption = ? || ' ' || caption "
                    "WHERE caption IS NOT NULL AND id % 33 != 0", (TRIGGER,))
    con.close()
    catalog = Catalog(f"sqlite:///{project / 'curator.db'}")
    catalog.update_settings(trigger=TRIGGER)
    catalog.close()
    marker.write_text("p95 motion, trigger-led captions\n")
    _add_text_share(project)
    print(f"  prepared {size:,} clips in {time.perf_counter() - started:.1f} s", flush=True)
    return project


def _add_text_share(project: Path) -> None:
    """A text share for every analysed clip (catalog revision 0004): most none, 1 in 10 some."""
    marker = project / "stats-text-share"
    if marker.exists():
        return
    con = sqlite3.connect(project / "curator.db")
    with con:
        con.execute("UPDATE clips SET text_share = CASE WHEN id % 10 = 0 THEN (id % 17) / 16.0 "
                    "ELSE 0.0 END WHERE motion IS NOT NULL")
    con.close()
    marker.write_text("text share\n")


def _run_cli(project: Path, *args: str) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout) of one `curator` process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "curator.cli", "--project", str(project),
                          *args], capture_output=True, text=True, check=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def measure_cli(project: Path, runs: int = 3) -> dict:
    _run_cli(project, "settings", "--json")  # the page cache warm, as for a project in use
    anchor = [_run_cli(project, "settings", "--json")[:2] for _ in range(runs)]
    stats = []
    for _ in range(runs):
        wall, cpu, out = _run_cli(project, "stats", "--json")
        stats.append((wall, cpu))
    figures = json.loads(out)
    return {"stats_wall": statistics.median(w for w, _ in stats),
            "stats_cpu": statistics.median(c for _, c in stats),
            "anchor_wall": statistics.median(w for w, _ in anchor),
            "anchor_cpu": statistics.median(c for _, c in anchor),
            "clips": figures["clips"], "captioned": figures["captions"]["captioned"],
            "missing_trigger": figures["captions"]["missing_trigger"]}


def measure_view(project: Path, runs: int = 3) -> dict:
    """Child process: build the Stats view on `project` and time it until everything is drawn."""
    from curator.core.project import Project
    from curator.gui.app import make_app
    from curator.gui.stats import StatsView

    app = make_app()

    def open_view(root: Path) -> tuple[float, float]:
        proj = Project(root)
        shown: list[object] = []
        started, cpu = time.perf_counter(), time.process_time()
        view = StatsView(proj.catalog, proj.root)
        view.stats_shown.connect(shown.append)
        view.resize(1900, 1000)
        view.show()
        while not shown and time.perf_counter() - started < 30:
            app.processEvents()
            time.sleep(0.001)
        app.processEvents()  # the repaint of the drawn histograms
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000  # the GUI thread and the worker together
        view.shutdown()
        view.close()
        view.deleteLater()
        proj.close()
        return ms, cpu_ms

    first = open_view(prepare_small())[0]
    small = [open_view(prepare_small()) for _ in range(runs)]
    big = [open_view(project) for _ in range(runs)]
    return {"first_ms": first, "open_ms": statistics.median(t for t, _ in big),
            "all_ms": [t for t, _ in big], "cpu_ms": statistics.median(c for _, c in big),
            "small_ms": statistics.median(t for t, _ in small),
            "small_cpu_ms": statistics.median(c for _, c in small)}


def prepare_small() -> Path:
    """A 10-clip project for the warm-up view (imports and Qt's first widgets)."""
    root = CACHE / "small-project"
    if not (root / "curator.db").exists():
        from curator.core.catalog import Catalog
        from tests.stats_fixtures import build_known

        root.mkdir(parents=True, exist_ok=True)
        catalog = Catalog.for_project(root)
        build_known(catalog)
        catalog.close()
    return root


def screenshot(out: Path, project: Path) -> None:
    """The main window on `project` with the Stats tab shown and a threshold dragged."""
    from PySide6.QtCore import QSettings

    from curator.core.project import Project
    from curator.gui.app import make_app
    from curator.gui.main_window import MainWindow

    app = make_app()
    settings = QSettings(str(CACHE / f"shot-{os.getpid()}.ini"), QSettings.Format.IniFormat)
    proj = Project(project)
    window = MainWindow(proj, settings)
    window.showMaximized()
    window.resize(1920, 1080)
    view = window.stats_view
    shown: list[object] = []
    view.stats_shown.connect(shown.append)
    window.show_workspace("stats")
    gui_bench._wait(app, 30, until=lambda: bool(shown))
    view.plots["motion"].move_rule(2.0)
    gui_bench._wait(app, 10, until=lambda: view.clip_model.rowCount() > 0)
    gui_bench._wait(app, 0.5)
    out.parent.mkdir(parents=True, exist_ok=True)
    if os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") == "xcb":
        # The X server's own picture (Xvfb at 1920×1080), as a person would see it.
        subprocess.run(["import", "-window", "root", str(out)], check=True)
    else:
        window.grab().save(str(out))
    print(f"saved {out}")
    view.shutdown()
    window.close()
    proj.close()
    Path(settings.fileName()).unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[30_000, 1_000_000])
    parser.add_argument("--view", help=argparse.SUPPRESS)  # child process: one project
    parser.add_argument("--screenshot", type=Path, help="render the Stats tab to this PNG")
    args = parser.parse_args()
    if args.view:
        print(json.dumps(measure_view(Path(args.view))))
        return 0
    if args.screenshot:
        screenshot(args.screenshot, prepare(30_000))
        return 0
    ok = True
    print(f"load average before measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for size in args.sizes:
        project = prepare(size)
        if size >= 1_000_000 or len(args.sizes) == 1:
            r = measure_cli(project)
            good = r["stats_wall"] < CLI_TARGET_S
            ok &= good
            print(f"\n{r['clips']:,} clips ({r['captioned']:,} captioned, "
                  f"{r['missing_trigger']:,} without the trigger)")
            print(f"  curator stats --json:    {r['stats_wall']:.2f} s wall, {r['stats_cpu']:.2f} s"
                  f" CPU   (target < {CLI_TARGET_S:.0f} s)  {'OK' if good else 'MISSED'}")
            print(f"  curator settings --json: {r['anchor_wall']:.2f} s wall, "
                  f"{r['anchor_cpu']:.2f} s CPU   (anchor: start-up and catalog open)")
            print(f"  stats / anchor: {r['stats_wall'] / r['anchor_wall']:.2f}× wall, "
                  f"{r['stats_cpu'] / r['anchor_cpu']:.2f}× CPU")
        if size <= 100_000:
            out = subprocess.run([sys.executable, __file__, "--view", str(project)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            good = r["open_ms"] < VIEW_TARGET_MS
            ok &= good
            print(f"\n{size:,} clips: Stats view built, counted and drawn: median "
                  f"{r['open_ms']:.0f} ms of {', '.join(f'{t:.0f}' for t in r['all_ms'])}, "
                  f"CPU {r['cpu_ms']:.0f} ms (target < {VIEW_TARGET_MS:.0f} ms)  "
                  f"{'OK' if good else 'MISSED'}")
            print(f"  anchor: the same view on a 10-clip project {r['small_ms']:.0f} ms, CPU "
                  f"{r['small_cpu_ms']:.0f} ms (the first one in the process, imports "
                  f"included: {r['first_ms']:.0f} ms); 30k / 10-clip: "
                  f"{r['open_ms'] / r['small_ms']:.2f}× wall, "
                  f"{r['cpu_ms'] / r['small_cpu_ms']:.2f}× CPU")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
