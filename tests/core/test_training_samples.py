"""Sample files of a run grouped by prompt across checkpoints, and the sample-prompt file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from curator.core.training.prompts import (
    PromptSyntaxError,
    fix_prompt,
    make_prompt,
    parse_prompt_line,
    parse_prompts,
    read_prompt_file,
    validate_prompts,
    write_prompt_file,
)
from curator.core.training.samples import (
    Checkpoint,
    build_gallery,
    checkpoint_file,
    list_checkpoints,
    parse_sample_name,
    scan_samples,
)


def make_run(root: Path) -> Path:
    """A finished run's folder, named as trainer_base.sample_image_inference names things."""
    sample = root / "sample"
    sample.mkdir(parents=True)
    names = [
        "ghibli_e000000_00_20250101100000_42.mp4",  # --sample_at_first
        "ghibli_e000000_01_20250101100100_7.mp4",
        "ghibli_e000001_00_20250101110000_42.mp4",
        "ghibli_e000001_01_20250101110100_7.mp4",
        "ghibli_e000002_00_20250101120000_42.mp4",
        "ghibli_e000002_00_20250102090000_42.mp4",  # the same epoch again after a resume
        "ghibli_e000002_02_20250101120200_000.png",  # a still prompt without a seed: frame 000
        "other_e000001_00_20250101110000_42.mp4",  # another LoRA in the same folder
        "notes.txt", "ghibli_thumbnail.png",
    ]
    for name in names:
        (sample / name).write_bytes(b"\x00")
    for name in ("ghibli-000001.safetensors", "ghibli.safetensors",
                 "ghibli-step00000500.safetensors"):
        (root / name).write_bytes(b"\x00")
    return root


def test_sample_names_are_read_as_the_trainer_writes_them():
    s = parse_sample_name(Path("my_lora_e000003_01_20250101120000_42.mp4"))
    assert (s.output_name, s.checkpoint, s.prompt_index, s.seed, s.is_video) == (
        "my_lora", Checkpoint("epoch", 3), 1, 42, True)
    assert s.created == datetime(2025, 1, 1, 12, 0, 0)
    s = parse_sample_name(Path("my_lora_000500_00_20250101120000.mp4"))
    assert (s.checkpoint, s.seed) == (Checkpoint("step", 500), None)
    s = parse_sample_name(Path("my_lora_e000002_02_20250101120200_42_000.png"))
    assert (s.seed, s.frame, s.is_video) == (42, 0, False)
    s = parse_sample_name(Path("e000001_00_20250101120000_5.mp4"))  # no --output_name
    assert s.output_name is None and s.checkpoint == Checkpoint("epoch", 1)
    assert parse_sample_name(Path("my_lora-000001.safetensors")) is None
    assert parse_sample_name(Path("holiday.mp4")) is None


def test_a_run_folder_becomes_a_prompt_by_checkpoint_grid(tmp_path):
    run = make_run(tmp_path / "run")
    samples = scan_samples(run, output_name="ghibli")
    assert len(samples) == 7
    gallery = build_gallery(samples, ["a fox in snow", "a train at dusk", "a hill"])
    assert gallery.checkpoints == [Checkpoint("epoch", 0), Checkpoint("epoch", 1),
                                   Checkpoint("epoch", 2)]
    assert gallery.prompts == [0, 1, 2]
    row = gallery.row(0)
    assert [s.path.name for s in row] == ["ghibli_e000000_00_20250101100000_42.mp4",
                                          "ghibli_e000001_00_20250101110000_42.mp4",
                                          "ghibli_e000002_00_20250102090000_42.mp4"]  # newest
    assert gallery.row(1)[2] is None  # prompt 1 has no epoch-2 sample
    assert gallery.row(2)[2].frame == 0 and not gallery.row(2)[2].is_video
    assert gallery.prompt_texts[1] == "a train at dusk"
    assert [s.path.name for s in gallery.column(Checkpoint("epoch", 1)) if s] == [
        "ghibli_e000001_00_20250101110000_42.mp4", "ghibli_e000001_01_20250101110100_7.mp4"]
    assert len(scan_samples(run)) == 8  # without a name filter, the other LoRA shows too
    assert scan_samples(tmp_path / "nothing-yet") == []


def test_checkpoint_files_of_a_run(tmp_path):
    run = make_run(tmp_path / "run")
    assert checkpoint_file(run, "ghibli", Checkpoint("epoch", 1)).name == \
        "ghibli-000001.safetensors"
    # The last epoch is saved as <name>.safetensors, not as an epoch file.
    assert checkpoint_file(run, "ghibli", Checkpoint("epoch", 2), last_epoch=2).name == \
        "ghibli.safetensors"
    assert checkpoint_file(run, "ghibli", Checkpoint("epoch", 2)) is None
    assert [(c.label if c else None, p.name) for c, p in list_checkpoints(run, "ghibli")] == [
        ("epoch 1", "ghibli-000001.safetensors"),
        ("step 500", "ghibli-step00000500.safetensors"), (None, "ghibli.safetensors")]


# ---- sample prompts (TRAINERS.md §2.5) ----------------------------------------------------------

def test_a_prompt_line_in_the_trainers_syntax():
    p = parse_prompt_line("a red fox runs through snow, cinematic --w 832 --h 480 --f 33 --d 42 "
                          "--s 20 --l 5.0 --fs 5.0")
    assert (p.prompt, p.width, p.height, p.frames, p.seed, p.steps) == (
        "a red fox runs through snow, cinematic", 832, 480, 33, 42, 20)
    assert (p.cfg_scale, p.flow_shift) == (5.0, 5.0)
    assert parse_prompt_line(p.to_line()) == p
    with pytest.raises(PromptSyntaxError, match="unknown option"):
        parse_prompt_line("a fox --x 3")
    with pytest.raises(PromptSyntaxError, match="whole number"):
        parse_prompt_line("a fox --w 384.5")


def test_blank_and_hash_lines_are_skipped_like_the_trainer(tmp_path):
    prompts = parse_prompts("# comment\n\n  # indented: the trainer reads this as a prompt\n"
                            "a hill --w 384 --h 208\n")
    assert [p.prompt for p in prompts] == ["# indented: the trainer reads this as a prompt",
                                           "a hill"]
    assert prompts[1].line_no == 4


def test_validation_finds_what_the_trainer_would_change_silently():
    problems = validate_prompts(parse_prompts("a fox --w 390 --h 208 --f 44 --d 1 --s 20\n"))
    text = " | ".join(p.message for p in problems if p.severity == "error")
    assert "--w 390 is not a multiple of 16 (Wan needs 16); use 384 or 400" in text
    assert "--f 44 is not 4n+1; the trainer would render 41 frames; use 41 or 45" in text
    assert "--fs is missing" in text and "14.5" in text
    assert "--l is missing" in text
    good = validate_prompts([make_prompt("Studio Ghibli style. a fox", width=390, height=210,
                                         frames=44)], trigger="Studio Ghibli style.")
    assert good == []
    i2v = validate_prompts([make_prompt("a fox")], task="i2v-A14B")
    assert any("--i" in p.message for p in i2v)
    warn = validate_prompts([make_prompt("I walk in the park")])
    assert [p.severity for p in warn] == ["warning"]  # the trainer reads "I ..." as --i


def test_make_and_fix_prompts_write_every_setting(tmp_path):
    p = make_prompt("Studio Ghibli style. a fox", task="t2v-A14B", width=1280, height=720,
                    frames=81)
    assert (p.width, p.height, p.frames, p.flow_shift, p.cfg_scale) == (1280, 720, 81, 5.0, 3.0)
    fixed = fix_prompt(parse_prompt_line("a fox --w 390 --h 210 --f 44"))
    assert (fixed.width, fixed.height, fixed.frames) == (384, 208, 41)
    assert validate_prompts([fixed]) == []
    path = write_prompt_file(tmp_path / "prompts.txt", [p, fixed], header="made by a test")
    assert read_prompt_file(path) == [
        parse_prompt_line(p.to_line(), 2), parse_prompt_line(fixed.to_line(), 3)]
    with pytest.raises(PromptSyntaxError, match="split"):
        write_prompt_file(tmp_path / "bad.txt", [make_prompt("a --w b")])
