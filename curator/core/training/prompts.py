"""The sample-prompt file, in musubi-tuner's own line syntax (TRAINERS.md §2.5).

One prompt per line: the text, then options written ` --x value`, e.g.

    Studio Ghibli style. a fox in snow --w 832 --h 480 --f 33 --d 42 --s 20 --l 5.0 --fs 3.0

The trainer splits each line on `" --"`, skips blank lines and lines starting with `#`, rounds
`--w/--h` down to multiples of 8 and `--f` to 4n+1 without a word, and falls back to a flow shift
of 14.5 for Wan. So Curator checks what the trainer silently changes: sizes multiples of 16, frames
4n+1, and `--fs` and `--l` always written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .profile import TrainingProfile, default_cfg_scale, is_i2v
from .validate import Problem

# The trainer's option keys in the order it tries them (sampling_prompts.line_to_prompt_dict).
_OPTION_RE = re.compile(r"^(w|h|f|d|s|g|fs|l|n|i|ei|cn|ci|of) (.+)$", re.IGNORECASE | re.DOTALL)
_INT_KEYS = {"w": "width", "h": "height", "f": "frames", "d": "seed", "s": "steps"}
_FLOAT_KEYS = {"g": "guidance", "fs": "flow_shift", "l": "cfg_scale"}
_TEXT_KEYS = {"n": "negative", "i": "image", "ei": "end_image", "cn": "control_video",
              "of": "one_frame"}
# The trainer runs its option regexes on the prompt text too, so text that starts like one of
# these is taken as that option as well ("I walk ..." sets an image path "walk ...").
_TRAINER_RES = [re.compile(r, re.IGNORECASE) for r in (
    r"w (\d+)", r"h (\d+)", r"f (\d+)", r"d (\d+)", r"s (\d+)", r"g ([\d\.]+)",
    r"fs ([\d\.]+)", r"l ([\d\.]+)", r"n (.+)", r"i (.+)", r"ei (.+)", r"cn (.+)", r"ci (.+)",
    r"of (.+)")]


@dataclass
class SamplePrompt:
    """One line of the sample-prompt file; None means "not written" (the trainer's default)."""

    prompt: str
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    seed: int | None = None
    steps: int | None = None
    flow_shift: float | None = None
    cfg_scale: float | None = None
    negative: str | None = None
    guidance: float | None = None
    image: str | None = None
    end_image: str | None = None
    control_video: str | None = None
    control_images: list[str] = field(default_factory=list)
    one_frame: str | None = None
    line_no: int | None = None  # where it was read, for messages

    def to_line(self) -> str:
        """The prompt in the trainer's syntax; numbers are written as the trainer parses them."""
        parts = [self.prompt.strip()]

        def add(key: str, value: object) -> None:
            if value is not None:
                parts.append(f"--{key} {value}")

        add("w", self.width)
        add("h", self.height)
        add("f", self.frames)
        add("d", self.seed)
        add("s", self.steps)
        add("l", None if self.cfg_scale is None else _float_text(self.cfg_scale))
        add("fs", None if self.flow_shift is None else _float_text(self.flow_shift))
        add("g", None if self.guidance is None else _float_text(self.guidance))
        add("n", self.negative)
        add("i", self.image)
        add("ei", self.end_image)
        add("cn", self.control_video)
        for image in self.control_images:
            add("ci", image)
        add("of", self.one_frame)
        return " ".join(parts)


def _float_text(value: float) -> str:
    # The trainer's regex for --l/--fs/--g is `[\d\.]+`: no sign, no exponent.
    text = f"{float(value):.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


class PromptSyntaxError(ValueError):
    """A line the trainer would misread; the message names the line and the fix."""


def parse_prompt_line(line: str, line_no: int | None = None) -> SamplePrompt:
    """Read one line the way the trainer does (split on `" --"`), but strictly.

    Raises:
        PromptSyntaxError: an unknown option or a value the trainer would drop or misread.
    """
    where = f"line {line_no}: " if line_no is not None else ""
    parts = line.strip().split(" --")
    prompt = SamplePrompt(prompt=parts[0].strip(), line_no=line_no)
    for part in parts[1:]:
        m = _OPTION_RE.match(part.strip())
        if not m:
            raise PromptSyntaxError(
                f"{where}unknown option '--{part.strip()}'; the trainer knows --w --h --f --d --s "
                f"--l --fs --g --n --i --ei --cn --ci --of (a prompt must not contain ' --')")
        key, value = m.group(1).lower(), m.group(2).strip()
        if key in _INT_KEYS:
            if not value.isdigit():
                raise PromptSyntaxError(f"{where}--{key} {value}: write a whole number (the "
                                        f"trainer reads only the digits)")
            setattr(prompt, _INT_KEYS[key], int(value))
        elif key in _FLOAT_KEYS:
            if not re.fullmatch(r"[\d.]+", value) or value.count(".") > 1:
                raise PromptSyntaxError(f"{where}--{key} {value}: write a plain number like "
                                        f"5.0 (no sign or exponent)")
            setattr(prompt, _FLOAT_KEYS[key], float(value))
        elif key == "ci":
            prompt.control_images.append(value)
        else:
            setattr(prompt, _TEXT_KEYS[key], value)
    return prompt


def parse_prompts(text: str) -> list[SamplePrompt]:
    """Every prompt of a `.txt` prompt file; blank lines and `#` lines are skipped as the trainer
    does (it checks the raw first character, so an indented `#` line is a prompt).

    Raises:
        PromptSyntaxError: on the first line the trainer would misread.
    """
    prompts = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw[0] == "#":
            continue
        prompts.append(parse_prompt_line(raw, number))
    return prompts


def read_prompt_file(path: Path) -> list[SamplePrompt]:
    """Read a `.txt` sample-prompt file.

    Raises:
        OSError: the file cannot be read.
        PromptSyntaxError: a line the trainer would misread.
    """
    return parse_prompts(Path(path).read_text(encoding="utf-8"))


def format_prompts(prompts: Sequence[SamplePrompt], *, header: str = "") -> str:
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    lines += [p.to_line() for p in prompts]
    return "\n".join(lines) + "\n"


def write_prompt_file(path: Path, prompts: Sequence[SamplePrompt], *, header: str = "") -> Path:
    """Write prompts in the trainer's syntax, to a `.txt` file (the trainer parses by suffix).

    Raises:
        PromptSyntaxError: a prompt that would not read back the same (see `validate_prompts`).
    """
    path = Path(path)
    if path.suffix.lower() != ".txt":
        raise PromptSyntaxError(f"{path.name}: the trainer reads this syntax only from a .txt file")
    for p in prompts:
        if "\n" in p.prompt or " --" in p.prompt:
            raise PromptSyntaxError(f"prompt {p.prompt[:40]!r}: a line break or ' --' would "
                                    f"split it; remove it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_prompts(prompts, header=header), encoding="utf-8")
    return path


def default_prompt_path(project_root: Path, profile_name: str) -> Path:
    """Where the Train tab keeps sample prompts: `<project>/training/<name>.prompts.txt`."""
    return Path(project_root) / "training" / f"{profile_name}.prompts.txt"


def sample_prompt_file(project_root: Path, profile: TrainingProfile) -> Path:
    """The profile's sample-prompt file: its `[sampling] prompts` (relative paths from the
    project folder), else `default_prompt_path` (what the Train tab shows and saves)."""
    if profile.sample_prompts:
        path = Path(profile.sample_prompts).expanduser()
        return path if path.is_absolute() else Path(project_root) / path
    return default_prompt_path(project_root, profile.name)


# The seed author's options for expanded prompts: small and short, so samples render fast.
EXPANDED_SAMPLE_OPTIONS = {"width": 384, "height": 384, "frames": 45, "seed": 7, "steps": 20}


def sample_prompt_like(text: str, existing: Sequence[SamplePrompt], *, task: str = "t2v-14B",
                       **given: int | None) -> SamplePrompt:
    """`text` with sample options: those given, else the first existing prompt's, else
    `EXPANDED_SAMPLE_OPTIONS`; `--fs` and `--l` are always written (see `make_prompt`).

    Taking the file's own options keeps every sample of a run the same size and length, so
    the gallery compares like with like.

    Args:
        text: the prompt text.
        existing: the prompts already in the file.
        task: the run's `--task` (the default `--l` depends on it).
        **given: width, height, frames, seed, steps; None means "not given".
    """
    first = existing[0] if existing else None
    values: dict[str, int | None] = {}
    for key, default in EXPANDED_SAMPLE_OPTIONS.items():
        value = given.get(key)
        if value is None and first is not None and getattr(first, key) is not None:
            value = getattr(first, key)
        values[key] = default if value is None else value
    return make_prompt(text, task=task, width=int(values["width"]),
                       height=int(values["height"]), frames=int(values["frames"]),
                       seed=values["seed"], steps=int(values["steps"]),
                       flow_shift=first.flow_shift if first is not None else None,
                       cfg_scale=first.cfg_scale if first is not None else None)


def append_prompt_line(text: str, prompt: SamplePrompt) -> str:
    """A prompt file's text with one more prompt line at the end (the lines there kept as is).

    Raises:
        PromptSyntaxError: the prompt's text holds a line break or ' --', which would split it.
    """
    if "\n" in prompt.prompt or " --" in prompt.prompt or not prompt.prompt.strip():
        raise PromptSyntaxError(f"prompt {prompt.prompt[:40]!r}: empty, or a line break or "
                                f"' --' would split it")
    head = text if not text.strip() or text.endswith("\n") else text + "\n"
    return (head if text.strip() else "") + prompt.to_line() + "\n"


def add_sample_prompt(project_root: Path, profile: TrainingProfile, text: str,
                      **given: int | None) -> tuple[Path, SamplePrompt]:
    """Append `text`, with its sample options, to the profile's sample-prompt file.

    Args:
        project_root: the project folder (relative prompt paths start there).
        profile: the training profile whose file gets the line.
        text: the prompt text (one line, trigger first).
        **given: width, height, frames, seed, steps (see `sample_prompt_like`).

    Returns:
        The file written and the prompt added.

    Raises:
        OSError: the file cannot be read or written.
        PromptSyntaxError: the file has a line the trainer would misread (it names the file and
            line), or the text would split.
    """
    from curator.core.export.plan import write_text_atomic  # one atomic writer, imported when used

    path = sample_prompt_file(project_root, profile)
    if path.suffix.lower() != ".txt":
        raise PromptSyntaxError(f"{path}: Curator adds prompts to .txt prompt files only")
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        existing = parse_prompts(before)
    except PromptSyntaxError as exc:
        raise PromptSyntaxError(f"{path}: {exc}") from exc
    prompt = sample_prompt_like(text, existing, task=profile.task, **given)
    write_text_atomic(path, append_prompt_line(before, prompt))
    return path, prompt


def default_flow_shift(width: int, height: int) -> float:
    """Wan's usual inference shift: 3.0 up to 480p, 5.0 above (its generate defaults)."""
    return 3.0 if width * height <= 832 * 480 else 5.0


def make_prompt(text: str, *, task: str = "t2v-14B", width: int = 832, height: int = 480,
                frames: int = 33, seed: int | None = 42, steps: int = 20,
                flow_shift: float | None = None, cfg_scale: float | None = None,
                image: str | None = None) -> SamplePrompt:
    """A prompt with every setting the trainer would otherwise guess written out.

    Sizes are rounded down to multiples of 16 and frames down to 4n+1, as the model needs.
    """
    width, height = max(16, width // 16 * 16), max(16, height // 16 * 16)
    frames = max(1, (frames - 1) // 4 * 4 + 1)
    return SamplePrompt(prompt=text.strip(), width=width, height=height, frames=frames,
                        seed=seed, steps=steps,
                        flow_shift=default_flow_shift(width, height) if flow_shift is None
                        else flow_shift,
                        cfg_scale=default_cfg_scale(task) if cfg_scale is None else cfg_scale,
                        image=image)


def fix_prompt(prompt: SamplePrompt, *, task: str = "t2v-14B") -> SamplePrompt:
    """The same prompt with sizes, frames, `--fs` and `--l` made valid for Wan."""
    width = prompt.width or 256
    height = prompt.height or 256
    fixed = make_prompt(prompt.prompt, task=task, width=width, height=height,
                        frames=prompt.frames or 1, seed=prompt.seed, steps=prompt.steps or 20,
                        flow_shift=prompt.flow_shift, cfg_scale=prompt.cfg_scale,
                        image=prompt.image)
    return replace(prompt, width=fixed.width, height=fixed.height, frames=fixed.frames,
                   steps=fixed.steps, flow_shift=fixed.flow_shift, cfg_scale=fixed.cfg_scale)


def validate_prompts(prompts: Sequence[SamplePrompt], *, task: str = "t2v-14B",
                     trigger: str | None = None, base_dir: Path | None = None) -> list[Problem]:
    """What the trainer would silently change or refuse, with the fix.

    Args:
        prompts: the parsed prompts.
        task: the `--task` of the run (I2V needs `--i`; the default `--l` depends on it).
        trigger: the project's trigger phrase; a prompt without it is reported as a warning.
        base_dir: folder for relative `--i` paths (the trainer's working folder).

    Returns:
        Problems (severity 'error' or 'warning'); empty when the file is ready.
    """
    problems: list[Problem] = []
    if not prompts:
        problems.append(Problem("sample_prompts", "the prompt file has no prompts; add one line "
                                "per prompt or leave sampling off", "warning"))
    for index, p in enumerate(prompts):
        where = f"prompt {index + 1}" + (f" (line {p.line_no})" if p.line_no else "")

        def err(message: str, severity: str = "error") -> None:
            problems.append(Problem("sample_prompts", f"{where}: {message}", severity))

        if not p.prompt:
            err("the prompt text is empty")
        if " --" in p.prompt or "\n" in p.prompt:
            err("the text contains ' --' or a line break, which splits it; remove it")
        if any(r.match(p.prompt) for r in _TRAINER_RES):
            err(f"the text starts like the option --{p.prompt.split()[0].lower()}, which the "
                f"trainer also reads from it; reword the start", "warning")
        if p.prompt.startswith("#"):
            err("the text starts with '#', so the trainer skips it as a comment")
        for name, value in (("--w", p.width), ("--h", p.height)):
            if value is None:
                err(f"{name} is missing (the trainer uses 256); write a multiple of 16, "
                    f"e.g. 832x480")
            elif value % 16:
                err(f"{name} {value} is not a multiple of 16 (Wan needs 16); use "
                    f"{max(16, value // 16 * 16)} or {value // 16 * 16 + 16}")
        if p.frames is None:
            err("--f is missing, so the sample is a single still image; write 4n+1 frames "
                "(e.g. 33) for a video", "warning")
        elif (p.frames - 1) % 4:
            low = (p.frames - 1) // 4 * 4 + 1
            err(f"--f {p.frames} is not 4n+1; the trainer would render {low} frames; use "
                f"{low} or {low + 4}")
        if p.flow_shift is None:
            err("--fs is missing, so Wan samples with a flow shift of 14.5; write --fs 3.0 "
                "(480p) or --fs 5.0 (720p)")
        if p.cfg_scale is None:
            err(f"--l is missing; write it explicitly (the task's default is "
                f"{default_cfg_scale(task)})")
        if p.steps is not None and not 1 <= p.steps <= 1000:
            err(f"--s {p.steps} is outside 1-1000; the trainer clamps it")
        if is_i2v(task):
            if not p.image:
                err("an I2V task needs a start image: add --i path/to/frame.png")
            elif base_dir is not None and not (base_dir / p.image).exists():
                err(f"--i {p.image} does not exist")
        if trigger and not p.prompt.startswith(trigger.strip()):
            err(f"does not start with the trigger phrase {trigger.strip()!r}", "warning")
    return problems
