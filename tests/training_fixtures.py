"""Helpers for the training tests: a fake musubi-tuner checkout, model files, a dataset folder.

The fake checkout has the real layout (`src/musubi_tuner/wan_*.py`) and a stand-in
`accelerate` package under `src/`, so the commands Curator builds run unchanged: the step's
`PYTHONPATH=<dir>/src` makes `python -m accelerate.commands.launch` find the stand-in, which runs
the training script as a child process, as the real launcher does. Each script replays a recorded
log through `tests/data/training/fake_trainer.py` and writes the argv it received to a JSON file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "training"
FAKE_TRAINER = DATA / "fake_trainer.py"
LOGS = {
    "cache-latents": DATA / "musubi_cache_latents.log",
    "cache-text": DATA / "musubi_cache_text.log",
    "train": DATA / "musubi_train_wan21_t2v_14b.log",
}
SCRIPTS = {
    "cache-latents": "wan_cache_latents.py",
    "cache-text": "wan_cache_text_encoder_outputs.py",
    "train": "wan_train_network.py",
}

_STUB = '''"""Stand-in for musubi-tuner's {script}: replays a recorded log."""
import json, runpy, sys
from pathlib import Path

here = Path(__file__).resolve()
config = json.loads((here.parents[2] / "fake_config.json").read_text())[here.name]
sys.argv = [config["fake"], *config["args"], "--", *sys.argv[1:]]
runpy.run_path(config["fake"], run_name="__main__")
'''

_LAUNCH = '''"""Stand-in for `accelerate launch`: runs the script as a child, returns its code."""
import subprocess, sys

args = sys.argv[1:]
i = 0
while i < len(args) and args[i].startswith("--"):
    i += 2  # every launcher option Curator passes takes one value
child = subprocess.Popen([sys.executable, args[i], *args[i + 1:]])
while True:
    try:
        sys.exit(child.wait())
    except KeyboardInterrupt:
        continue  # the child got the same SIGINT through the process group
'''


def make_fake_musubi(root: Path, *, exit_codes: dict[str, int] | None = None,
                     logs: dict[str, Path] | None = None, delay: float = 0.001,
                     hang: set[str] | None = None, marker: Path | None = None,
                     ignore_sigint: bool = False) -> Path:
    """A musubi-tuner-shaped folder whose three scripts replay recorded logs.

    Args:
        root: folder to create.
        exit_codes: exit code per step name (default 0).
        logs: recorded log per step name (default the ones in tests/data/training).
        delay: seconds between replayed segments.
        hang: steps that keep running after the replay until signalled.
        marker: file where each process records the signals it received.
        ignore_sigint: the scripts survive SIGINT (to test the escalation to SIGTERM).

    Returns:
        root; `root / "argv-<step>.json"` holds what each script received.
    """
    exit_codes, logs, hang = exit_codes or {}, logs or LOGS, hang or set()
    package = root / "src" / "musubi_tuner"
    package.mkdir(parents=True, exist_ok=True)  # a second call re-configures the same folder
    (package / "__init__.py").write_text("")
    config = {}
    for step, script in SCRIPTS.items():
        (package / script).write_text(_STUB.format(script=script))
        args = ["--replay", str(logs[step]), "--delay", str(delay),
                "--exit-code", str(exit_codes.get(step, 0)),
                "--argv-out", str(root / f"argv-{step}.json")]
        if step in hang:
            args.append("--hang")
        if marker is not None:
            args += ["--marker", str(marker)]
        if ignore_sigint:
            args.append("--ignore-sigint")
        config[script] = {"fake": str(FAKE_TRAINER), "args": args}
    (root / "fake_config.json").write_text(json.dumps(config, indent=1))
    launcher = root / "src" / "accelerate" / "commands"
    launcher.mkdir(parents=True, exist_ok=True)
    (root / "src" / "accelerate" / "__init__.py").write_text("")
    (launcher / "__init__.py").write_text("")
    (launcher / "launch.py").write_text(_LAUNCH)
    return root


def received_argv(trainer_dir: Path, step: str) -> dict:
    return json.loads((trainer_dir / f"argv-{step}.json").read_text())


def make_models(root: Path) -> dict[str, Path]:
    """Tiny real model files named like the real ones: validation reads their headers
    (a safetensors file written by the safetensors library, a .pth that is a pickle)."""
    import pickle

    import numpy as np
    from safetensors.numpy import save_file

    root.mkdir(parents=True, exist_ok=True)
    names = {"dit": "wan2.1_t2v_14B_bf16.safetensors", "vae": "wan_2.1_vae.safetensors",
             "t5": "models_t5_umt5-xxl-enc-bf16.pth",
             "dit_low": "wan2.2_t2v_low_noise_14B_fp16.safetensors",
             "dit_high": "wan2.2_t2v_high_noise_14B_fp16.safetensors",
             "clip": "models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth"}
    paths = {}
    for key, name in names.items():
        paths[key] = root / name
        if name.endswith(".safetensors"):
            save_file({"weight": np.zeros((2, 2), dtype=np.float32)}, str(paths[key]))
        else:
            paths[key].write_bytes(pickle.dumps({"weight": [0.0, 0.0]}, protocol=2))
    return paths


def make_dataset(root: Path, *, clips: int = 3, captions: int | None = None,
                 images: int = 0) -> Path:
    """A clip folder and a musubi dataset TOML over it (absolute paths, own cache folders).

    Returns:
        The dataset TOML path.
    """
    clip_dir = root / "clips"
    clip_dir.mkdir(parents=True, exist_ok=True)
    for i in range(clips):
        (clip_dir / f"clip_{i:03d}.mp4").write_bytes(b"\x00")
        if captions is None or i < captions:
            (clip_dir / f"clip_{i:03d}.txt").write_text("Studio Ghibli style. a fox runs\n")
    lines = ["[general]", 'caption_extension = ".txt"', "enable_bucket = true", "",
             "[[datasets]]", f"video_directory = {json.dumps(str(clip_dir))}",
             f"cache_directory = {json.dumps(str(root / 'cache' / 'video'))}",
             "resolution = [384, 208]", "target_frames = [45]", 'frame_extraction = "head"', ""]
    if images:
        image_dir = root / "images"
        image_dir.mkdir(exist_ok=True)
        for i in range(images):
            (image_dir / f"still_{i:03d}.png").write_bytes(b"\x89PNG")
            (image_dir / f"still_{i:03d}.txt").write_text("Studio Ghibli style. a hill\n")
        lines += ["[[datasets]]", f"image_directory = {json.dumps(str(image_dir))}",
                  f"cache_directory = {json.dumps(str(root / 'cache' / 'image'))}",
                  "resolution = [768, 416]", ""]
    path = root / "dataset.toml"
    path.write_text("\n".join(lines))
    return path


PYTHON = sys.executable
