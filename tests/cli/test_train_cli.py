"""`curator train` in-process: dry-run JSON, overrides, script export, runs of a fake trainer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from curator.cli import main
from curator.core.catalog import Catalog
from tests.training_fixtures import make_dataset, make_fake_musubi, make_models

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def setup(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    models = make_models(tmp_path / "models")
    dataset = make_dataset(tmp_path / "export")
    # a dry run checks the trainer folder as a run does (a missing one is an error)
    make_fake_musubi(tmp_path / "musubi-tuner")

    def args(trainer=None, *extra: str) -> list[str]:
        trainer = trainer or tmp_path / "musubi-tuner"
        return ["--project", str(project), "-q", "train", "--trainer-dir", str(trainer),
                "--python", sys.executable, "--dit", str(models["dit"]), "--vae",
                str(models["vae"]), "--t5", str(models["t5"]), "--dataset-config", str(dataset),
                "--output-dir", str(tmp_path / "out"), *extra]

    return tmp_path, project, args


def run_json(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_dry_run_json_lists_each_step_as_an_argument_list(setup, capsys):
    tmp_path, project, args = setup
    code, data, _ = run_json(capsys, args(None, "--dry-run", "--json"))
    assert code == 0
    assert data["profile"] == "wan21-14b-style-24gb"
    assert [s["name"] for s in data["steps"]] == ["cache-latents", "cache-text", "train"]
    for step in data["steps"]:
        assert isinstance(step["argv"], list) and all(isinstance(w, str) for w in step["argv"])
        assert step["cwd"] == str(tmp_path / "musubi-tuner")
        assert step["env"]["PYTHONPATH"] == str(tmp_path / "musubi-tuner" / "src")
    train = data["steps"][2]["argv"]
    assert train[train.index("--dit") + 1] == str(tmp_path / "models" /
                                                   "wan2.1_t2v_14B_bf16.safetensors")
    assert train[train.index("--output_dir") + 1] == str(tmp_path / "out")
    assert not (project / "curator.db").exists()  # a dry run touches no catalog


def test_options_override_the_profile_and_one_step_can_be_chosen(setup, capsys):
    _, _, args = setup
    code, data, _ = run_json(capsys, args(None, "--dry-run", "--json", "--step", "train",
                                          "--set", "memory.blocks_to_swap=20",
                                          "--set", "saving.save_state=true"))
    assert code == 0
    (step,) = data["steps"]
    assert step["name"] == "train"
    assert step["argv"][step["argv"].index("--blocks_to_swap") + 1] == "20"
    assert "--save_state" in step["argv"]


def test_a_dry_run_with_errors_says_so(setup, capsys):
    _, _, args = setup
    code, data, _ = run_json(capsys, args(None, "--dry-run", "--json",
                                          "--set", "memory.fp8_base=false"))
    assert code == 1
    assert any("--fp8_scaled needs --fp8_base" in p["message"] and p["severity"] == "error"
               for p in data["problems"])


def test_export_script_writes_a_runnable_quoted_script(setup, capsys):
    tmp_path, _, args = setup
    target = tmp_path / "remote dir" / "train.sh"
    assert main(args(None, "--export-script", str(target),
                     "--output-dir", str(tmp_path / "my out"))) == 0
    assert "wrote 3 step(s)" in capsys.readouterr().err
    assert os.access(target, os.X_OK)
    text = target.read_text()
    subprocess.run(["bash", "-n", str(target)], check=True)
    assert f"--output_dir '{tmp_path / 'my out'}'" in text
    assert "set -euo pipefail" in text


def test_export_script_refuses_a_profile_with_errors(setup, capsys):
    tmp_path, _, args = setup
    target = tmp_path / "train.sh"
    assert main(args(None, "--export-script", str(target), "--set",
                     "memory.attention=\"sage_attn\"")) == 2
    assert "refused by the trainer" in capsys.readouterr().err
    assert not target.exists()


def test_a_run_executes_every_step_and_records_jobs(setup, capsys):
    tmp_path, project, args = setup
    trainer = make_fake_musubi(tmp_path / "musubi-tuner")
    assert main(args(trainer)) == 0
    err = capsys.readouterr().err
    assert "== step 1/3: cache-latents" in err and "== step 3/3: train" in err
    assert "INFO:musubi_tuner.training.trainer_base:model saved." in err
    assert "train: done (exit code 0" in err
    catalog = Catalog.for_project(project)
    try:
        jobs = sorted(catalog.list_jobs(kind="train"), key=lambda j: j.id)
        assert [(j.params["step"], j.status, j.return_code) for j in jobs] == [
            ("cache-latents", "done", 0), ("cache-text", "done", 0), ("train", "done", 0)]
        assert jobs[0].params["profile"] == "wan21-14b-style-24gb"
    finally:
        catalog.close()


def test_a_failing_step_stops_the_run_with_its_reason(setup, capsys):
    tmp_path, project, args = setup
    trainer = make_fake_musubi(tmp_path / "musubi-tuner", exit_codes={"cache-latents": 3})
    assert main(args(trainer)) == 1
    err = capsys.readouterr().err
    assert "error: cache-latents exited with code 3" in err
    assert "== step 2/3" not in err
    catalog = Catalog.for_project(project)
    try:
        (job,) = catalog.list_jobs(kind="train")
        assert (job.status, job.return_code) == ("failed", 3)
    finally:
        catalog.close()


def test_validation_errors_stop_before_anything_runs(setup, capsys):
    tmp_path, project, args = setup
    trainer = make_fake_musubi(tmp_path / "musubi-tuner")
    assert main(args(trainer, "--dit", str(tmp_path / "missing.safetensors"))) == 2
    err = capsys.readouterr().err
    assert "the DiT model" in err and "does not exist" in err and "nothing was run" in err
    assert not (trainer / "argv-cache-latents.json").exists()


def test_profiles_can_be_saved_listed_and_reused(setup, capsys):
    tmp_path, project, args = setup
    assert main(args(None, "--save-profile", "mine", "--dry-run", "--json",
                     "--set", "loop.seed=7")) == 0
    capsys.readouterr()
    assert (project / "training" / "mine.toml").is_file()
    assert main(["--project", str(project), "train", "--list-profiles", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"name": "mine", "origin": "project"} in listed
    assert main(["--project", str(project), "train", "--profile", "mine", "--dry-run",
                 "--json", "--step", "train"]) == 0
    train = json.loads(capsys.readouterr().out)["steps"][0]["argv"]
    assert train[train.index("--seed") + 1] == "7"
    assert main(["--project", str(project), "train", "--profile", "nope", "--dry-run"]) == 2
    assert "no training profile named 'nope'" in capsys.readouterr().err


def test_ctrl_c_in_the_terminal_cancels_the_trainer_through_its_group(setup, tmp_path):
    """The trainer has its own session, so the terminal's SIGINT reaches only `curator`;
    `curator train` must forward it as a cancel (SIGINT to the trainer's process group)."""
    tmp, project, args = setup
    marker = tmp / "signals.txt"
    trainer = make_fake_musubi(tmp / "musubi-tuner", hang={"train"}, marker=marker)
    argv = args(trainer, "--step", "train")
    proc = subprocess.Popen([sys.executable, "-m", "curator.cli", *argv],
                            stderr=subprocess.PIPE, text=True,
                            cwd=str(Path(__file__).resolve().parents[2]))
    for line in proc.stderr:  # wait until the replay is over and the trainer hangs
        if line.rstrip().endswith("model saved."):
            break
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=30) == 130
    assert "cancelling: SIGINT sent to the trainer" in rest
    assert marker.read_text().startswith("SIGINT")
    catalog = Catalog.for_project(project)
    try:
        (job,) = catalog.list_jobs(kind="train")
        assert job.status == "cancelled"
    finally:
        catalog.close()


def test_the_last_export_is_the_default_dataset_and_its_counts_are_shown(setup, capsys):
    tmp_path, project, args = setup
    export = tmp_path / "export"
    dataset = export / "musubi_dataset.toml"
    dataset.write_text((export / "dataset.toml").read_text())
    (export / "manifest.json").write_text(json.dumps({
        "curator_export": 1, "config": dataset.name, "trainer": "musubi",
        "counts": {"total_items": 6, "total_batches": 6, "steps_per_epoch": 6}}))
    assert main(["--project", str(project), "settings", "--export-root", str(export)]) == 0
    capsys.readouterr()
    argv = [a for a in args(None, "--dry-run", "--json", "--step", "train")]
    cut = argv.index("--dataset-config")
    del argv[cut:cut + 2]
    code, data, _ = run_json(capsys, argv)
    assert code == 0
    train = data["steps"][0]["argv"]
    assert train[train.index("--dataset_config") + 1] == str(dataset)
    assert (data["dataset"]["items"], data["dataset"]["steps_per_epoch"]) == (6, 6)
    assert data["dataset"]["sections"][0]["media_files"] == 3


REPO = Path(__file__).resolve().parents[2]


def _curator(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "curator.cli", *argv], capture_output=True,
                          text=True, env=env, cwd=str(cwd or REPO), timeout=60, check=False)


def test_python_option_runs_the_venv_interpreter_not_its_link_target(setup):
    """Issue 10 item 1: `--python venv/bin/python` is a symlink to the base interpreter; the
    step must start through the link so that Python finds the venv (`sys.prefix`)."""
    tmp, _, args = setup
    venv = tmp / "trainer venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    venv_python = venv / "bin" / "python"
    assert venv_python.is_symlink()  # the case the issue is about
    trainer = tmp / "musubi-tuner"
    report = tmp / "prefix.txt"
    # the cache-latents script of this checkout records which environment runs it
    (trainer / "src" / "musubi_tuner" / "wan_cache_latents.py").write_text(
        "import sys\n"
        f"open({str(report)!r}, 'w').write(sys.prefix)\n")
    argv = args(trainer, "--step", "cache-latents")
    py = argv.index("--python")
    # relative, as a person types it from the folder that holds the venv
    argv[py + 1] = "trainer venv/bin/python"
    result = _curator(*argv, cwd=tmp)
    assert result.returncode == 0, result.stderr
    assert Path(report.read_text()) == venv
    assert Path(report.read_text()) != Path(sys.base_prefix)


EVIL_PROFILE = '''extends = "wan21-14b-style-24gb"
name = "evil\\ntouch PWNED\\n#"

[saving]
output_name = "lora"
'''


def test_a_profile_name_cannot_inject_commands_into_the_exported_script(setup):
    """Issue 10 item 2: a newline in the profile name used to end the script's comment and
    make `touch PWNED` a command. The profile is refused with a message naming the file; no
    script is written, and running anything in the folder creates nothing."""
    tmp, _, args = setup
    profile = tmp / "evil.toml"
    profile.write_text(EVIL_PROFILE)
    work = tmp / "work"
    work.mkdir()
    target = work / "train.sh"
    result = _curator(*args(None, "--profile", str(profile), "--export-script", str(target)),
                      cwd=work)
    if target.exists():  # what happened before: the script was written; run it as a user would
        subprocess.run(["bash", str(target)], cwd=str(work), capture_output=True, timeout=30,
                       check=False)
    assert not (work / "PWNED").exists()
    assert result.returncode == 2
    assert str(profile) in result.stderr and "holds a newline" in result.stderr
    assert not target.exists()


def test_exported_script_comments_and_words_are_inert_whatever_the_strings(setup, tmp_path):
    """Issue 10 item 2, at the writer: even steps built in code with hostile names and paths
    give a script whose only effects are its commands (run with bash for real)."""
    from curator.core.training.commands import TrainStep, export_script

    work = tmp_path / "run"
    work.mkdir()
    hostile = "evil\ntouch PWNED1\n#"
    step = TrainStep(name="train\ntouch PWNED2", description="x\rtouch PWNED3\n",
                     argv=("echo", hostile, "$(touch PWNED4)", "`touch PWNED5`"),
                     cwd=str(work), mkdirs=(str(work / "out\ntouch PWNED6"),),
                     env={"CURATOR_X": "$(touch PWNED7)"},
                     files={str(work / "cfg;touch PWNED8.toml"): "a = 1\nCURATOR_EOF\n"})
    script = work / "train.sh"
    script.write_text(export_script([step], title=f"profile {hostile}\x1b[2J\u2028x"))
    result = subprocess.run(["bash", str(script)], cwd=str(work), capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert not list(work.glob("PWNED*"))
    assert result.stdout == f"{hostile} $(touch PWNED4) `touch PWNED5`\n"
    assert (work / "cfg;touch PWNED8.toml").read_text() == "a = 1\nCURATOR_EOF\n"
    assert "\x1b" not in script.read_text()
    with pytest.raises(ValueError, match="not a shell name"):
        export_script([TrainStep("x", ("true",), ".", env={"A;touch B": "1"})])


def test_a_profile_value_with_a_control_character_is_refused_everywhere(setup, capsys):
    """Set on the command line, or changed in code as the window does, the same rule holds:
    refused before a command or script is built."""
    from curator.core.training.profile import load_profile
    from curator.core.training.validate import validate_profile

    _, project, args = setup
    assert main(args(None, "--dry-run", "--set", 'saving.output_name="lo\\u001bra"')) == 2
    assert "holds the control character U+001B" in capsys.readouterr().err
    profile = load_profile("wan21-14b-style-24gb").replace(output_name="lo\x1bra")
    problems = validate_profile(profile.resolved(project), check_files=False)
    assert any(p.severity == "error" and p.field == "output_name"
               and "U+001B" in p.message for p in problems)


@pytest.mark.parametrize("kind", ["missing", "not-musubi"])
def test_a_dry_run_with_a_missing_or_foreign_trainer_folder_is_an_error(setup, capsys, kind):
    """Issue 10, degraded: `train --dry-run` with a trainer folder that cannot work exited 0
    without a word. It is an error now, in text and in JSON."""
    tmp, _, args = setup
    folder = tmp / "not-a-trainer"
    if kind == "not-musubi":
        folder.mkdir()
        (folder / "README.md").write_text("something else\n")
    code, data, _ = run_json(capsys, args(folder, "--dry-run", "--json"))
    assert code == 1
    messages = [p["message"] for p in data["problems"] if p["severity"] == "error"]
    expected = "does not exist" if kind == "missing" else "is it a musubi-tuner checkout?"
    assert any(str(folder) in m and expected in m for m in messages), messages
    assert main(args(folder, "--dry-run")) == 1
    err = capsys.readouterr().err
    assert "error: " in err and str(folder) in err
