"""Train checks in the core: model files are real, the trainer's Python imports torch and
accelerate (a real subprocess, cached per interpreter), fixes worded for a window user."""

from __future__ import annotations

import json
import os
import stat
import struct
import sys

from curator.core.training.model_files import (
    cached_python_problem,
    model_file_problem,
    python_modules_problem,
    trainer_src,
)
from curator.core.training.validate import errors, validate_profile
from tests.core.test_training_validate import ready

_ = ready


def test_real_model_files_pass_and_broken_ones_say_why(tmp_path, ready):
    _profile, models = ready
    assert model_file_problem(models["vae"]) is None  # safetensors written by the library
    assert model_file_problem(models["t5"]) is None  # a pickle
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    assert "0 bytes" in model_file_problem(empty)
    html = tmp_path / "t5.pth"
    html.write_bytes(b"<!DOCTYPE html><title>404</title>")
    assert "neither a zip nor a pickle" in model_file_problem(html)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(models["vae"].read_bytes()[:-8])  # a download that stopped early
    assert "cut short" in model_file_problem(cut)
    garbage = tmp_path / "garbage.safetensors"
    header = b"{not json"
    garbage.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    assert "does not parse" in model_file_problem(garbage)
    bogus_length = tmp_path / "bogus.safetensors"
    bogus_length.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    assert "no valid safetensors header" in model_file_problem(bogus_length)
    ok_header = tmp_path / "meta.safetensors"
    meta = json.dumps({"__metadata__": {"a": "b"}}).encode()
    ok_header.write_bytes(struct.pack("<Q", len(meta)) + meta)
    assert model_file_problem(ok_header) is None


def test_a_zero_byte_vae_is_an_error_in_window_words(ready, tmp_path):
    profile, _ = ready
    empty = tmp_path / "wan_2.1_vae.safetensors"
    empty.write_bytes(b"")
    problems = errors(validate_profile(profile.replace(vae=str(empty)), audience="window"))
    assert [(p.field, p.code) for p in problems] == [("vae", "not_a_model")]
    assert "0 bytes" in problems[0].message and "--vae" not in problems[0].message
    assert "choose the VAE file in the form" in problems[0].message
    missing = errors(validate_profile(profile.replace(vae="", output_dir=""),
                                      audience="window"))
    assert all("--" not in p.message for p in missing)
    cli = errors(validate_profile(profile.replace(vae=""), audience="cli"))
    assert "pass --vae" in cli[0].message


def _fake_python(path, body: str):
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_the_trainers_python_is_asked_once_and_its_answer_is_a_problem(ready, tmp_path):
    profile, _ = ready
    # A Python without torch: the test venv's own interpreter in isolated mode, no site-packages.
    bare = _fake_python(tmp_path / "python-bare", f'exec "{sys.executable}" -S -I "$@"')
    src = trainer_src(profile.trainer_dir)  # on PYTHONPATH, as the trainer's steps run
    assert cached_python_problem(bare, src) == (False, None)
    problem = python_modules_problem(bare, src)
    assert problem is not None and "cannot import torch" in problem
    assert cached_python_problem(bare, src) == (True, problem)
    found = errors(validate_profile(profile.replace(python=bare), audience="window"))
    assert [(p.field, p.code) for p in found] == [("python", "missing_modules")]
    assert "torch" in found[0].message and "--python" not in found[0].message
    # The answer is kept per interpreter: a second ask starts nothing.
    counter = tmp_path / "starts"
    counting = _fake_python(tmp_path / "python-counting",
                            f'echo x >> "{counter}"\nexec "{sys.executable}" "$@"')
    first = python_modules_problem(counting)
    python_modules_problem(counting)
    assert counter.read_text().count("x") == 1
    assert first is None or "accelerate" in first  # the test venv has torch; accelerate maybe
    broken = _fake_python(tmp_path / "python-broken", "echo 'bad interpreter' >&2; exit 1")
    assert "failed to start (exit 1: bad interpreter)" in python_modules_problem(broken)
    assert os.access(broken, os.X_OK)
