"""`analyze_clips`: analyse every clip of the catalog that lacks a current analysis.

Clips are grouped by source into runs of neighbouring ranges, so a film cut into a thousand
scenes is decoded once from end to end (not once per scene, which for an AVI, where no seek
can be trusted, would mean decoding from the start every time). Runs go to worker threads:
FFmpeg, libswscale, OpenCV and numpy's larger operations release the GIL, so two threads use
both cores, and a GUI thread stays responsive. Results come back to the calling thread, which
alone writes to the catalog; each clip is saved as soon as its last frame is analysed, so an
interrupted run loses at most the clips in flight and the next run picks up the rest.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from av.video.reformatter import VideoReformatter

from curator.core import jobs
from curator.core.analysis.frame_analyzer import (
    ANALYSIS_VERSION,
    ANALYSIS_WIDTH,
    FrameAnalyzer,
)
from curator.core.analysis.text import TEXT_WIDTH
from curator.core.catalog import Catalog, CatalogError, ClipRow
from curator.core.media import MediaError
from curator.core.media.frames import fit_size, frame_to_array, iter_raw_frames
from curator.core.pool import default_workers

# Containers whose seeks `iter_frames` can trust (it checks timestamps): only there is it worth
# splitting a source into several runs. Elsewhere (AVI...) every run decodes from frame 0.
SEEKABLE_CONTAINERS = frozenset({"mov", "mp4", "m4a", "m4v", "3gp", "3g2", "mj2", "matroska",
                                 "webm", "mkv"})
# Between two clips of a seekable source, frames in a gap shorter than this are decoded (and
# not analysed) rather than sought past: a seek decodes from the keyframe before anyway.
MERGE_GAP = 250
# A run is split for a second worker only when each half is this long: the second half's seek
# decodes from the keyframe before it (up to a GOP, often 2-10 s), wasted work on short runs.
MIN_SPLIT_FRAMES = 600


@dataclass
class AnalysisReport(jobs.Report):
    """What `analyze_clips` did: clips analysed, left as they were, failed."""

    analyzed: list[int] = field(default_factory=list)
    up_to_date: int = 0
    frames: int = 0
    seconds: float = 0.0

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "analyzed": len(self.analyzed),
            "analyzed_ids": self.analyzed,
            "up_to_date": self.up_to_date,
            **self.failures_json(),
            "cancelled": self.cancelled,
            "frames": self.frames,
            "seconds": round(self.seconds, 2),
            "frames_per_second": round(self.frames_per_second, 1),
        }


class _LinkedToken(jobs.CancelToken):
    """Cancelled when the caller's token is, or when `analyze_clips` itself must stop."""

    def __init__(self, outer: jobs.CancelToken) -> None:
        super().__init__()
        self._outer = outer

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or self._outer.cancelled

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise jobs.Cancelled()


@dataclass(frozen=True)
class _Run:
    """Neighbouring clips of one source, decoded in one pass."""

    path: Path
    fps: Any
    width: int
    height: int
    clips: tuple[ClipRow, ...]

    @property
    def start(self) -> int:
        return self.clips[0].start_frame

    @property
    def end(self) -> int:
        return max(c.end_frame for c in self.clips)

    @property
    def frames(self) -> int:
        """Frames analysed: the union of the clips' ranges (overlaps are analysed once)."""
        total, reach = 0, None
        for clip in sorted(self.clips, key=lambda c: c.start_frame):
            lo = clip.start_frame if reach is None else max(clip.start_frame, reach)
            if clip.end_frame > lo:
                total += clip.end_frame - lo
            reach = clip.end_frame if reach is None else max(reach, clip.end_frame)
        return total


def is_current(clip: ClipRow) -> bool:
    """Whether a clip's stored analysis is of this version, its range and its source file."""
    a = clip.analysis
    return bool(a) and a.get("version") == ANALYSIS_VERSION \
        and list(a.get("range") or ()) == [clip.start_frame, clip.end_frame] \
        and a.get("source_hash") in (None, clip.source_hash) \
        and "text" in a  # analysed before the text check: look for text now


def analyze_clips(catalog: Catalog, clip_ids: Sequence[int] | None = None, *,
                  force: bool = False, progress: jobs.ProgressFn = jobs.ignore_progress,
                  cancel: jobs.CancelToken = jobs.NEVER_CANCELLED,
                  workers: int | None = None) -> AnalysisReport:
    """Analyse clips (motion, cuts, transitions, hashes, borders, exposure) and save each.

    Args:
        catalog: the project's catalog.
        clip_ids: the clips to look at; None for every clip.
        force: analyse again even clips whose analysis is current.
        progress: gets frames done / frames to do, the file, and clips done in `message`.
        cancel: checked between frames; what is saved stays saved.
        workers: decode-and-analyse threads. Each decodes its own run of clips (a file, or a
            long stretch of one) with FFmpeg's frame threads, so one worker already keeps two
            cores fairly busy on one file; a second one fills the gaps (the analysis, the
            conversions) when there are several files or a long seekable one. None: one
            per core (`curator.core.pool.default_workers`, as ingest's worker processes).

    Returns:
        An `AnalysisReport`; a file that cannot be read is an `ItemFailure` per clip of it,
        and the other clips go on.
    """
    started = time.monotonic()
    report = AnalysisReport()
    clips = catalog.list_clips(ids=clip_ids) if clip_ids is not None else catalog.list_clips()
    todo = [c for c in clips if force or not is_current(c)]
    report.up_to_date = len(clips) - len(todo)
    if not todo:
        report.seconds = time.monotonic() - started
        return report
    containers = {s.id: s.container for s in catalog.list_sources()}
    workers = max(1, workers or default_workers())
    runs = _plan_runs(todo, containers, workers)
    total_frames = sum(r.frames for r in runs)
    job_id = catalog.start_job("analyze", {"clips": len(todo), "force": force}, total=len(todo))
    results: queue.Queue[tuple[str, Any]] = queue.Queue()
    pending_runs: queue.Queue[_Run] = queue.Queue()
    for run in sorted(runs, key=lambda r: -r.frames):  # longest first: the pool ends together
        pending_runs.put(run)
    stop = _LinkedToken(cancel)
    threads = [threading.Thread(target=_worker, args=(pending_runs, results, stop),
                                name=f"analyze-{i}", daemon=True)
               for i in range(min(workers, len(runs)))]
    for t in threads:
        t.start()
    frames_done = 0
    status = "failed"
    try:
        frames_done = _collect(catalog, threads, results, report, job_id, len(todo),
                               total_frames, progress)
        report.cancelled = cancel.cancelled
        status = "cancelled" if report.cancelled else "done"
        if not report.cancelled:
            progress(jobs.Progress(done=total_frames, total=total_frames,
                                   message=f"{len(report.analyzed) + len(report.failed)}/"
                                      f"{len(todo)} clips"))
    finally:
        if status == "failed":
            stop.cancel()  # an error here (a failing progress callback...): stop the workers
        for t in threads:
            t.join()
        report.frames = frames_done
        report.seconds = time.monotonic() - started
        catalog.finish_job(job_id, status, result=report.to_json())
    return report


def _collect(catalog: Catalog, threads: list[threading.Thread], results: queue.Queue,
             report: AnalysisReport, job_id: int, clips: int, total_frames: int,
             progress: jobs.ProgressFn) -> int:
    """Save what the workers measured as it comes; returns the frames decoded."""
    frames_done = 0
    while any(t.is_alive() for t in threads) or not results.empty():
        try:
            kind, payload = results.get(timeout=0.1)
        except queue.Empty:
            continue
        if kind == "frames":
            frames_done += payload
            progress(jobs.Progress(done=frames_done, total=total_frames,
                                   message=f"{len(report.analyzed) + len(report.failed)}/"
                                      f"{clips} clips"))
            continue
        if kind == "clip":
            clip, analysis = payload
            _save(catalog, clip, analysis, report)
        elif kind == "failed":
            clip, reason = payload
            report.failed.append(jobs.ItemFailure(str(clip.source_path),
                                                  f"clip {clip.id}: {reason}"))
        finished = len(report.analyzed) + len(report.failed)
        catalog.update_job(job_id, done=finished)
        progress(jobs.Progress(done=frames_done, total=total_frames,
                               item=payload[0].source_path.name,
                               message=f"{finished}/{clips} clips"))
    return frames_done


def save_clip_analysis(catalog: Catalog, clip_id: int, analysis: dict[str, Any],
                       source_hash: str | None = None) -> None:
    """Store a `FrameAnalyzer.finish_clip` result, filling the clip's motion and cuts columns.

    Ingest calls this for the clips it analysed during its own decode.

    Args:
        catalog: the project's catalog.
        clip_id: the clip the analysis is of.
        analysis: the dict from `finish_clip`.
        source_hash: the source file's content hash, so a replaced file makes it stale.

    Raises:
        CatalogError: when there is no such clip.
    """
    if source_hash is not None:
        analysis["source_hash"] = source_hash
    catalog.save_analysis(clip_id, analysis, motion=analysis.get("motion"),
                          cuts=analysis.get("cuts"), motion_p95=analysis.get("motion_p95"),
                          text_share=analysis.get("text_share"))


def _save(catalog: Catalog, clip: ClipRow, analysis: dict[str, Any],
          report: AnalysisReport) -> None:
    try:
        save_clip_analysis(catalog, clip.id, analysis, clip.source_hash)
    except CatalogError as exc:  # the clip went away meanwhile (re-ingest, split)
        report.warnings.append(jobs.ItemFailure(str(clip.source_path), str(exc)))
        return
    report.analyzed.append(clip.id)
    report.done += 1
    if analysis["frames_seen"] < clip.frames:
        report.warnings.append(jobs.ItemFailure(
            str(clip.source_path),
            f"clip {clip.id}: only {analysis['frames_seen']} of its {clip.frames} frames "
            f"could be decoded; the analysis covers those"))


def _plan_runs(clips: Iterable[ClipRow], containers: dict[int, str], workers: int) -> list[_Run]:
    """Group clips by source into runs decoded in one pass; split runs to keep workers busy."""
    by_source: dict[int, list[ClipRow]] = defaultdict(list)
    for clip in clips:
        by_source[clip.source_id].append(clip)
    runs: list[_Run] = []
    seekable = {sid: containers.get(sid, "") in SEEKABLE_CONTAINERS for sid in by_source}
    for sid, group in by_source.items():
        group.sort(key=lambda c: (c.start_frame, c.end_frame))
        current: list[ClipRow] = []
        for clip in group:
            gap = clip.start_frame - max((c.end_frame for c in current), default=clip.start_frame)
            if current and seekable[sid] and gap > MERGE_GAP:
                runs.append(_make_run(current))
                current = []
            current.append(clip)
        runs.append(_make_run(current))
    # Fewer runs than workers: cut the longest seekable runs where no clip spans the cut.
    while len(runs) < workers:
        splittable = [(r, _split_points(r)) for r in runs
                      if seekable[r.clips[0].source_id] and r.frames >= 2 * MIN_SPLIT_FRAMES]
        splittable = [(r, points) for r, points in splittable if points]
        if not splittable:
            break
        longest, points = max(splittable, key=lambda rp: rp[0].frames)
        middle = (longest.start + longest.end) / 2
        cut = min(points, key=lambda i: abs(longest.clips[i].start_frame - middle))
        runs.remove(longest)
        runs += [_make_run(list(longest.clips[:cut])), _make_run(list(longest.clips[cut:]))]
    return runs


def _split_points(run: _Run) -> list[int]:
    """Positions i where the run can be cut in two: no clip before i reaches past clip i's start."""
    points, reach = [], run.clips[0].end_frame
    for i, clip in enumerate(run.clips[1:], start=1):
        if clip.start_frame >= reach:
            points.append(i)
        reach = max(reach, clip.end_frame)
    return points


def _make_run(clips: list[ClipRow]) -> _Run:
    first = clips[0]
    return _Run(first.source_path, first.fps, first.width, first.height, tuple(clips))


def _worker(runs: queue.Queue[_Run], results: queue.Queue[tuple[str, Any]],
            cancel: jobs.CancelToken) -> None:
    while not cancel.cancelled:
        try:
            run = runs.get_nowait()
        except queue.Empty:
            return
        _analyze_run(run, results, cancel)


def _analyze_run(run: _Run, results: queue.Queue[tuple[str, Any]],
                 cancel: jobs.CancelToken) -> None:
    """Decode one run and send each clip's analysis (or its failure) as soon as it is known."""
    analyzer = FrameAnalyzer(run.fps, run.width, run.height)
    open_clips = sorted(run.clips, key=lambda c: c.end_frame)
    wanted = [(c.start_frame, c.end_frame) for c in run.clips]
    counted = 0
    try:
        to_gray = VideoReformatter()  # keeps its scaler from frame to frame
        # as wide as ingest's pass with analysis reads them: both keep the loop filter alike
        # (damage in a small video may still be concealed otherwise: that pass decodes it on
        # one thread, this read with FFmpeg's frame threads)
        for index, frame in iter_raw_frames(run.path, run.start, run.end, cancel,
                                            max_width=max(ANALYSIS_WIDTH, TEXT_WIDTH)):
            if any(a <= index < b for a, b in wanted):
                w, h = fit_size(frame.width, frame.height, ANALYSIS_WIDTH, None)
                gray = to_gray.reformat(frame, width=w, height=h, format="gray",
                                        interpolation="AREA").to_ndarray()
                analyzer.feed(index, gray, frame=frame)  # the frame: for the shot engine
                if analyzer.wants_text(index, wanted):
                    analyzer.feed_text(index, frame_to_array(
                        frame, min(TEXT_WIDTH, frame.width), None, "gray"))
                counted += 1
                if counted % 32 == 0:
                    results.put(("frames", 32))
            while open_clips and open_clips[0].end_frame <= index + 1:
                clip = open_clips.pop(0)
                analysis = analyzer.finish_clip(clip.start_frame, clip.end_frame)
                results.put(("clip", (clip, analysis)))
                if analyzer.text is not None and open_clips:  # keep what open clips need
                    analyzer.text.forget_before(min(c.start_frame for c in open_clips))
    except jobs.Cancelled:
        return
    except MediaError as exc:
        reason = exc.reason
        for clip in open_clips:
            results.put(("failed", (clip, reason)))
        return
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
        for clip in open_clips:
            results.put(("failed", (clip, f"analysis failed ({type(exc).__name__}: {exc})")))
        return
    finally:
        results.put(("frames", counted % 32))
    # The file ended before some clips did (the catalog's count was wrong or the file shrank).
    for clip in open_clips:
        analysis = analyzer.finish_clip(clip.start_frame, clip.end_frame)
        if analysis["frames_seen"] == 0:
            results.put(("failed", (clip, f"no frame of [{clip.start_frame}, {clip.end_frame}) "
                                          f"could be decoded; the file ends before")))
        else:
            results.put(("clip", (clip, analysis)))
