"""Prompt expansion in the core: the meta-prompt, the clean-up, sample options, a tiny model."""

from __future__ import annotations

import pytest

from curator.core.captioning.backend import CaptionRequest
from curator.core.captioning.expand import (
    ExpandError,
    clean_expansion,
    expand_prompt,
    expand_template_path,
    read_expand_template,
    render_expand_prompt,
)
from curator.core.captioning.openai_backend import OpenAIBackend
from curator.core.training.prompts import (
    PromptSyntaxError,
    SamplePrompt,
    append_prompt_line,
    parse_prompts,
    sample_prompt_like,
)
from curator.resources import resource_path
from tests.caption_fixtures import FakeChatServer, chat_reply

TRIGGER = "ohwx style"


def test_the_shipped_meta_prompt_asks_for_what_the_seeds_author_asked():
    template, path = read_expand_template(None)
    assert path == resource_path("prompts", "expand.txt")
    asked = render_expand_prompt(template, "  a fox in snow ", TRIGGER)
    assert "Idea: a fox in snow\n" in asked and f"trigger phrase {TRIGGER} exactly" in asked
    for wanted in ("80 to 100 words", "one paragraph", "look", "moves", "camera", "no quotes"):
        assert wanted in asked.lower()
    assert "{" not in asked  # every field filled in
    # An edited meta-prompt that lost {idea} still gets the idea.
    assert render_expand_prompt("Write for {trigger}.", "rain", TRIGGER) == \
        f"Write for {TRIGGER}.\n\nIdea: rain"


def test_a_project_file_overrides_the_meta_prompt(tmp_path):
    assert expand_template_path(tmp_path) == resource_path("prompts", "expand.txt")
    own = tmp_path / "prompts" / "expand.txt"
    own.parent.mkdir()
    own.write_text("", encoding="utf-8")
    assert expand_template_path(tmp_path) == own
    with pytest.raises(ExpandError, match="empty"):
        read_expand_template(tmp_path)


def test_clean_expansion_is_the_caption_clean_up_plus_the_prompt_line_rules():
    raw = ('Certainly! Here\'s the expanded prompt:\n\n"OHWX STYLE: a fox -- leaping;\n'
           '“soft” light, ohwx style, camera pans.."')
    cleaned = clean_expansion(raw, TRIGGER)
    assert cleaned.ok
    assert cleaned.text == f"{TRIGGER} a fox - leaping; soft light, camera pans."
    assert not clean_expansion("the the the the the the the", TRIGGER).ok
    assert not clean_expansion("  ", TRIGGER).ok


def test_sample_options_come_from_the_file_else_the_seeds_defaults():
    fresh = sample_prompt_like(f"{TRIGGER} a fox", [], task="t2v-14B")
    assert fresh.to_line() == \
        f"{TRIGGER} a fox --w 384 --h 384 --f 45 --d 7 --s 20 --l 5.0 --fs 3.0"
    existing = [SamplePrompt("x", width=832, height=480, frames=33, seed=42, steps=30,
                             flow_shift=5.0, cfg_scale=4.0)]
    like = sample_prompt_like("y", existing, task="t2v-14B", frames=47, seed=None)
    assert (like.width, like.height, like.frames, like.seed, like.steps) == (832, 480, 45, 42, 30)
    assert (like.flow_shift, like.cfg_scale) == (5.0, 4.0)  # 47 frames rounded down to 4n+1
    text = append_prompt_line("# mine\nfirst --w 16 --h 16", like)
    assert text.splitlines()[:2] == ["# mine", "first --w 16 --h 16"]
    assert [p.prompt for p in parse_prompts(text)] == ["first", "y"]
    with pytest.raises(PromptSyntaxError):
        append_prompt_line("", SamplePrompt("a --w 3"))


def test_unusable_answers_are_asked_again_then_reported():
    answers = ["", "loop loop loop loop loop loop", f"{TRIGGER}, a kite."]
    with FakeChatServer(responder=lambda body, n: chat_reply(answers[min(n, 2)])) as server:
        backend = OpenAIBackend("tiny-vl", url=server.url)
        expanded = expand_prompt(backend, "a kite", trigger=TRIGGER, template="{idea}")
        assert expanded.prompt == f"{TRIGGER} a kite." and expanded.attempts == 3
        assert [r.body.get("temperature") for r in server.requests] == [0.0, 0.7, 0.7]
        assert [r.content for r in server.requests] == [[{"type": "text", "text": "a kite"}]] * 3
    with FakeChatServer(responder=lambda body, n: chat_reply("")) as server:
        backend = OpenAIBackend("tiny-vl", url=server.url)
        with pytest.raises(ExpandError, match="unusable"):
            expand_prompt(backend, "a kite", trigger=TRIGGER, template="{idea}", retries=1)
        assert len(server.requests) == 2
        with pytest.raises(ExpandError, match="trigger phrase"):
            expand_prompt(backend, "a kite", trigger=" ", template="{idea}")


@pytest.mark.slow
def test_a_tiny_local_model_answers_a_text_only_request_and_its_text_is_cleaned():
    import torch

    from curator.core.captioning import make_backend
    from tests.tiny_vlm import tiny_vlm

    torch.set_num_threads(1)
    backend = make_backend("transformers", model=str(tiny_vlm("qwen2_vl")), device="cpu",
                           max_new_tokens=20, seed=0)
    template, _ = read_expand_template(None)
    asked = render_expand_prompt(template, "a fox in snow", TRIGGER)
    (raw,) = backend.caption_many([CaptionRequest(prompt=asked)])  # greedy: repeatable
    assert isinstance(raw, str) and raw
    expanded = expand_prompt(backend, "a fox in snow", trigger=TRIGGER, template=template)
    assert expanded.attempts == 1
    assert expanded.prompt == clean_expansion(raw, TRIGGER).text
    assert expanded.prompt.startswith(TRIGGER + " ")
    assert expanded.model_id.startswith("transformers:")
