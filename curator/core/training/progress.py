"""Read a trainer's output lines into progress: step N/M, rate, loss, epoch, ETA, checkpoints.

musubi-tuner prints through `accelerator.print` (stdout) and `logging` (stderr,
`INFO:<module>:<message>`), and shows a tqdm bar on stderr, redrawn with carriage returns:

    steps:  12%|█▏        | 120/1000 [02:03<15:02,  1.03s/it, avr_loss=0.0812]

The training loop (`training/trainer_base.py`) prints `running training`, the item, batch, epoch
and step totals, `epoch 2/16` at each epoch, and `saving checkpoint: <file>`; the caching scripts
show a bar without a total (`45it [00:12,  3.61it/s]`). diffusion-pipe's DeepSpeed engine prints
`steps: 10 loss: 0.0812 iter time (s): 3.210 samples/sec: 0.311`.

The parser is a small state machine fed one line at a time; it never needs the whole log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

_TQDM_TOTAL = re.compile(
    r"(?P<pct>\d{1,3})%\|[^|]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*"
    r"\[(?P<elapsed>[\d:]+)<(?P<remaining>[\d:?]+),\s*(?P<rate>[^,\]]*?)\s*"
    r"(?:,(?P<postfix>[^\]]*))?\]")
_TQDM_NO_TOTAL = re.compile(
    r"(?P<n>\d+)it\s*\[(?P<elapsed>[\d:]+),\s*(?P<rate>[^,\]]*?)\s*(?:,(?P<postfix>[^\]]*))?\]")
_RATE = re.compile(r"(?P<value>[\d.]+)\s*(?P<unit>s/it|it/s)")
_POSTFIX_ITEM = re.compile(r"\s*(?P<key>[^=,]+?)\s*=\s*(?P<value>[^,]+)")
_LOG_PREFIX = re.compile(r"^(?:\d{4}-\d\d-\d\d[ T][\d:,.]+\s+)?(?:(?:INFO|WARNING|ERROR|DEBUG|"
                         r"CRITICAL)[: ]\s*(?:[\w.]+:)?\s*)")
_EPOCH = re.compile(r"^\s*epoch (?P<epoch>\d+)/(?P<total>\d+)\s*$")
_CHECKPOINT = re.compile(r"saving checkpoint: (?P<path>.+?)\s*$")
_REMOVED = re.compile(r"removing old checkpoint: (?P<path>.+?)\s*$")
_OVERRIDE_STEPS = re.compile(r"override steps\. steps for (?P<epochs>\d+) epochs is[^:]*:\s*"
                             r"(?P<n>\d+)")


def _count_line(label: str) -> re.Pattern[str]:
    """A line where the trainer logs a total before training: `<label> (in words): N`."""
    return re.compile(label + r"[^:]*:\s*(?P<n>\d+)")


# The totals musubi-tuner logs, in the order they are tried, and the field each one sets.
_COUNTS = ((_count_line("total optimization steps"), "total_steps"),
           (_count_line(r"^\s*num epochs"), "total_epochs"),
           (_count_line("num train items"), "items"),
           (_count_line("num batches per epoch"), "batches_per_epoch"))
_SAMPLING = re.compile(r"generating sample images at step[^:]*:\s*(?P<step>\d+)")
_ENCODING = re.compile(r"Encoding dataset \[(?P<index>\d+)\]")
_DEEPSPEED = re.compile(r"steps:\s*(?P<step>\d+)\s+loss:\s*(?P<loss>[-\d.eE+naif]+)"
                        r"(?:\s+iter time \(s\):\s*(?P<iter>[\d.]+))?")
_DP_EPOCH = re.compile(r"(?:Started new epoch|epoch):?\s*(?P<epoch>\d+)\b", re.IGNORECASE)
_ERROR = re.compile(r"^(?P<kind>(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Interrupt))"
                    r"(?::\s*(?P<message>.*))?$")


@dataclass(frozen=True)
class TqdmLine:
    """One tqdm redraw: counter, total, times in seconds, rate in items per second, postfix."""

    desc: str
    n: int
    total: int | None
    elapsed_s: float | None
    remaining_s: float | None
    rate: float | None  # items per second (a `1.03s/it` bar gives 1/1.03)
    postfix: dict[str, str]


def parse_clock(text: str) -> float | None:
    """`02:03` or `1:02:03` in seconds; None for tqdm's `?`."""
    if not text or "?" in text:
        return None
    try:
        parts = [int(x) for x in text.split(":")]
    except ValueError:
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return float(seconds)


def _parse_rate(text: str) -> float | None:
    m = _RATE.search(text or "")
    if not m:
        return None
    value = float(m.group("value"))
    if value <= 0:
        return None
    return value if m.group("unit") == "it/s" else 1.0 / value


def parse_tqdm(line: str) -> TqdmLine | None:
    """A tqdm progress line, with or without a total; None for any other line."""
    m = _TQDM_TOTAL.search(line)
    total: int | None = None
    remaining = None
    if m:
        total = int(m.group("total"))
        remaining = parse_clock(m.group("remaining"))
    else:
        m = _TQDM_NO_TOTAL.search(line)
        if not m:
            return None
    desc = line[:m.start()].strip().rstrip(":").strip()
    postfix = {}
    if m.group("postfix"):
        for item in _POSTFIX_ITEM.finditer(m.group("postfix")):
            postfix[item.group("key").strip()] = item.group("value").strip()
    return TqdmLine(desc=desc, n=int(m.group("n")), total=total,
                    elapsed_s=parse_clock(m.group("elapsed")), remaining_s=remaining,
                    rate=_parse_rate(m.group("rate")), postfix=postfix)


def strip_log_prefix(line: str) -> str:
    """`INFO:musubi_tuner.x:message` (or a rich/asctime form) -> `message`."""
    return _LOG_PREFIX.sub("", line, count=1)


@dataclass(frozen=True)
class TrainProgress:
    """Where a run stands, as far as its output says; fields stay None until a line tells."""

    phase: str = "starting"  # starting | caching | training | sampling | saving | finished
    step: int | None = None
    total_steps: int | None = None
    epoch: int | None = None
    total_epochs: int | None = None
    rate: float | None = None  # steps (or items while caching) per second
    loss: float | None = None
    elapsed_s: float | None = None
    eta_s: float | None = None
    items: int | None = None
    batches_per_epoch: int | None = None
    last_checkpoint: str | None = None
    last_error: str | None = None
    task_done: int | None = None  # caching / sampling counters, which are not training steps
    task_total: int | None = None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if self.step is None or not self.total_steps:
            return None
        return min(1.0, self.step / self.total_steps)

    @property
    def seconds_per_step(self) -> float | None:
        return 1.0 / self.rate if self.rate else None

    def summary(self) -> str:
        """One line for a status bar or a terminal."""
        parts = [self.phase]
        if self.epoch is not None:
            parts.append(f"epoch {self.epoch}/{self.total_epochs or '?'}")
        if self.step is not None:
            parts.append(f"step {self.step}/{self.total_steps or '?'}")
        elif self.task_done is not None:
            parts.append(f"{self.task_done}/{self.task_total}" if self.task_total
                         else f"{self.task_done}")
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4f}")
        if self.rate:
            parts.append(f"{self.rate:.2f} it/s" if self.rate >= 1
                         else f"{1 / self.rate:.2f} s/it")
        if self.eta_s is not None:
            parts.append(f"ETA {format_duration(self.eta_s)}")
        return " · ".join(parts)

    def to_json(self) -> dict[str, object]:
        data = dict(self.__dict__)
        data["fraction"] = self.fraction
        return data


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _logged_count(text: str) -> dict[str, int] | None:
    """The TrainProgress field a total-count line sets, and its value; None for other lines."""
    for pattern, field_name in _COUNTS:
        if m := pattern.search(text):
            return {field_name: int(m.group("n"))}
    return None


@dataclass
class ProgressParser:
    """Feed output lines in order; `feed` returns the new state when a line changed it.

    `losses` keeps (step, loss) once per step for a loss plot; `checkpoints` the files saved.
    """

    state: TrainProgress = field(default_factory=TrainProgress)
    losses: list[tuple[int, float]] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    caching: bool = False  # set for the cache steps, whose bars count items, not steps

    def feed(self, line: str) -> TrainProgress | None:
        """Read one line (without its newline or carriage return).

        Returns:
            The updated progress, or None when the line carried nothing new.
        """
        before = self.state
        text = line.strip()
        if not text:
            return None
        bar = parse_tqdm(text)
        if bar is not None:
            self._on_bar(bar)
        else:
            self._on_text(strip_log_prefix(text))
        return self.state if self.state != before else None

    def _set(self, **changes: object) -> None:
        # "model saved." ends a run. The trainer prints to stdout and logs to stderr; two
        # pipes keep no order between them, so a checkpoint line written just before the end
        # may be read after it and must not take the run back to "saving".
        if self.state.phase == "finished":
            changes.pop("phase", None)
        self.state = replace(self.state, **changes)

    def _on_bar(self, bar: TqdmLine) -> None:
        if bar.desc == "steps" and not self.caching:
            loss = self.state.loss
            for key in ("avr_loss", "loss"):
                if key in bar.postfix:
                    try:
                        loss = float(bar.postfix[key])
                    except ValueError:
                        pass
                    break
            eta = bar.remaining_s
            if eta is None and bar.rate and bar.total:
                eta = (bar.total - bar.n) / bar.rate
            epoch = self.state.epoch
            if epoch is None and self.state.batches_per_epoch and bar.n:
                epoch = min(self.state.total_epochs or 10**9,
                            (bar.n - 1) // self.state.batches_per_epoch + 1)
            self._set(phase="training", step=bar.n, total_steps=bar.total or
                      self.state.total_steps, rate=bar.rate or self.state.rate, loss=loss,
                      elapsed_s=bar.elapsed_s, eta_s=eta, epoch=epoch)
            if loss is not None and bar.n > 0 and (not self.losses or self.losses[-1][0] != bar.n):
                self.losses.append((bar.n, loss))
            return
        # Any other bar: caching, or the sampler's per-prompt denoising steps.
        phase = self.state.phase
        if self.caching or phase in ("starting", "caching"):
            phase = "caching"
        eta = bar.remaining_s
        changes: dict[str, object] = {"phase": phase, "task_done": bar.n,
                                      "task_total": bar.total}
        if phase == "caching":
            changes.update(rate=bar.rate, eta_s=eta, elapsed_s=bar.elapsed_s)
        self._set(**changes)

    def _on_text(self, text: str) -> None:
        if m := _EPOCH.match(text):
            self._set(epoch=int(m.group("epoch")), total_epochs=int(m.group("total")),
                      phase="training", message=text)
        elif m := _CHECKPOINT.search(text):
            path = m.group("path")
            self.checkpoints.append(path)
            self._set(last_checkpoint=path, phase="saving", message=text)
        elif m := _REMOVED.search(text):
            self._set(message=text)
        elif m := _OVERRIDE_STEPS.search(text):
            self._set(total_steps=int(m.group("n")), total_epochs=int(m.group("epochs")))
        elif count := _logged_count(text):
            self._set(**count)
        elif text.startswith("running training"):
            self._set(phase="training", message=text)
        elif m := _SAMPLING.search(text):
            self._set(phase="sampling", task_done=None, task_total=None, message=text)
        elif m := _ENCODING.search(text):
            self._set(phase="caching", message=text)
        elif text == "model saved.":
            self._set(phase="finished", message=text)
        elif m := _DEEPSPEED.search(text):
            step = int(m.group("step"))
            try:
                loss: float | None = float(m.group("loss"))
            except ValueError:
                loss = self.state.loss
            rate = self.state.rate
            if m.group("iter"):
                iter_s = float(m.group("iter"))
                rate = 1.0 / iter_s if iter_s > 0 else rate
            eta = None
            if rate and self.state.total_steps:
                eta = max(0.0, (self.state.total_steps - step) / rate)
            self._set(phase="training", step=step, loss=loss, rate=rate, eta_s=eta)
            if loss is not None and (not self.losses or self.losses[-1][0] != step):
                self.losses.append((step, loss))
        elif m := _ERROR.match(text):
            # accelerate's launcher adds its own CalledProcessError after the trainer's error;
            # the trainer's line ("torch.OutOfMemoryError: ...") is the one that says why.
            if not (self.state.last_error and m.group("kind").endswith("CalledProcessError")):
                self._set(last_error=text, message=text)
        elif (m := _DP_EPOCH.match(text)) and "new epoch" in text.lower():
            self._set(epoch=int(m.group("epoch")), phase="training", message=text)
