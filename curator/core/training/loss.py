"""Loss of a training run: the smoothed step curve and the loss distribution of each epoch.

A person reads a LoRA's loss mainly for one sign: when the losses of consecutive epochs have
nearly the same distribution, the model has stopped learning anything general and starts to
memorise (or has stalled). `split_epochs` groups the logged values by epoch with their
quartiles, and `epoch_distances` gives, for each epoch, the two-sample Kolmogorov–Smirnov
distance to the epoch before (0: the same distribution, 1: no overlap at all).

What the values are depends on the trainer's log: musubi-tuner's bar shows `avr_loss`, the
mean of the last epoch's worth of step losses (sd-scripts' LossRecorder), so its per-epoch
spread is narrower than that of the raw step losses; diffusion-pipe prints each step's loss.
The log is read with `ProgressParser`, the same reader as the live Train tab.

Everything here is Qt-free; the Train tab's loss view only draws it.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from curator.core.training.progress import ProgressParser

DEFAULT_SMOOTHING = 0.6

_REDRAW = re.compile(r"[\r\n]+")


def smooth(values: Sequence[float], weight: float = DEFAULT_SMOOTHING) -> list[float]:
    """TensorBoard's debiased exponential moving average (weight 0 = no smoothing).

    The debiasing divides by `1 - weight**n`, so the first points are not pulled toward 0;
    a non-finite value repeats the last smoothed one (a nan step must not poison the curve).
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError("weight must be in [0, 1)")
    out: list[float] = []
    last = 0.0
    n = 0
    for value in values:
        if not math.isfinite(value):
            out.append(out[-1] if out else value)
            continue
        n += 1
        last = last * weight + (1.0 - weight) * value
        out.append(last / (1.0 - weight ** n) if weight else last)
    return out


def format_loss(value: float) -> str:
    """Enough digits to tell neighbouring values apart without noise ('0.085', '1.2e-05')."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100 or magnitude < 1e-3:
        return f"{value:.2g}" if magnitude >= 100 else f"{value:.1e}"
    return f"{value:.4f}".rstrip("0").rstrip(".") if magnitude < 1 else f"{value:.2f}"


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolated linearly (numpy's default method)."""
    if not sorted_values:
        raise ValueError("no values")
    pos = (len(sorted_values) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


@dataclass(frozen=True)
class EpochLosses:
    """The loss values logged during one epoch, and their five-number summary."""

    epoch: int                 # from 1
    steps: tuple[int, ...]
    losses: tuple[float, ...]  # finite values only

    @property
    def count(self) -> int:
        return len(self.losses)

    def summary(self) -> tuple[float, float, float, float, float]:
        """(min, first quartile, median, third quartile, max)."""
        values = sorted(self.losses)
        return (values[0], quantile(values, 0.25), quantile(values, 0.5),
                quantile(values, 0.75), values[-1])

    @property
    def mean(self) -> float:
        return sum(self.losses) / len(self.losses)


def epoch_of(step: int, steps_per_epoch: float) -> int:
    """The epoch (from 1) a training step (from 1) belongs to."""
    if steps_per_epoch <= 0:
        raise ValueError("steps_per_epoch must be positive")
    # a step exactly on a boundary ends its epoch; the tolerance absorbs 12/7-style fractions
    return max(1, math.ceil(step / steps_per_epoch - 1e-9))


def split_epochs(points: Iterable[tuple[int, float]], steps_per_epoch: float | None,
                 epoch_starts: dict[int, int] | None = None) -> list[EpochLosses]:
    """Group (step, loss) points by epoch; epochs without a finite value are left out.

    Args:
        points: (step, loss) pairs.
        steps_per_epoch: steps in each epoch; None while not known (all in epoch 1).
        epoch_starts: epoch -> its first step, as the log announced them (a run without
            a step total, such as diffusion-pipe's); it wins over `steps_per_epoch`.
    """
    starts = sorted((step, epoch) for epoch, step in (epoch_starts or {}).items())
    first_steps = [step for step, _ in starts]
    groups: dict[int, tuple[list[int], list[float]]] = {}
    for step, loss in points:
        if not math.isfinite(loss):
            continue
        if starts:
            at = bisect.bisect_right(first_steps, step) - 1
            epoch = starts[at][1] if at >= 0 else starts[0][1]
        else:
            epoch = epoch_of(step, steps_per_epoch) if steps_per_epoch else 1
        steps, losses = groups.setdefault(epoch, ([], []))
        steps.append(step)
        losses.append(loss)
    return [EpochLosses(epoch, tuple(s), tuple(v)) for epoch, (s, v) in sorted(groups.items())]


def ks_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """The two-sample Kolmogorov–Smirnov statistic: the largest gap between the two CDFs.

    0 when the samples have the same distribution, 1 when every value of one lies below
    every value of the other.
    """
    if not a or not b:
        raise ValueError("both samples need values")
    xs, ys = sorted(a), sorted(b)
    gap = 0.0
    for v in xs + ys:
        cdf_a = bisect.bisect_right(xs, v) / len(xs)
        cdf_b = bisect.bisect_right(ys, v) / len(ys)
        gap = max(gap, abs(cdf_a - cdf_b))
    return gap


def epoch_distances(epochs: Sequence[EpochLosses]) -> list[float | None]:
    """For each epoch, its KS distance to the epoch before (None for the first one)."""
    out: list[float | None] = [None] * len(epochs)
    for i in range(1, len(epochs)):
        if epochs[i - 1].epoch == epochs[i].epoch - 1:
            out[i] = ks_distance(epochs[i - 1].losses, epochs[i].losses)
    return out


@dataclass(frozen=True)
class LossLog:
    """What a trainer's log says about its loss."""

    points: list[tuple[int, float]]  # (step, loss), once per step
    total_steps: int | None
    total_epochs: int | None
    steps_per_epoch: float | None
    epoch_starts: dict[int, int]     # epoch -> the first step logged in it

    def epochs(self) -> list[EpochLosses]:
        return split_epochs(self.points, self.steps_per_epoch, self.epoch_starts)


def steps_per_epoch(total_steps: int | None, total_epochs: int | None,
                    batches_per_epoch: int | None = None) -> float | None:
    """Optimiser steps per epoch: total / epochs when both are known (gradient accumulation
    makes it fewer than the batches), else the batches per epoch, else None."""
    if total_steps and total_epochs:
        return total_steps / total_epochs
    return float(batches_per_epoch) if batches_per_epoch else None


def parse_loss_log(text: str) -> LossLog:
    """Read a whole trainer log (musubi-tuner or diffusion-pipe output, tqdm redraws included)."""
    parser = ProgressParser()
    announced: int | None = None
    starts: dict[int, int] = {}
    for line in _REDRAW.split(text):
        # tqdm redraws one bar after another on one line: each `steps:` starts a new one
        for piece in re.split(r"(?=steps:\s)", line):
            parser.feed(piece)
            epoch = parser.state.epoch
            if epoch is not None and epoch != announced and not piece.lstrip().startswith(
                    "steps:"):
                announced = epoch  # an "epoch 2/16" line: its first step is the next one
                starts.setdefault(epoch, (parser.losses[-1][0] + 1) if parser.losses else 1)
    state = parser.state
    return LossLog(points=list(parser.losses), total_steps=state.total_steps,
                   total_epochs=state.total_epochs,
                   steps_per_epoch=steps_per_epoch(state.total_steps, state.total_epochs,
                                                   state.batches_per_epoch),
                   epoch_starts=starts)


def read_loss_log(path: Path) -> LossLog:
    """`parse_loss_log` of a finished run's log file (undecodable bytes replaced)."""
    return parse_loss_log(Path(path).read_text(encoding="utf-8", errors="replace"))
