"""Loss aggregation for the loss view: smoothing, epochs, their distributions and distances."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from curator.core.training.loss import (
    epoch_distances,
    epoch_of,
    ks_distance,
    parse_loss_log,
    quantile,
    read_loss_log,
    smooth,
    split_epochs,
    steps_per_epoch,
)
from curator.core.training.progress import ProgressParser

DATA = Path(__file__).resolve().parents[1] / "data" / "training"
MUSUBI = DATA / "musubi_train_wan21_t2v_14b.log"
MUSUBI_LOSSES = [0.1243, 0.1187, 0.1102, 0.1066, 0.1031, 0.0987,
                 0.0975, 0.0948, 0.0931, 0.0912, 0.0896, 0.0871]


def test_smoothing_is_tensorboards_debiased_ema() -> None:
    values = [0.3, 0.1, 0.2, 0.05]
    w = 0.6
    expected, last = [], 0.0
    for n, v in enumerate(values, start=1):
        last = last * w + (1 - w) * v
        expected.append(last / (1 - w ** n))
    assert smooth(values, w) == pytest.approx(expected)
    assert smooth(values, 0.0) == values
    assert smooth([0.2, math.nan, 0.2], 0.9) == pytest.approx([0.2, 0.2, 0.2])
    with pytest.raises(ValueError):
        smooth(values, 1.0)


def test_quantiles_match_numpy() -> None:
    rng = random.Random(3)
    for n in (1, 2, 5, 40):
        values = sorted(rng.random() for _ in range(n))
        for q in (0.0, 0.25, 0.5, 0.75, 1.0):
            assert quantile(values, q) == pytest.approx(float(np.quantile(values, q)))


def test_ks_distance_against_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(7)
    for _ in range(20):
        a = [rng.gauss(0.10, 0.02) for _ in range(rng.randint(1, 40))]
        b = [rng.gauss(0.11, 0.02) for _ in range(rng.randint(1, 40))]
        assert ks_distance(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert ks_distance([1, 2, 3], [1, 2, 3]) == 0.0
    assert ks_distance([1, 2], [3, 4]) == 1.0


def test_steps_fall_in_epochs_by_count_or_by_the_logs_epoch_lines() -> None:
    assert [epoch_of(s, 6) for s in (1, 6, 7, 12, 13)] == [1, 1, 2, 2, 3]
    # 12 steps over 7 epochs (gradient accumulation): fractional epochs, no step lost
    assert [epoch_of(s, 12 / 7) for s in range(1, 13)] == [1, 2, 2, 3, 3, 4, 5, 5, 6, 6, 7, 7]
    assert steps_per_epoch(12, 2, 6) == 6.0 and steps_per_epoch(None, 2, 5) == 5.0
    assert steps_per_epoch(None, None) is None
    points = [(s, 0.1) for s in range(1, 8)] + [(8, math.nan)]
    by_count = split_epochs(points, 3)
    assert [(e.epoch, e.steps) for e in by_count] == [(1, (1, 2, 3)), (2, (4, 5, 6)), (3, (7,))]
    by_lines = split_epochs(points, 3, {1: 1, 2: 5})
    assert [(e.epoch, e.steps) for e in by_lines] == [(1, (1, 2, 3, 4)), (2, (5, 6, 7))]
    assert [e.epoch for e in split_epochs(points, None)] == [1]


def test_recorded_musubi_log_gives_two_epochs_and_their_distance() -> None:
    log = read_loss_log(MUSUBI)
    assert [v for _, v in log.points] == MUSUBI_LOSSES
    assert (log.total_steps, log.total_epochs, log.steps_per_epoch) == (12, 2, 6.0)
    assert log.epoch_starts == {1: 1, 2: 7}
    epochs = log.epochs()
    assert [(e.epoch, e.steps) for e in epochs] == [(1, (1, 2, 3, 4, 5, 6)),
                                                     (2, (7, 8, 9, 10, 11, 12))]
    first = epochs[0].summary()
    assert first == pytest.approx(tuple(np.quantile(MUSUBI_LOSSES[:6], [0, .25, .5, .75, 1])))
    # every loss of epoch 2 lies below every loss of epoch 1: as far apart as can be
    assert epoch_distances(epochs) == [None, 1.0]


def test_the_live_feed_and_the_finished_log_agree() -> None:
    # the Train tab feeds the parser line by line and splits by total steps / epochs
    parser = ProgressParser()
    for raw in MUSUBI.read_text(encoding="utf-8").splitlines():
        for piece in raw.replace("steps:", "\nsteps:").splitlines():
            parser.feed(piece)
    live = split_epochs(parser.losses, steps_per_epoch(parser.state.total_steps,
                                                       parser.state.total_epochs))
    assert live == read_loss_log(MUSUBI).epochs()


def test_diffusion_pipe_epochs_come_from_its_epoch_lines() -> None:
    log = read_loss_log(DATA / "diffusion_pipe_train.log")
    assert log.points == [(1, 0.1321), (2, 0.1207), (3, 0.1188)]
    assert log.steps_per_epoch is None and log.epoch_starts == {1: 1}
    assert [e.epoch for e in log.epochs()] == [1]


def test_a_log_without_steps_has_no_epochs() -> None:
    log = read_loss_log(DATA / "musubi_train_oom.log")
    assert log.points == [] and log.epochs() == []
    assert parse_loss_log("").points == []
