"""The progress parser on recorded musubi-tuner (and diffusion-pipe) output.

The logs in tests/data/training are laid out byte for byte in the formats the trainers print
(training/trainer_base.py: `accelerator.print` lines, `logging` lines, tqdm redraws with `\\r`),
including a bar and a log line sharing one line, as they do on a real stderr.
"""

from __future__ import annotations

import re

import pytest

from curator.core.training.progress import ProgressParser, parse_clock, parse_tqdm
from curator.core.training.runner import LineSplitter
from tests.training_fixtures import DATA


def lines_of(name: str) -> list[str]:
    splitter = LineSplitter()
    raw = (DATA / name).read_bytes()
    return [line for line, _ in splitter.feed(raw) + splitter.close()]


def feed_all(parser: ProgressParser, lines: list[str]) -> list:
    return [state for line in lines if (state := parser.feed(line)) is not None]


@pytest.mark.parametrize("line, expected", [
    ("steps:  12%|█▏        | 120/1000 [02:03<15:02,  1.03s/it, avr_loss=0.0812]",
     ("steps", 120, 1000, 123.0, 902.0, 1 / 1.03, {"avr_loss": "0.0812"})),
    ("steps:   0%|          | 0/12 [00:00<?, ?it/s]", ("steps", 0, 12, 0.0, None, None, {})),
    ("100%|██████████| 20/20 [00:41<00:00,  2.07s/it]",
     ("", 20, 20, 41.0, 0.0, 1 / 2.07, {})),
    ("45it [00:12,  3.61it/s]", ("", 45, None, 12.0, None, 3.61, {})),
    ("steps:  50%|█████     | 500/1000 [1:02:03<1:02:03,  7.45s/it, Keys Scaled=3, "
     "avr_loss=0.07]", ("steps", 500, 1000, 3723.0, 3723.0, 1 / 7.45,
                        {"Keys Scaled": "3", "avr_loss": "0.07"})),
])
def test_tqdm_lines(line, expected):
    bar = parse_tqdm(line)
    assert bar is not None
    desc, n, total, elapsed, remaining, rate, postfix = expected
    assert (bar.desc, bar.n, bar.total, bar.elapsed_s, bar.remaining_s, bar.postfix) == (
        desc, n, total, elapsed, remaining, postfix)
    assert bar.rate == pytest.approx(rate) if rate else bar.rate is None


def test_plain_lines_are_not_bars():
    for line in ("epoch 2/16", "saving checkpoint: out/x-000001.safetensors",
                 "INFO:musubi_tuner.training.trainer_base:preparing accelerator",
                 "  num epochs / epoch数: 16"):
        assert parse_tqdm(line) is None
    assert parse_clock("1:02:03") == 3723 and parse_clock("?") is None


def test_a_recorded_training_run():
    parser = ProgressParser()
    states = feed_all(parser, lines_of("musubi_train_wan21_t2v_14b.log"))
    final = parser.state
    assert (final.items, final.batches_per_epoch, final.total_epochs) == (6, 6, 2)
    assert (final.step, final.total_steps, final.epoch) == (12, 12, 2)
    assert final.phase == "finished" and final.fraction == 1.0
    assert final.loss == pytest.approx(0.0871)
    assert final.seconds_per_step == pytest.approx(8.77)
    assert final.eta_s == 0.0
    assert parser.checkpoints == ["/runs/style/wan21-style-000001.safetensors",
                                  "/runs/style/wan21-style.safetensors"]
    # One loss point per optimizer step, in order, for the loss plot.
    assert [s for s, _ in parser.losses] == list(range(1, 13))
    assert parser.losses[0][1] == pytest.approx(0.1243)
    # The epoch changes mid-run, and sampling shows between the epochs.
    epochs = [s.epoch for s in states if s.epoch is not None]
    assert epochs[0] == 1 and epochs[-1] == 2
    phases = [s.phase for s in states]
    assert phases.index("sampling") < len(phases) - 1 - phases[::-1].index("training")
    # The sampler's own bar (20 denoising steps) never counts as a training step.
    assert max(s.step or 0 for s in states) == 12
    mid = next(s for s in states if s.step == 6)
    assert mid.eta_s == pytest.approx(52) and mid.total_steps == 12
    assert re.search(r"epoch 1/2 · step 6/12 · loss 0\.0987 · 8\.77 s/it · ETA 00:52",
                     mid.summary())


def test_a_bar_and_a_log_line_sharing_one_line():
    parser = ProgressParser()
    parser.feed("steps:   0%|          | 0/12 [00:00<?, ?it/s]INFO:musubi_tuner.training."
                "trainer_base:DiT dtype: torch.float8_e4m3fn, device: cuda:0")
    assert (parser.state.step, parser.state.total_steps) == (0, 12)


def test_caching_runs_count_items_not_steps():
    parser = ProgressParser(caching=True)
    feed_all(parser, lines_of("musubi_cache_latents.log"))
    assert parser.state.phase == "caching" and parser.state.step is None
    assert parser.state.task_done == 3  # the second dataset's bar is the last one
    assert parser.state.seconds_per_step == pytest.approx(2.0)
    text = ProgressParser(caching=True)
    feed_all(text, lines_of("musubi_cache_text.log"))
    assert text.state.task_done == 1


def test_a_failed_run_keeps_the_trainers_error_not_the_launchers():
    parser = ProgressParser()
    feed_all(parser, lines_of("musubi_train_oom.log"))
    assert parser.state.total_steps == 17248 and parser.state.items == 1078
    assert parser.state.last_error.startswith("torch.OutOfMemoryError: CUDA out of memory.")


def test_diffusion_pipe_deepspeed_lines():
    parser = ProgressParser()
    feed_all(parser, lines_of("diffusion_pipe_train.log"))
    assert (parser.state.step, parser.state.epoch) == (3, 1)
    assert parser.state.loss == pytest.approx(0.1188)
    assert parser.state.seconds_per_step == pytest.approx(3.198)
    assert parser.losses == [(1, 0.1321), (2, 0.1207), (3, 0.1188)]


def test_redraws_arrive_as_separate_lines():
    lines = lines_of("musubi_train_wan21_t2v_14b.log")
    bars = [line for line in lines if line.startswith("steps:")]
    assert len(bars) >= 13  # every redraw, not only the last one before a newline


def test_a_checkpoint_line_read_after_the_end_keeps_the_run_finished():
    """stdout and stderr are two pipes: the checkpoint print written before "model saved."
    can arrive after it; the run stays finished and the checkpoint is still recorded."""
    parser = ProgressParser()
    parser.feed("INFO:musubi_tuner.training.trainer_base:model saved.")
    assert parser.state.phase == "finished"
    parser.feed("saving checkpoint: /runs/style/wan21-style.safetensors")
    assert parser.state.phase == "finished"
    assert parser.state.last_checkpoint == "/runs/style/wan21-style.safetensors"
