"""What a finished or failed run says to the person: the usual fix for a trainer failure, the
saved states a run can resume from, and the prompts a sample file holds."""

from __future__ import annotations

from pathlib import Path

from curator.core.training.profile import TrainingProfile, max_blocks_to_swap


def failure_hint(reason: str, profile: TrainingProfile | None) -> str:
    """What usually fixes a trainer failure, for the errors people meet most."""
    text = reason.lower()
    if "outofmemory" in text or "out of memory" in text:
        if profile is None:
            return "Out of GPU memory: swap more blocks, or train on fewer frames or pixels."
        limit = max_blocks_to_swap(profile.task)
        steps = [f"raise Blocks to swap (now {profile.blocks_to_swap}, at most {limit})"
                 if profile.blocks_to_swap < limit else ""]
        if not profile.fp8_base:
            steps.append("turn on fp8_base and fp8_scaled")
        steps.append("or export smaller buckets (fewer frames or pixels)")
        return "Out of GPU memory: " + ", ".join(s for s in steps if s) + "."
    if "no module named" in text:
        return ("The Python that ran the trainer lacks a package: set Python to the trainer's "
                "venv (the one musubi-tuner was installed into).")
    if "could not start" in text:
        return "Check the Trainer folder and Python fields."
    return ""


def state_folders(output_dir: Path) -> list[str]:
    """The `*-state` folders `--save_state` left in the output folder, newest first."""
    try:
        found = [p for p in Path(output_dir).iterdir() if p.is_dir() and p.name.endswith("-state")]
    except OSError:
        return []
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [str(p) for p in found]


def prompt_texts(text: str) -> list[str]:
    """The prompt of each line the trainer samples (comments and blank lines skipped)."""
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        out.append(stripped.split(" --", 1)[0].strip())
    return out

