"""probe(): exact facts (decoded frame count, fps as a fraction) and plain-word errors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from curator.core.media import MediaError, SourceInfo, content_hash, probe
from tests.media_factory import (
    Segment,
    make_audio_only,
    make_corrupt_middle,
    make_empty,
    make_text_as_video,
    make_truncated,
    make_undecodable,
    make_unknown_codec,
    make_video,
)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe_media")


@pytest.fixture(scope="session")
def clip_mp4(media_dir: Path):
    return make_video(media_dir / "clip.mp4", [Segment("texture", 40, seed=1),
                                               Segment("bars", 20, seed=2)], gop=12)


def test_probe_generated_mp4_is_exact(clip_mp4) -> None:
    info = probe(clip_mp4.path)
    assert isinstance(info, SourceInfo)
    assert info.frame_count == clip_mp4.frame_count == 60
    assert info.fps == Fraction(24)
    assert (info.width, info.height) == (320, 180)
    assert info.codec == "h264"
    assert info.container == "mp4"
    assert info.duration == pytest.approx(60 / 24)
    assert info.warnings == ()


def test_probe_keeps_ntsc_rate_as_fraction(media_dir: Path) -> None:
    video = make_video(media_dir / "ntsc.mkv", [Segment("color", 10, seed=3)],
                       fps=Fraction(24000, 1001))
    info = probe(video.path)
    assert info.fps == Fraction(24000, 1001)
    assert info.frame_count == 10
    assert info.container == "matroska"


def test_probe_avi_mpeg4(media_dir: Path) -> None:
    video = make_video(media_dir / "clip.avi", [Segment("texture", 25, seed=5)], fps=25)
    info = probe(video.path)
    assert (info.codec, info.container, info.frame_count, info.fps) == ("mpeg4", "avi", 25, 25)


def test_probe_without_decoding_uses_header(clip_mp4) -> None:
    info = probe(clip_mp4.path, decode_count=False)
    assert info.header_frame_count == 60
    assert info.frame_count == 60


def test_one_frame_file(media_dir: Path) -> None:
    video = make_video(media_dir / "one.mp4", [Segment("color", 1, seed=1)])
    info = probe(video.path)
    assert info.frame_count == 1
    assert info.duration == pytest.approx(1 / 24)


@pytest.mark.parametrize(("maker", "words"), [
    (lambda d: make_empty(d / "empty.mp4"), "empty"),
    (lambda d: make_text_as_video(d / "notes.mp4"), "text file"),
    (lambda d: make_audio_only(d / "song.mp4"), "only audio"),
    (lambda d: make_unknown_codec(d / "alien.avi"), "codec is unknown"),
    (lambda d: make_undecodable(d / "liar.avi"), "not a single frame"),
    (lambda d: d / "missing.mp4", "not found"),
])
def test_bad_files_raise_media_error_naming_the_file(media_dir: Path, maker, words: str) -> None:
    path = maker(media_dir)
    with pytest.raises(MediaError) as info:
        probe(path)
    message = str(info.value)
    assert message.startswith(Path(path).name + ": ")
    assert words in message
    assert info.value.path == Path(path)


def test_truncated_mp4_without_index_is_explained(media_dir: Path, clip_mp4) -> None:
    cut = make_truncated(clip_mp4.path, media_dir / "cut.mp4", keep=0.6)
    with pytest.raises(MediaError, match="cut short"):
        probe(cut)


def test_truncated_faststart_mp4_keeps_what_decodes(media_dir: Path) -> None:
    full = make_video(media_dir / "fast.mp4", [Segment("texture", 48, seed=7)], faststart=True)
    cut = make_truncated(full.path, media_dir / "fast_cut.mp4", keep=0.6)
    info = probe(cut)
    assert 0 < info.frame_count < 48
    assert info.header_frame_count == 48
    assert any("cut short" in w for w in info.warnings)


def test_decode_errors_in_the_middle_keep_the_rest(media_dir: Path, clip_mp4) -> None:
    bad = make_corrupt_middle(clip_mp4.path, media_dir / "scratched.mp4")
    info = probe(bad)
    assert 0 < info.frame_count < 60
    assert info.warnings, "a damaged file must carry a warning"


def test_content_hash_depends_on_content_not_name(media_dir: Path, clip_mp4) -> None:
    copy = media_dir / "renamed copy.mp4"
    copy.write_bytes(clip_mp4.path.read_bytes())
    assert content_hash(copy) == content_hash(clip_mp4.path)
    other = make_video(media_dir / "other.mp4", [Segment("texture", 40, seed=9)])
    assert content_hash(other.path) != content_hash(clip_mp4.path)
    assert len(content_hash(copy)) == 64


# Facts from ../shared/media/README.md (read there with ffprobe/ffmpeg).
@pytest.mark.parametrize(("name", "codec", "size", "fps", "frames", "header"), [
    ("Megamind.avi", "mpeg4", (720, 528), Fraction(2997, 125), 270, 270),
    ("tree.avi", "cinepak", (320, 240), Fraction(1000000, 66667), 68, 444),
    ("motion.mov", "h264", (568, 320), Fraction(30), 242, 243),
    ("hug_movie.mp4", "h264", (560, 320), Fraction(30), 166, 166),
    ("birds.mp4", "h264", (1280, 720), Fraction(30), 31, 31),
])
def test_real_footage_facts(shared_media: Path, name, codec, size, fps, frames, header) -> None:
    info = probe(shared_media / name)
    assert info.codec == codec
    assert (info.width, info.height) == size
    assert info.fps == fps
    assert info.frame_count == frames
    assert info.header_frame_count == header
    if frames != header:
        assert any(str(header) in w and str(frames) in w for w in info.warnings)


def test_tree_avi_keeps_its_playing_time(shared_media: Path) -> None:
    # 68 frames spread over 29.6 s: the duration comes from the timestamps, not 68 / 15.
    assert probe(shared_media / "tree.avi").duration == pytest.approx(29.6, abs=0.1)
