"""One open video file, decoded frame by frame with PyAV, tolerant of damage.

Every decode in Curator goes through `VideoReader`: the probe's frame count, the scene pass of
ingest, thumbnails and the frames handed to captioning models. Keeping one decoder loop means
one definition of "frame index" (frames decoded before it, from 0) and one way of surviving a
damaged file: a packet the decoder rejects is counted and skipped, never fatal, so a file with
errors in the middle yields every frame that can still be decoded.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.error

from curator.core.ahead import RunAhead
from curator.core.jobs import NEVER_CANCELLED, Cancelled, CancelToken
from curator.core.media.errors import MediaError

# FFmpeg prints every concealed error to stderr; each one is counted and reported as a warning
# instead, so its own log would only bury the progress bar. This sets FFmpeg's own threshold:
# `av.logging.set_level()` must never be used, as it routes FFmpeg's log through a Python
# callback that deadlocks with threaded decoding (PyAV-Org/PyAV#909); it hung our tests.
av.logging.set_libav_level(av.logging.PANIC)

# After this many packets in a row that the decoder rejects, the rest of the stream is taken
# as unreadable: going on would only spin through garbage (and FFmpeg's log) for nothing.
MAX_CONSECUTIVE_ERRORS = 200

# Frames a decode thread may run ahead of its reader (see `VideoReader.raw_frames`): enough to
# ride out a slow frame on either side, few enough that held 1080p frames stay ~25 MB. Small
# frames cross over to the reader a batch at a time (8 queued, and a batch on either side).
AHEAD_FRAMES = 8
AHEAD_BATCH = 4

# Up to this many pixels a frame decodes on one thread in about half the time the scan spends
# on it (480x352 H.264: 0.3 ms against 0.6 ms), so a thread running ahead keeps pace alone;
# FFmpeg's frame threads would only add their hand-offs (a tenth more CPU) on cores the scan
# needs. With one thread and the batches a 480x352 ingest takes 0.85x the time on 2 cores.
# Larger frames keep frame threads: at 720x576 one is no faster, at 1280x720 a third slower.
ONE_DECODE_THREAD_PIXELS = 640 * 480


def open_container(path: Path) -> av.container.InputContainer:
    """Open a file with FFmpeg, turning its errors into a MediaError that says what is wrong.

    Raises:
        MediaError: missing, unreadable, empty, a folder, or not a format FFmpeg knows.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise MediaError(path, "file not found") from exc
    except PermissionError as exc:
        raise MediaError(path, "permission denied") from exc
    except OSError as exc:
        raise MediaError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if path.is_dir():
        raise MediaError(path, "is a folder, not a media file")
    if size == 0:
        raise MediaError(path, "the file is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise MediaError(path, "permission denied")
    try:
        # metadata_errors="ignore": a tag in a foreign encoding is no reason to refuse a video.
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.InvalidDataError as exc:
        raise MediaError(path, _unreadable_reason(path)) from exc
    except av.error.FFmpegError as exc:
        if getattr(exc, "errno", None) == errno.EACCES:
            raise MediaError(path, "permission denied") from exc
        raise MediaError(path, f"FFmpeg cannot open it ({_ffmpeg_reason(exc)})") from exc
    except OSError as exc:
        raise MediaError(path, f"cannot be read ({exc.strerror or exc})") from exc


def _unreadable_reason(path: Path) -> str:
    """Why FFmpeg found no format in a file, guessed from its first bytes."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        head = b""
    if head[4:8] == b"ftyp":
        return ("an MP4/MOV file without its index (moov box): it was probably cut short "
                "while being written or copied")
    if head[:4] == b"RIFF" or head[:4] == b"\x1aE\xdf\xa3":
        return "a damaged AVI/Matroska file that FFmpeg cannot open"
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "a text file, not a video (only its name says otherwise)"
    return "not a video or image format FFmpeg can read (damaged, or not a media file)"


def _ffmpeg_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def stream_fps(stream: av.video.stream.VideoStream) -> Fraction | None:
    """The stream's frame rate as an exact fraction, or None when the container gives none.

    FFmpeg's guess (`r_frame_rate` logic) is the clean nominal rate (30000/1001 rather than an
    average such as 2997/100); the average rate wins only when they disagree by more than 1 %,
    which means variable frame rate, where the guess is often a tick rate such as 90000.
    """
    guessed = stream.guessed_rate
    average = stream.average_rate
    rates = [Fraction(r) for r in (guessed, average, stream.base_rate) if r]
    rates = [r for r in rates if 0 < r < 1000]
    if not rates:
        return None
    if guessed and average and 0 < average < 1000 and abs(Fraction(guessed) / Fraction(average) - 1) > Fraction(1, 100):
        return Fraction(average)
    return rates[0]


# A frame read only at 1/4 of its width or less: every output pixel averages 4×4 source pixels
# or more, so the deblocking filter's smoothing of (4- or 8-pixel) block edges cannot show, and
# skipping it saves a tenth of an H.264 decode (more at lower bitrates). Frames are never
# dropped by it: the decoded count stays exact.
LOOP_FILTER_MIN_SCALE = 4


def skip_loop_filter(source_width: int, max_width: int | None) -> bool:
    """Whether frames wanted at most `max_width` wide may be decoded without the loop filter."""
    return bool(max_width) and source_width >= LOOP_FILTER_MIN_SCALE * int(max_width)


class VideoReader:
    """The first video stream of one file, decoded with FFmpeg's threads.

    `threads`: True for FFmpeg's own choice, False or 1 for none (a pool of worker processes
    keeps the cores busy instead), or a thread count. `max_width`: the widest the caller will
    scale any frame to (None: it may use full size); narrow enough, the codec's loop filter is
    skipped (see `LOOP_FILTER_MIN_SCALE`).

    Use as a context manager. `frames()` yields `(index, av.VideoFrame)` in display order,
    where index counts the frames decoded before it; `warnings` collects what went wrong on
    the way (rejected packets, an early end) in plain words.

    Raises:
        MediaError: from the constructor when the file cannot be opened, holds no video stream,
            or its codec has no decoder in this FFmpeg build.
    """

    def __init__(self, path: Path, *, threads: bool | int = True,
                 max_width: int | None = None) -> None:
        self.path = Path(path)
        self.container = open_container(self.path)
        try:
            self.stream = self._video_stream()
            ctx = self.stream.codec_context
            count = None if threads is True else (0 if threads is False else int(threads))
            # a reader in a pool of one process per core keeps to one thread of its own
            self.threaded = count is None or count > 1
            if self.threaded:
                # Frame and slice threads: the decode is the bulk of every pass over a film.
                self.stream.thread_type = "AUTO"
                if count is not None:
                    ctx.thread_count = count
            else:
                ctx.thread_count = 1  # PyAV's own default: slice threads on every core
            self.limit_width(max_width)  # sets skips_loop_filter
        except BaseException:
            self.container.close()
            raise
        self.warnings: list[str] = []
        self.decode_errors = 0
        self.frames_decoded = 0
        self.first_pts: int | None = None
        self.last_pts: int | None = None
        self.pts_missing = False
        self.ended_early = False  # the container broke off before its end
        self._ahead: RunAhead[av.VideoFrame] | None = None

    def limit_width(self, max_width: int | None) -> None:
        """Say again how wide the caller will scale frames at most (before the first frame
        is decoded: the decoder's options are fixed from then on)."""
        ctx = self.stream.codec_context
        if ctx.is_open:
            raise RuntimeError("the decoder is open: limit_width comes before the first frame")
        self.skips_loop_filter = skip_loop_filter(ctx.width, max_width)
        options = {k: v for k, v in ctx.options.items() if k != "skip_loop_filter"}
        if self.skips_loop_filter:
            options["skip_loop_filter"] = "all"
        ctx.options = options

    def _video_stream(self) -> av.video.stream.VideoStream:
        videos = [s for s in self.container.streams.video
                  if not (s.disposition & av.stream.Disposition.attached_pic)]
        if not videos:
            if self.container.streams.audio:
                raise MediaError(self.path, "holds only audio, no video stream")
            if self.container.streams.video:
                raise MediaError(self.path, "holds only a cover picture, no video stream")
            raise MediaError(self.path, "holds no video stream")
        stream = videos[0]
        codec_name = self._codec_name(stream)
        if codec_name is None:
            raise MediaError(self.path, "its video codec is unknown to FFmpeg, so it cannot be decoded")
        try:
            ctx = stream.codec_context
        except (av.error.FFmpegError, ValueError) as exc:
            raise MediaError(self.path, f"its video codec ({codec_name}) cannot be decoded "
                                        f"by this FFmpeg build") from exc
        if ctx is None or not ctx.is_decoder:
            raise MediaError(self.path, f"its video codec ({codec_name}) cannot be decoded "
                                        f"by this FFmpeg build")
        if not (ctx.width and ctx.height):
            raise MediaError(self.path, f"its video stream ({codec_name}) gives no picture size; "
                                        f"the codec is probably not supported")
        return stream

    @staticmethod
    def _codec_name(stream: av.video.stream.VideoStream) -> str | None:
        try:
            ctx = stream.codec_context
            name = ctx.name if ctx is not None else None
        except (av.error.FFmpegError, ValueError):
            return None
        return None if not name or name == "none" else name

    @property
    def codec(self) -> str:
        return self.stream.codec_context.name

    @property
    def format_name(self) -> str:
        """The container's short name, picked to match the file's extension when FFmpeg lists several."""
        names = self.container.format.name.split(",")
        ext = self.path.suffix.lower().lstrip(".")
        if ext in names:
            return ext
        return names[0]

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._ahead is not None:  # never close the container under a decoding thread
            self._ahead.stop()
        self.container.close()

    def seek_keyframe(self, pts: int) -> None:
        """Seek to the last keyframe at or before `pts` (in the stream's time base)."""
        self.container.seek(pts, stream=self.stream, backward=True, any_frame=False)
        self.stream.codec_context.flush_buffers()

    def raw_frames(self, cancel: CancelToken = NEVER_CANCELLED, *, ahead: bool = False
                   ) -> Iterator[av.VideoFrame]:
        """Decoded frames in display order from the current position, skipping damage.

        `ahead`: decode in a thread of its own, up to `AHEAD_FRAMES` frames ahead of the
        caller. PyAV lets go of the GIL inside FFmpeg's decode, so a pass whose work per frame
        is Python and numpy (the scan of ingest) has the decode done on another core meanwhile
        instead of taking turns with it; small frames decode on that thread alone (see
        `ONE_DECODE_THREAD_PIXELS`). The reader's counts and warnings are complete once the
        frames run out; `close()` stops the thread first.

        Raises:
            Cancelled: when `cancel` fires (checked before each packet).
        """
        if not ahead:
            yield from self._decoded(cancel)
            return
        ctx = self.stream.codec_context
        small = 0 < ctx.width * ctx.height <= ONE_DECODE_THREAD_PIXELS
        if small and not ctx.is_open:
            ctx.thread_count = 1  # the thread settings hold from the first packet on
        decoder = RunAhead(self._decoded(cancel), AHEAD_FRAMES, "curator-decode",
                           batch=AHEAD_BATCH if small else 1)
        self._ahead = decoder
        try:
            yield from decoder
        finally:
            decoder.stop()
            self._ahead = None

    def _decoded(self, cancel: CancelToken) -> Iterator[av.VideoFrame]:
        stream = self.stream
        consecutive = 0
        demux = self.container.demux(stream)
        while True:
            if cancel.cancelled:
                raise Cancelled()
            try:
                packet = next(demux)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                # The container itself is damaged past this point (a truncated file, a broken
                # index): keep the frames already decoded and flush what the decoder holds.
                self.ended_early = True
                self.warnings.append(f"the file is damaged or cut short after frame "
                                     f"{self.frames_decoded} ({_ffmpeg_reason(exc)}); "
                                     f"later frames are lost")
                break
            if packet.size == 0 and packet.dts is None:
                continue  # the demuxer's end marker; decode(None) below flushes instead
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError) as exc:
                self.decode_errors += 1
                consecutive += 1
                if consecutive >= MAX_CONSECUTIVE_ERRORS:
                    self.ended_early = True
                    self.warnings.append(
                        f"decoding stopped after frame {self.frames_decoded}: "
                        f"{consecutive} damaged packets in a row ({_ffmpeg_reason(exc)})")
                    return
                continue
            consecutive = 0
            for frame in frames:
                yield self._count(frame)
        try:
            frames = stream.codec_context.decode(None)
        except (av.error.FFmpegError, ValueError):
            self.decode_errors += 1
            frames = []
        for frame in frames:
            yield self._count(frame)

    def _count(self, frame: av.VideoFrame) -> av.VideoFrame:
        self.frames_decoded += 1
        pts = frame.pts
        if pts is None:
            self.pts_missing = True
        else:
            if self.first_pts is None or pts < self.first_pts:
                self.first_pts = pts
            if self.last_pts is None or pts > self.last_pts:
                self.last_pts = pts
        return frame

    @property
    def damaged(self) -> bool:
        """Whether frames were lost to damage (rejected packets or a broken-off container)."""
        return bool(self.decode_errors) or self.ended_early

    def finish_warnings(self) -> list[str]:
        """The warnings of the decode so far, with the count of rejected packets folded in."""
        out = list(self.warnings)
        if self.decode_errors:
            plural = "s" if self.decode_errors != 1 else ""
            out.insert(0, f"{self.decode_errors} damaged packet{plural} could not be decoded "
                          f"and were skipped; the other frames are kept")
        return out

