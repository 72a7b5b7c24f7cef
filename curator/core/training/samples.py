"""The sample videos and images a training run wrote, grouped for picking the best checkpoint.

musubi-tuner saves samples in `<output_dir>/sample` (training/trainer_base.py
`sample_image_inference`) as

    <output_name>_e<epoch:06d>_<prompt:02d>_<YYYYmmddHHMMSS>[_<seed>].mp4   (per-epoch sampling)
    <output_name>_<step:06d>_<prompt:02d>_<YYYYmmddHHMMSS>[_<seed>].mp4     (per-step sampling)

and a one-frame sample as the same name plus `_<frame:03d>.png`. `--sample_at_first` writes
epoch 0. Checkpoints are `<name>-<epoch:06d>.safetensors`, `<name>-step<step:08d>.safetensors`
and, at the end, `<name>.safetensors`. This works on a finished run's folder as well as a live one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".gif")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")

_SAMPLE_RE = re.compile(
    r"^(?:(?P<name>.*)_)?(?:e(?P<epoch>\d{6,})|(?P<step>\d{6,}))_(?P<prompt>\d{2,})"
    r"_(?P<ts>\d{14})(?:_(?P<seed>\d+))?$")
_FRAME_RE = re.compile(r"^(?P<stem>.+)_(?P<frame>\d{3})$")


@dataclass(frozen=True, order=True)
class Checkpoint:
    """A point of the run that has samples: an epoch, or a step for per-step sampling."""

    kind: str  # "epoch" or "step" (epochs sort first: a run rarely mixes the two)
    number: int

    @property
    def label(self) -> str:
        return f"{self.kind} {self.number}"


@dataclass(frozen=True)
class SampleFile:
    """One sample file with what its name says."""

    path: Path
    output_name: str | None
    checkpoint: Checkpoint
    prompt_index: int
    created: datetime | None
    seed: int | None
    is_video: bool
    frame: int | None = None


def parse_sample_name(path: Path) -> SampleFile | None:
    """What a sample's file name says, or None for a file the trainer did not name."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES + IMAGE_SUFFIXES:
        return None
    stem, frame = path.stem, None
    if suffix in IMAGE_SUFFIXES:
        m = _FRAME_RE.match(stem)
        if m and _SAMPLE_RE.match(m.group("stem")):
            stem, frame = m.group("stem"), int(m.group("frame"))
    m = _SAMPLE_RE.match(stem)
    if not m:
        return None
    if m.group("epoch") is not None:
        checkpoint = Checkpoint("epoch", int(m.group("epoch")))
    else:
        checkpoint = Checkpoint("step", int(m.group("step")))
    try:
        created = datetime.strptime(m.group("ts"), "%Y%m%d%H%M%S")
    except ValueError:
        created = None
    return SampleFile(path=path, output_name=m.group("name"), checkpoint=checkpoint,
                      prompt_index=int(m.group("prompt")), created=created,
                      seed=int(m.group("seed")) if m.group("seed") else None,
                      is_video=suffix in VIDEO_SUFFIXES, frame=frame)


def scan_samples(output_dir: Path, *, output_name: str | None = None) -> list[SampleFile]:
    """Every sample in `<output_dir>/sample` (or `output_dir` itself if it is that folder).

    Args:
        output_dir: the run's output folder.
        output_name: keep only samples of this LoRA name (one folder may hold several runs).

    Returns:
        Samples sorted by checkpoint, prompt, then time; an empty list when there are none yet.
    """
    folder = Path(output_dir)
    if (folder / "sample").is_dir():
        folder = folder / "sample"
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if not path.is_file():
            continue
        sample = parse_sample_name(path)
        if sample is None:
            continue
        if output_name is not None and sample.output_name != output_name:
            continue
        found.append(sample)
    found.sort(key=lambda s: (s.checkpoint, s.prompt_index, s.created or datetime.min,
                              s.frame or 0))
    return found


@dataclass
class SampleGallery:
    """Samples as a grid: one row per prompt, one column per checkpoint.

    When a prompt was sampled twice at one checkpoint (a resumed run), the newest file wins;
    a still sample is represented by its first frame.
    """

    checkpoints: list[Checkpoint] = field(default_factory=list)
    prompts: list[int] = field(default_factory=list)
    cells: dict[tuple[int, Checkpoint], SampleFile] = field(default_factory=dict)
    prompt_texts: dict[int, str] = field(default_factory=dict)

    def row(self, prompt_index: int) -> list[SampleFile | None]:
        """One prompt across every checkpoint (None where that checkpoint has no sample)."""
        return [self.cells.get((prompt_index, c)) for c in self.checkpoints]

    def column(self, checkpoint: Checkpoint) -> list[SampleFile | None]:
        return [self.cells.get((p, checkpoint)) for p in self.prompts]

    def __len__(self) -> int:
        return len(self.cells)


def build_gallery(samples: Iterable[SampleFile],
                  prompt_texts: Sequence[str] | None = None) -> SampleGallery:
    """Group samples by prompt across checkpoints.

    Args:
        samples: from `scan_samples`.
        prompt_texts: the prompts in file order (the trainer numbers them from 0), for labels.
    """
    gallery = SampleGallery()
    for sample in samples:
        if sample.frame not in (None, 0):
            continue
        key = (sample.prompt_index, sample.checkpoint)
        current = gallery.cells.get(key)
        if current is None or (sample.created or datetime.min) >= (current.created or
                                                                   datetime.min):
            gallery.cells[key] = sample
    gallery.checkpoints = sorted({c for _, c in gallery.cells})
    gallery.prompts = sorted({p for p, _ in gallery.cells})
    if prompt_texts:
        gallery.prompt_texts = {i: text for i, text in enumerate(prompt_texts)}
    return gallery


def checkpoint_file(output_dir: Path, output_name: str, checkpoint: Checkpoint, *,
                    last_epoch: int | None = None) -> Path | None:
    """The LoRA file saved at a checkpoint, if it is on disk.

    The trainer saves no epoch file for the last epoch: that one is `<name>.safetensors`, so
    pass `last_epoch` to map it.
    """
    folder = Path(output_dir)
    if checkpoint.kind == "epoch":
        candidates = [folder / f"{output_name}-{checkpoint.number:06d}.safetensors"]
        if last_epoch is not None and checkpoint.number == last_epoch:
            candidates.append(folder / f"{output_name}.safetensors")
    else:
        candidates = [folder / f"{output_name}-step{checkpoint.number:08d}.safetensors"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def list_checkpoints(output_dir: Path, output_name: str) -> list[tuple[Checkpoint | None, Path]]:
    """The LoRA files of a run, oldest first; the final `<name>.safetensors` has no checkpoint."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    epoch_re = re.compile(rf"^{re.escape(output_name)}-(?P<n>\d{{6}})\.safetensors$")
    step_re = re.compile(rf"^{re.escape(output_name)}-step(?P<n>\d{{8}})\.safetensors$")
    found: list[tuple[Checkpoint | None, Path]] = []
    for path in folder.iterdir():
        if m := epoch_re.match(path.name):
            found.append((Checkpoint("epoch", int(m.group("n"))), path))
        elif m := step_re.match(path.name):
            found.append((Checkpoint("step", int(m.group("n"))), path))
    found.sort(key=lambda item: item[0])  # type: ignore[arg-type, return-value]
    last = folder / f"{output_name}.safetensors"
    if last.is_file():
        found.append((None, last))
    return found
