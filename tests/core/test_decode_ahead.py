"""Decoding ahead in a thread: the same frames, counts and warnings; the thread never outlives
its reader (a container closed under a decoding thread would crash the process)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from curator.core.jobs import Cancelled, CancelToken
from curator.core.media.reader import VideoReader
from tests.media_factory import Segment, make_corrupt_middle, make_video


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ahead")
    return make_video(folder / "film.mp4", [Segment("texture", 40, seed=5),
                                            Segment("noise", 30, seed=6),
                                            Segment("color", 20, seed=7)], size=(160, 96)).path


def _decode_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "curator-decode" and t.is_alive()]


def _pass(path: Path, ahead: bool) -> tuple[list[np.ndarray], tuple]:
    # A frame this small decodes on the one thread running ahead, so the plain pass it is
    # compared with runs on one thread too: FFmpeg's frame threads conceal damage otherwise
    # (the frames that decode, and the counts, are the same either way).
    with VideoReader(path, threads=True if ahead else 1) as reader:
        frames = [f.to_ndarray(format="gray") for f in reader.raw_frames(ahead=ahead)]
        state = (reader.frames_decoded, reader.first_pts, reader.last_pts,
                 reader.decode_errors, reader.ended_early, reader.finish_warnings())
    return frames, state


@pytest.mark.parametrize("damaged", [False, True])
def test_ahead_gives_the_same_frames_counts_and_warnings(film: Path, tmp_path: Path,
                                                         damaged: bool) -> None:
    path = make_corrupt_middle(film, tmp_path / "damaged.mp4", seed=3) if damaged else film
    plain, plain_state = _pass(path, ahead=False)
    ahead, ahead_state = _pass(path, ahead=True)
    assert ahead_state == plain_state
    assert len(ahead) == len(plain) > 0
    assert all(np.array_equal(a, b) for a, b in zip(ahead, plain))
    assert not _decode_threads()


def test_a_reader_closed_mid_pass_stops_its_decode_thread_first(film: Path) -> None:
    reader = VideoReader(film)
    frames = reader.raw_frames(ahead=True)
    next(frames)
    assert _decode_threads()  # it runs ahead meanwhile
    reader.close()  # would free the decoder under the thread if it did not stop it first
    assert not _decode_threads()


def test_walking_away_from_the_frames_stops_the_thread(film: Path) -> None:
    with VideoReader(film) as reader:
        for index, _ in enumerate(reader.raw_frames(ahead=True)):
            if index == 3:
                break
        assert not _decode_threads()  # the abandoned iterator was closed by the for loop
        assert reader.frames_decoded < 90


def test_cancel_reaches_the_caller_from_the_decode_thread(film: Path) -> None:
    cancel = CancelToken()
    with VideoReader(film) as reader, pytest.raises(Cancelled):
        for index, _ in enumerate(reader.raw_frames(cancel, ahead=True)):
            if index == 5:
                cancel.cancel()
    assert not _decode_threads()


@pytest.mark.parametrize("batch", [1, 2, 4])
def test_run_ahead_hands_over_items_then_the_helpers_error_or_keeps_it_for_stop(batch: int):
    from curator.core.ahead import RunAhead

    def items():
        yield from (1, 2, 3)
        raise OSError("disk gone")

    ahead = RunAhead(items(), 1, "test-ahead", batch=batch)
    assert [ahead.get(), ahead.get(), ahead.get()] == [1, 2, 3]  # a last batch part-filled
    with pytest.raises(OSError, match="disk gone"):
        ahead.get()  # after the items before it, on the taker's thread
    assert ahead.ended and ahead.stop() is None  # already given
    untaken = RunAhead(items(), 4, "test-ahead")
    assert untaken.get() == 1
    untaken._thread.join(10)  # room for all: the helper runs into its error and ends
    assert isinstance(untaken.stop(), OSError)  # nobody was given it: stop says so


def test_stop_waits_for_the_item_in_hand_not_for_a_batch_to_fill():
    import itertools
    import time

    from curator.core.ahead import RunAhead

    gate, made = threading.Event(), []

    def items():
        for i in itertools.count():
            if i == 6:
                gate.wait(10)  # the helper is decoding item 6 when stop() comes
            made.append(i)
            yield i

    ahead = RunAhead(items(), 8, "test-ahead", batch=4)
    assert ahead.get() == 0
    stopper = threading.Thread(target=ahead.stop)
    stopper.start()
    deadline = time.monotonic() + 10
    while not ahead._stopped.is_set() and time.monotonic() < deadline:
        time.sleep(0.005)
    gate.set()
    stopper.join(10)
    assert not stopper.is_alive()
    assert made == list(range(7))  # item 7 was never made just to fill the batch


def test_small_frames_decode_ahead_on_one_thread_large_ones_on_ffmpegs(film: Path,
                                                                      tmp_path: Path) -> None:
    large = make_video(tmp_path / "large.mp4", [Segment("texture", 6, seed=1)],
                       size=(1280, 720)).path
    with VideoReader(film) as reader:
        next(reader.raw_frames(ahead=True))
        assert reader.stream.codec_context.thread_count == 1
    with VideoReader(large) as reader:
        next(reader.raw_frames(ahead=True))
        # FFmpeg's choice: one more than the cores
        assert reader.stream.codec_context.thread_count > 1 or os.cpu_count() == 1
    with VideoReader(film, threads=1) as reader:  # a reader in a pool of one process per core
        assert reader.stream.codec_context.thread_count == 1
