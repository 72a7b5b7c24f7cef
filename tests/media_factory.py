"""Synthetic media with known ground truth, made with PyAV (no ffmpeg binary needed).

A generated video is the only footage whose cut frames are exact, so scene-detection tests and
benchmarks build their own. Everything here is plain functions that write a file and return
its path; nothing is cached, so wrap calls in a session-scoped fixture.

Videos
    `make_video(path, segments, fps=24, size=(320, 180))` writes one video made of `Segment`s
    joined by hard cuts and returns a `SyntheticVideo`: `.path`, `.cuts` (the frame index where
    each new segment starts: the true cuts), `.frame_count`, `.fps`, `.size`. It is path-like
    (`Path(video)`, `open(video)`, `probe(video)` all work). `cut_frames(segments)` gives the
    cuts without writing anything.

    Segment kinds (each `Segment(kind, frames, seed=..., ...)`):
      - "color":    a flat colour field with a faint gradient and grain (`color=(r, g, b)`).
      - "texture":  a smooth random coloured texture panning slowly (a "camera move").
      - "fast":     the same kind of texture panning fast (`speed` px/frame, default 1/6 of the
                    width): fast motion that must NOT be reported as a cut.
      - "whip":     a still texture that suddenly starts a fast pan halfway through the shot
                    (a whip pan): motion that starts abruptly, also NOT a cut.
      - "bars":     colour bars with a moving box and a moving gradient line (testsrc-like).
      - "noise":    fresh random grain each frame over a fixed texture (heavy sensor noise).
    `flashes=(i, ...)` turns `flash_len` frames from offset i of a segment nearly white (a
    camera flash or muzzle flash): not a cut either.

Damaged and odd files
    `make_empty`, `make_text_as_video`, `make_truncated`, `make_corrupt_middle`,
    `make_audio_only`, `make_unknown_codec`, `make_undecodable`, `make_image`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

__all__ = [
    "Segment",
    "SyntheticVideo",
    "cut_frames",
    "make_audio_only",
    "make_corrupt_middle",
    "make_empty",
    "make_image",
    "make_text_as_video",
    "make_truncated",
    "make_undecodable",
    "make_unknown_codec",
    "make_video",
    "render_frames",
]


@dataclass(frozen=True)
class Segment:
    """One shot of a synthetic video.

    Attributes:
        kind: "color", "texture", "fast", "whip", "bars" or "noise" (see the module docstring).
        frames: how many frames the shot lasts.
        seed: picks the texture, colours and direction of motion; two segments with different
            seeds look different, the same seed gives the same look.
        color: for "color" (and the tint of the others); None picks one from the seed.
        speed: pan speed in pixels per frame; None for the kind's default.
        flashes: frame offsets within the segment where a flash starts.
        flash_len: frames each flash lasts.
    """

    kind: str
    frames: int
    seed: int = 0
    color: tuple[int, int, int] | None = None
    speed: float | None = None
    flashes: tuple[int, ...] = ()
    flash_len: int = 2


@dataclass(frozen=True)
class SyntheticVideo:
    """A written synthetic video and its ground truth."""

    path: Path
    cuts: tuple[int, ...]  # first frame of every segment after the first
    frame_count: int
    fps: Fraction
    size: tuple[int, int]
    segments: tuple[Segment, ...] = field(default=())

    def __fspath__(self) -> str:
        return str(self.path)


def cut_frames(segments: Sequence[Segment]) -> list[int]:
    """The true cut frames of a segment list: the index where each segment after the first starts."""
    cuts, at = [], 0
    for seg in segments[:-1]:
        at += seg.frames
        cuts.append(at)
    return cuts


def _texture(rng: np.random.Generator, width: int, height: int, tint: np.ndarray) -> np.ndarray:
    """A smooth random colour texture (float32, 0..255) that looks alike at any resolution.

    Octaves of upscaled noise whose cell sizes follow the picture size (1/f-like, as real
    scenes are), so a 160×90 and a 1920×1080 rendering show the same picture.
    """
    acc = np.zeros((height, width, 3), np.float32)
    total = 0.0
    for cells, weight in ((4, 1.0), (8, 0.6), (16, 0.35), (32, 0.2)):
        gh, gw = max(2, cells * height // max(width, height) * 2), max(2, cells * 2)
        small = rng.random((gh, gw, 3), dtype=np.float32)
        img = Image.fromarray((small * 255).astype(np.uint8)).resize((width, height), Image.BICUBIC)
        acc += weight * np.asarray(img, dtype=np.float32)
        total += weight
    tex = acc / total
    # stretch the contrast back (averaging octaves flattens it), then tint: different seeds
    # also differ in overall colour, as real shots do
    tex = (tex - tex.mean()) * 2.2 + 128
    return np.clip(0.6 * tex + 0.4 * tint, 0, 255)


def _seed_color(seed: int) -> np.ndarray:
    rng = np.random.default_rng(10_000 + seed)
    return rng.integers(30, 226, size=3).astype(np.float32)


def render_frames(segment: Segment, size: tuple[int, int]) -> np.ndarray:
    """All frames of one segment as a uint8 array (frames, height, width, 3), RGB."""
    width, height = size
    rng = np.random.default_rng(segment.seed)
    tint = np.asarray(segment.color, np.float32) if segment.color else _seed_color(segment.seed)
    n = segment.frames
    out = np.empty((n, height, width, 3), np.uint8)
    angle = rng.uniform(0, 2 * np.pi)
    direction = np.array([np.cos(angle), np.sin(angle)])
    kind = segment.kind
    if kind == "color":
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        base = tint + 12 * (xx / width - 0.5)[..., None] + 8 * (yy / height - 0.5)[..., None]
        for i in range(n):
            grain = rng.normal(0, 1.5, (height, width, 1)).astype(np.float32)
            out[i] = np.clip(base + grain, 0, 255).astype(np.uint8)
    elif kind in ("texture", "fast", "noise", "whip"):
        speed = segment.speed if segment.speed is not None else (
            width / 6 if kind in ("fast", "whip") else 1.5)
        big = _texture(rng, width * 2, height * 2, tint).astype(np.uint8)
        rows, cols = np.arange(height), np.arange(width)
        for i in range(n):
            moved = i if kind != "whip" else max(0, i - n // 2)
            dx, dy = (direction * speed * moved).astype(int)
            # a window panning over a torus: the same picture as np.roll, without copying it all
            frame = big[((rows - dy) % (2 * height))[:, None], ((cols - dx) % (2 * width))[None, :]]
            if kind == "noise":
                frame = np.clip(frame + rng.normal(0, 14, frame.shape), 0, 255)
            out[i] = frame
    elif kind == "bars":
        colors = np.array([[192, 192, 192], [192, 192, 0], [0, 192, 192], [0, 192, 0],
                           [192, 0, 192], [192, 0, 0], [0, 0, 192]], np.float32)
        colors = np.roll(colors, segment.seed % 7, axis=0) * 0.7 + tint * 0.3
        bar_of_x = (np.arange(width) * 7 // width)
        base = np.broadcast_to(colors[bar_of_x][None], (height, width, 3)).copy()
        box = max(8, height // 5)
        speed = segment.speed if segment.speed is not None else 3.0
        for i in range(n):
            frame = base.copy()
            x = int((i * speed) % max(1, width - box))
            y = int((height - box) * (0.5 + 0.4 * np.sin(i / 7 + segment.seed)))
            frame[y:y + box, x:x + box] = (255 - tint)
            line = int((i * 2) % height)
            frame[line:line + 2] = 235
            out[i] = frame.astype(np.uint8)
    else:
        raise ValueError(f"unknown segment kind {kind!r}")
    for start in segment.flashes:
        for i in range(start, min(n, start + segment.flash_len)):
            out[i] = (0.15 * out[i] + 0.85 * 250).astype(np.uint8)
    return out


def make_video(path: Path | str, segments: Sequence[Segment], *, fps: Fraction | int = 24,
               size: tuple[int, int] = (320, 180), codec: str | None = None,
               gop: int | None = None, crf: int = 20, bframes: int | None = None,
               faststart: bool = False, preset: str = "ultrafast") -> SyntheticVideo:
    """Write a video made of `segments` joined by hard cuts.

    Args:
        path: the file to write; its suffix picks the container (.mp4, .mkv, .mov, .avi).
        segments: the shots, in order.
        fps: frame rate (a Fraction such as Fraction(24000, 1001) is kept exactly).
        size: (width, height), both even.
        codec: FFmpeg encoder; default libx264 (mpeg4 for .avi).
        gop: keyframe interval; default 2 s. A small gop makes seeking tests meaningful.
        crf: libx264 quality (lower is better).
        bframes: B-frames for libx264 (default: the encoder's).
        faststart: MP4/MOV only: put the index (moov) first, so a truncated copy still opens.
        preset: libx264 preset; "ultrafast" for tests, a slower one (B-frames, CABAC) to get a
            stream that decodes like a real film, for benchmarks.

    Returns:
        The written file with its true cuts (`SyntheticVideo.cuts`), frame count, fps and size.
    """
    path = Path(path)
    fps = Fraction(fps)
    width, height = size
    if width % 2 or height % 2:
        raise ValueError("width and height must be even for yuv420p")
    if codec is None:
        codec = "mpeg4" if path.suffix.lower() == ".avi" else "libx264"
    container_options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=container_options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = 1 / fps
        stream.codec_context.gop_size = gop if gop is not None else max(1, int(2 * fps))
        options = {}
        if codec == "libx264":
            options = {"preset": preset, "crf": str(crf)}
            if bframes is not None:
                options["bf"] = str(bframes)
        elif codec == "mpeg4":
            options = {"qscale": "3"}
            stream.codec_context.bit_rate = 2_000_000
        stream.options = options
        index = 0
        for seg in segments:
            for rgb in render_frames(seg, size):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = index
                frame.time_base = stream.codec_context.time_base
                index += 1
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return SyntheticVideo(path=path, cuts=tuple(cut_frames(segments)), frame_count=index,
                          fps=fps, size=size, segments=tuple(segments))


def make_empty(path: Path | str) -> Path:
    """A 0-byte file (e.g. a failed download)."""
    path = Path(path)
    path.write_bytes(b"")
    return path


def make_text_as_video(path: Path | str) -> Path:
    """A text file with a video name (e.g. `notes.mp4`)."""
    path = Path(path)
    path.write_text("This is not a video, just some notes someone saved with the wrong name.\n" * 20)
    return path


def make_truncated(source: Path | str, path: Path | str, keep: float = 0.5) -> Path:
    """A copy of `source` cut off after `keep` of its bytes (an interrupted copy)."""
    data = Path(source).read_bytes()
    path = Path(path)
    path.write_bytes(data[: max(1, int(len(data) * keep))])
    return path


def make_corrupt_middle(source: Path | str, path: Path | str, start: float = 0.45,
                        length: float = 0.1, seed: int = 1) -> Path:
    """A copy of `source` with random bytes written over a slice in the middle (a bad sector).

    The container structure at both ends stays intact, so the file opens and most frames
    decode; the frames whose data was hit are damaged or lost.
    """
    data = bytearray(Path(source).read_bytes())
    a = int(len(data) * start)
    b = a + max(1, int(len(data) * length))
    rng = np.random.default_rng(seed)
    data[a:b] = rng.integers(0, 256, b - a, dtype=np.uint8).tobytes()
    path = Path(path)
    path.write_bytes(bytes(data))
    return path


def make_audio_only(path: Path | str, seconds: float = 1.0) -> Path:
    """An audio-only file (AAC in the container the suffix names, e.g. `.mp4` or `.m4a`)."""
    path = Path(path)
    rate = 22050
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        samples = int(rate * seconds)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / rate)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(tone[None, :], format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _patch_avi_fourcc(path: Path, fourcc: bytes) -> None:
    """Rewrite both FourCC fields of an AVI's video stream header (strh handler, strf compression)."""
    data = bytearray(path.read_bytes())
    strh = data.find(b"strh")
    if strh < 0 or data[strh + 8:strh + 12] != b"vids":
        raise ValueError(f"{path} has no AVI video stream header")
    data[strh + 12:strh + 16] = fourcc
    strf = data.find(b"strf", strh)
    # BITMAPINFOHEADER: biSize(4) biWidth(4) biHeight(4) biPlanes(2) biBitCount(2) biCompression(4)
    data[strf + 8 + 16:strf + 8 + 20] = fourcc
    path.write_bytes(bytes(data))


def make_unknown_codec(path: Path | str, frames: int = 12) -> Path:
    """An AVI whose video FourCC ("QQ99") names no codec FFmpeg knows: it cannot be decoded."""
    path = Path(path)
    if path.suffix.lower() != ".avi":
        raise ValueError("make_unknown_codec writes an AVI; give a .avi path")
    make_video(path, [Segment("texture", frames, seed=3)], size=(64, 48), codec="mpeg4")
    _patch_avi_fourcc(path, b"QQ99")
    return path


def make_undecodable(path: Path | str, frames: int = 12) -> Path:
    """An AVI labelled as a known codec (Cinepak) whose data is MPEG-4: every packet fails to decode."""
    path = Path(path)
    if path.suffix.lower() != ".avi":
        raise ValueError("make_undecodable writes an AVI; give a .avi path")
    make_video(path, [Segment("texture", frames, seed=4)], size=(64, 48), codec="mpeg4")
    _patch_avi_fourcc(path, b"cvid")
    return path


def make_image(path: Path | str, size: tuple[int, int] = (64, 48),
               color: tuple[int, int, int] = (200, 80, 40)) -> Path:
    """A still image; the suffix picks the format (.png, .jpg, .webp...)."""
    path = Path(path)
    img = Image.new("RGB", size, color)
    img.save(path)
    return path


def chmod_blocks_reading(folder: Path) -> bool:
    """Whether `chmod 000` on `folder` really stops this process listing it (not so for root)."""
    mode = folder.stat().st_mode
    try:
        os.chmod(folder, 0)
        try:
            os.listdir(folder)
        except PermissionError:
            return True
        return False
    finally:
        os.chmod(folder, mode)
