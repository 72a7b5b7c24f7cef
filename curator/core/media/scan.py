"""The single decode pass of ingest: count frames, find shot boundaries, grab thumbnails, feed
analysis.

Each decoded frame is scaled by libswscale straight to the small sizes its readers need (far
cheaper than any full-size conversion): a 256-pixel-wide yuv420p copy and a 48×27 RGB one for
the shot engine, a 256-wide gray one for the analysis engine when asked, and 256-wide RGB
thumbnails for the few frames kept. A film is decoded exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from curator.core.jobs import NEVER_CANCELLED, CancelToken
from curator.core.media.errors import MediaError
from curator.core.media.frames import fit_size, frame_to_array
from curator.core.media.probing import (
    SourceInfo,
    count_warnings,
    decoded_duration,
    no_frames_reason,
    stream_facts,
)
from curator.core.media.reader import VideoReader
from curator.core.media.scenes import (
    WORK_WIDTH,
    SceneSettings,
)
from curator.core.media.shots import ShotEngine, Transition
from curator.core.media.thumbnails import THUMB_WIDTH, ThumbnailCollector

ANALYSIS_WIDTH = 256  # the gray frames handed to a FrameAnalyzer, as iter_frames(width=256) makes them


class FrameAnalyzer(Protocol):
    """What the analysis engine plugs into the pass (see curator.core.analysis)."""

    def feed(self, index: int, gray: np.ndarray, frame: object = None) -> None: ...

    text_width: int  # how wide the frames `feed_text` takes are

    def wants_text(self, index: int) -> bool: ...

    def feed_text(self, index: int, gray: np.ndarray) -> None: ...

    def finish_clip(self, start: int, end: int) -> dict: ...

    def share_shots(self, engine: ShotEngine) -> None: ...


AnalyzerFactory = Callable[[SourceInfo], FrameAnalyzer]
FrameProgress = Callable[[int, int | None], None]  # (frames decoded, frames expected or None)


@dataclass
class ScanResult:
    """What one pass over a video found."""

    info: SourceInfo              # with the decoded frame count
    cuts: list[int]               # hard cuts: first frames of new shots (empty when not detecting)
    boundaries: list[Transition] = field(default_factory=list)  # every shot boundary found
    thumbnails: list[Path] = field(default_factory=list)
    analyzer: FrameAnalyzer | None = None
    damaged: bool = False         # frames were lost to damage (kept: those that decoded)


def scan_video(path: Path, *, detect: bool = True, settings: SceneSettings = SceneSettings(),
               thumbs_dir: Path | None = None, source_hash: str | None = None,
               thumbnail_ranges: Sequence[tuple[int, int]] | None = None,
               analyzer_factory: AnalyzerFactory | None = None,
               on_frames: FrameProgress | None = None,
               cancel: CancelToken = NEVER_CANCELLED, threads: bool | int = True) -> ScanResult:
    """Decode a video once: exact facts, hard cuts, thumbnails and (optionally) analysis input.

    Args:
        path: the video.
        detect: look for shot boundaries (hard cuts, dissolves, fades, wipes).
        settings: cut detector thresholds.
        thumbs_dir, source_hash: where thumbnails go; none are made when either is None.
        thumbnail_ranges: make thumbnails for these clip ranges instead of for the scenes found
            (a source whose clips are already in the catalog).
        analyzer_factory: builds a FrameAnalyzer from the probed facts (its `frame_count` is
            the header's until the pass ends); it is fed every frame, gray, 256 px wide.
        on_frames: called every few hundred frames with (frames decoded, frames expected).
        cancel: checked between packets.
        threads: the decoder's threads (`VideoReader`); 1 in a pool of one process per core.

    Returns:
        The facts (decoded frame count, duration from timestamps, warnings), the boundaries,
        the thumbnails written and the fed analyzer (call its `finish_clip` per clip range).

    Raises:
        MediaError: the file cannot be read, or not a single frame decodes.
        Cancelled: when `cancel` fires.
    """
    path = Path(path)
    # Every reader of the pass scales frames down to 256 px at most (the text check of an
    # analyzer to its own width): the decoder may skip what cannot show at that size (the loop
    # filter of a 1080p frame), never a frame.
    with VideoReader(path, threads=threads,
                     max_width=max(WORK_WIDTH, ANALYSIS_WIDTH, THUMB_WIDTH)) as reader:
        facts = stream_facts(reader)
        header_info = SourceInfo(path=path, container=facts.container, codec=facts.codec,
                                 fps=facts.fps, frame_count=facts.header_frame_count or 0,
                                 header_frame_count=facts.header_frame_count,
                                 width=facts.width, height=facts.height,
                                 duration=facts.header_duration or 0.0, warnings=facts.warnings)
        analyzer = analyzer_factory(header_info) if analyzer_factory is not None else None
        if analyzer is not None:  # its text check reads frames wider than the rest
            reader.limit_width(max(WORK_WIDTH, ANALYSIS_WIDTH, THUMB_WIDTH, analyzer.text_width))
        detector = ShotEngine(settings) if detect else None
        if detector is not None and analyzer is not None:
            analyzer.share_shots(detector)  # analysis judges clips with the split's engine
        collector: ThumbnailCollector | None = None
        to_gray = VideoReformatter()  # keeps its scaler (frame.reformat builds one per frame)
        gray_w, gray_h = fit_size(facts.width, facts.height, width=ANALYSIS_WIDTH)
        reported = 0
        index = -1
        confirmed = 0
        for index, frame in enumerate(reader.raw_frames(cancel, ahead=reader.threaded)):
            if index == 0:
                # a stream may change size mid-way; the first frame's size is the one used
                gray_w, gray_h = fit_size(frame.width, frame.height, width=ANALYSIS_WIDTH)
                if thumbs_dir is not None and source_hash is not None:
                    lookahead = detector.latency + 2 if detector else 0
                    collector = ThumbnailCollector(
                        thumbs_dir, source_hash, lookahead=lookahead,
                        fixed_ranges=thumbnail_ranges,
                        shots_in=detector.shots_in if detector is not None else None)
            if detector is not None:
                confirmed = _feed_detector(detector, collector, index, frame, confirmed)
            if collector is not None:
                collector.feed(index, frame)
            if analyzer is not None:
                _feed_analyzer(analyzer, to_gray, index, frame, (gray_w, gray_h))
            if on_frames is not None and index + 1 - reported >= 250:
                reported = index + 1
                on_frames(reported, facts.header_frame_count)
        frames = index + 1
        if frames == 0:
            raise MediaError(path, no_frames_reason(reader))
        _end_of_pass(detector, collector, confirmed, frames)
        if on_frames is not None:
            on_frames(frames, frames)
        return _result(reader, facts, header_info, frames, detector, collector, analyzer)


def _end_of_pass(detector: ShotEngine | None, collector: ThumbnailCollector | None,
                 confirmed: int, frames: int) -> None:
    """Decide the last frames, then write the thumbnails still waiting for them."""
    if detector is not None:
        detector.finish()
    if collector is not None:
        # the detector's cuts, as the pass closed scenes with them (ingest makes the
        # thumbnails that the final boundaries want otherwise)
        for cut in detector.cuts_after(confirmed) if detector is not None else []:
            collector.close_scene(cut)
        collector.finish(frames)


def _feed_detector(detector: ShotEngine, collector: ThumbnailCollector | None, index: int,
                   frame: av.VideoFrame, confirmed: int) -> int:
    """One frame to the shot engine; the scenes its confirmed cuts close go to the thumbnails.
    Returns how many cuts the thumbnails have been told of."""
    detector.feed(index, frame)
    if collector is not None:
        new = detector.cuts_after(confirmed)
        for cut in new:
            collector.close_scene(cut)
        collector.settle(detector.settled)
        return confirmed + len(new)
    return confirmed


def _feed_analyzer(analyzer: FrameAnalyzer, to_gray: VideoReformatter, index: int,
                   frame: av.VideoFrame, size: tuple[int, int]) -> None:
    """One frame to the analyzer: gray at the analysis size, and larger for the text check."""
    gray = to_gray.reformat(frame, width=size[0], height=size[1], format="gray",
                            interpolation="AREA", threads=1).to_ndarray()
    analyzer.feed(index, gray, frame=frame)
    if analyzer.wants_text(index):  # a sparse grid of larger frames (text check)
        analyzer.feed_text(index, frame_to_array(
            frame, min(analyzer.text_width, frame.width), None, "gray"))


def _result(reader: VideoReader, facts: Any, header_info: SourceInfo, frames: int,
            detector: ShotEngine | None, collector: ThumbnailCollector | None,
            analyzer: FrameAnalyzer | None) -> ScanResult:
    """What the finished pass found: exact facts, boundaries, thumbnails, the fed analyzer."""
    boundaries = detector.transitions() if detector is not None else []
    warnings = list(facts.warnings) + reader.finish_warnings() + count_warnings(facts, frames)
    info = replace(header_info, frame_count=frames, duration=decoded_duration(reader, facts.fps),
                   warnings=tuple(warnings))
    return ScanResult(info=info, cuts=[t.start for t in boundaries if t.kind == "cut"],
                      boundaries=boundaries,
                      thumbnails=list(collector.written) if collector else [],
                      analyzer=analyzer, damaged=reader.damaged)
