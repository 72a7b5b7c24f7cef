"""Is a model file real, and can the trainer's Python import what it needs?

`model_file_problem` reads only a file's first bytes: a 0-byte file, a safetensors file whose
header does not parse, or a .pth/.pt/.ckpt that is neither a zip (torch.save) nor a pickle is
named with the reason, long before a GPU machine spends minutes loading it.

`python_modules_problem` starts the chosen Python once (`-c "import torch, accelerate"`) and
keeps the answer per interpreter path and modification time, so the window can ask it off
its GUI thread once and the checks that follow read the cache (`cached_python_problem`).
"""

from __future__ import annotations

import functools
import json
import os
import struct
import subprocess
import threading
from pathlib import Path

SAFETENSORS_SUFFIXES = (".safetensors", ".sft")
TORCH_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")
ZIP_MAGIC = b"PK\x03\x04"
#: The header length safetensors allows (100 MB), so a random file is not read whole.
MAX_SAFETENSORS_HEADER = 100_000_000
REQUIRED_MODULES = ("torch", "accelerate")
PYTHON_CHECK_TIMEOUT_S = 120


def model_file_problem(path: Path) -> str | None:
    """Why `path` is not a usable model file, or None. Unknown suffixes are only size-checked."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return _model_file_problem(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _model_file_problem(path_text: str, size: int, _mtime_ns: int) -> str | None:
    path = Path(path_text)
    if size == 0:
        return "is empty (0 bytes): the download or copy did not finish"
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as handle:
            if suffix in SAFETENSORS_SUFFIXES:
                return _safetensors_problem(handle, size)
            if suffix in TORCH_SUFFIXES:
                head = handle.read(4)
                # torch.save writes a zip since 1.6; older files are a pickle (protocol 2+).
                if head == ZIP_MAGIC or head[:1] == b"\x80":
                    return None
                return ("is neither a zip nor a pickle, so it is not a PyTorch checkpoint "
                        "(an HTML error page saved by a download?)")
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


def _safetensors_problem(handle, size: int) -> str | None:
    raw = handle.read(8)
    if len(raw) < 8:
        return f"is {size} bytes, too short for a safetensors file"
    (length,) = struct.unpack("<Q", raw)
    if length == 0 or length > min(MAX_SAFETENSORS_HEADER, size - 8):
        return (f"has no valid safetensors header (it claims {length:,} header bytes in a "
                f"{size:,}-byte file): truncated or not a safetensors file")
    try:
        header = json.loads(handle.read(length))
    except (UnicodeDecodeError, ValueError):
        return "has a safetensors header that does not parse: the file is damaged"
    if not isinstance(header, dict):
        return "has a safetensors header that is not a table of tensors"
    ends = [v.get("data_offsets", [0, 0])[1] for k, v in header.items()
            if k != "__metadata__" and isinstance(v, dict)]
    if ends and max(ends) > size - 8 - length:
        return (f"is cut short: its tensors need {max(ends) + 8 + length:,} bytes, the file "
                f"has {size:,}")
    return None


# ---- the trainer's Python -------------------------------------------------------------------

_python_answers: dict[tuple[str, int, str], str | None] = {}
_lock = threading.Lock()


def _key(python: str, src: str | None) -> tuple[str, int, str]:
    try:
        return python, os.stat(python).st_mtime_ns, src or ""
    except OSError:
        return python, 0, src or ""


def trainer_src(trainer_dir: str) -> str | None:
    """The folder the trainer's steps put first on PYTHONPATH (`commands._musubi_env`)."""
    return str(Path(trainer_dir) / "src") if trainer_dir else None


def cached_python_problem(python: str, src: str | None = None) -> tuple[bool, str | None]:
    """(checked yet, the problem) for this interpreter, without starting it."""
    with _lock:
        key = _key(python, src)
        if key in _python_answers:
            return True, _python_answers[key]
        return False, None


def python_modules_problem(python: str, src: str | None = None) -> str | None:
    """Start `python` once to import torch and accelerate; None when both import.

    Args:
        python: the interpreter the trainer's steps run.
        src: put first on PYTHONPATH, as the steps do (`trainer_src`).

    The answer is cached per interpreter path, modification time and `src`.
    """
    checked, problem = cached_python_problem(python, src)
    if checked:
        return problem
    code = (f"import importlib, sys\nmissing = []\nfor name in {REQUIRED_MODULES!r}:\n"
            "    try:\n        importlib.import_module(name)\n    except Exception as exc:\n"
            "        missing.append(f'{name} ({type(exc).__name__}: {exc})')\n"
            "print('; '.join(missing))\nsys.exit(3 if missing else 0)\n")
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(x for x in (src, env.get("PYTHONPATH")) if x)
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env,
                              timeout=PYTHON_CHECK_TIMEOUT_S, check=False)
    except FileNotFoundError:
        problem = "does not exist"
    except PermissionError:
        problem = "cannot be run (permission denied)"
    except OSError as exc:
        problem = f"cannot be run ({exc.strerror or exc})"
    except subprocess.TimeoutExpired:
        problem = f"did not finish importing torch within {PYTHON_CHECK_TIMEOUT_S} s"
    else:
        if done.returncode == 0:
            problem = None
        elif done.returncode == 3 and done.stdout.strip():
            problem = f"cannot import {done.stdout.strip()}"
        else:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            problem = f"failed to start (exit {done.returncode}: {tail})"
    with _lock:
        _python_answers[_key(python, src)] = problem
    return problem
