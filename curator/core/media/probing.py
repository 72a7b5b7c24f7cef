"""Exact facts about a video file: frame rate as a fraction and the frame count as decoded.

Containers lie about frame counts (tree.avi's header says 444 frames, 68 decode; a cut-short
MP4 keeps the full length in its index), and a clip one frame short of a training target
silently drops out of an epoch, so the count that matters is the one the decoder gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from curator.core.jobs import NEVER_CANCELLED, CancelToken
from curator.core.media.errors import MediaError
from curator.core.media.reader import VideoReader, stream_fps
from curator.core.media.source_info import SourceInfo


@dataclass(frozen=True)
class StreamFacts:
    """The header facts of an open video, before any frame is decoded (internal to the media layer)."""

    container: str
    codec: str
    fps: Fraction
    header_frame_count: int | None
    width: int
    height: int
    header_duration: float | None
    warnings: tuple[str, ...]


def stream_facts(reader: VideoReader) -> StreamFacts:
    """Read what the container header says about the reader's video stream.

    Raises:
        MediaError: when the stream has no usable frame rate.
    """
    stream = reader.stream
    warnings: list[str] = []
    fps = stream_fps(stream)
    if fps is None:
        # Without a rate no frame can be put on a timeline; 25 is FFmpeg's own fallback.
        fps = Fraction(25)
        warnings.append("the file states no frame rate; 25 fps is assumed")
    header_frames = int(stream.frames) if stream.frames and stream.frames > 0 else None
    header_duration: float | None = None
    if stream.duration and stream.time_base:
        header_duration = float(stream.duration * stream.time_base)
    elif reader.container.duration:
        header_duration = reader.container.duration / 1_000_000
    ctx = stream.codec_context
    return StreamFacts(container=reader.format_name, codec=reader.codec, fps=fps,
                       header_frame_count=header_frames, width=ctx.width, height=ctx.height,
                       header_duration=header_duration, warnings=tuple(warnings))


def decoded_duration(reader: VideoReader, fps: Fraction) -> float:
    """Seconds from the first decoded frame to the end of the last one.

    Uses the frames' timestamps (so a file that holds fewer frames than its rate implies, such
    as tree.avi, keeps its real playing time), or `frames / fps` when timestamps are missing.
    """
    tb = reader.stream.time_base
    if reader.pts_missing or reader.first_pts is None or reader.last_pts is None or not tb:
        return float(reader.frames_decoded / fps) if fps else 0.0
    return float((reader.last_pts - reader.first_pts) * tb + 1 / fps)


def count_warnings(facts: StreamFacts, frames: int) -> list[str]:
    """Warnings that compare the header's frame count with the decoded one."""
    claimed = facts.header_frame_count
    if claimed is None or claimed == frames:
        return []
    if frames < claimed:
        return [f"the header claims {claimed} frames but only {frames} decode (the file may be "
                f"cut short or damaged, or its header is wrong); the decoded count is used"]
    return [f"the header claims {claimed} frames but {frames} decode; the decoded count is used"]


def probe(path: Path, *, decode_count: bool = True,
          cancel: CancelToken = NEVER_CANCELLED) -> SourceInfo:
    """Probe a video file for its exact facts.

    Args:
        path: the video file.
        decode_count: decode every frame to count them exactly (the default). Without it the
            count comes from the header, or from duration × fps when the header has none, and
            may be wrong.
        cancel: checked between packets while counting.

    Returns:
        The facts, with warnings for anything odd (damaged packets, header count mismatch).

    Raises:
        MediaError: the file cannot be opened, has no decodable video stream, or no frame of
            it decodes.
        Cancelled: when `cancel` fires while counting.
    """
    path = Path(path)
    with VideoReader(path) as reader:
        facts = stream_facts(reader)
        warnings = list(facts.warnings)
        if not decode_count:
            if facts.header_frame_count is not None:
                frames = facts.header_frame_count
            elif facts.header_duration:
                frames = max(1, round(facts.header_duration * facts.fps))
            else:
                frames = 0
            duration = facts.header_duration or (float(frames / facts.fps) if frames else 0.0)
            return SourceInfo(path=path, container=facts.container, codec=facts.codec,
                              fps=facts.fps, frame_count=frames,
                              header_frame_count=facts.header_frame_count, width=facts.width,
                              height=facts.height, duration=duration, warnings=tuple(warnings))
        for _ in reader.raw_frames(cancel):
            pass
        frames = reader.frames_decoded
        if frames == 0:
            raise MediaError(path, no_frames_reason(reader))
        warnings += reader.finish_warnings()
        warnings += count_warnings(facts, frames)
        return SourceInfo(path=path, container=facts.container, codec=facts.codec, fps=facts.fps,
                          frame_count=frames, header_frame_count=facts.header_frame_count,
                          width=facts.width, height=facts.height,
                          duration=decoded_duration(reader, facts.fps),
                          warnings=tuple(warnings))


def no_frames_reason(reader: VideoReader) -> str:
    """Why a video yielded no frame at all, in words."""
    if reader.decode_errors:
        return (f"not a single frame could be decoded ({reader.decode_errors} packets rejected "
                f"by the {reader.codec} decoder); the file is damaged or its codec is unsupported")
    if reader.warnings:
        return f"not a single frame could be decoded: {reader.warnings[0]}"
    return "the video stream holds no frames"
