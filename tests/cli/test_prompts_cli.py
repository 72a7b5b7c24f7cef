"""`curator prompts expand` against a real local HTTP server and a tiny local random model.

The server (tests/caption_fixtures.py) speaks the chat-completions protocol and records what
Curator sends; the tiny random-weight Qwen2-VL (tests/tiny_vlm.py) writes garbage, so those
tests check the structure (trigger first, clean-up applied, file appended), not the words.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.cli import main
from curator.core.captioning.expand import clean_expansion
from curator.core.catalog import Catalog
from curator.core.training.prompts import parse_prompts, validate_prompts
from tests.caption_fixtures import FakeChatServer, chat_reply, error_reply

TRIGGER = "Studio Ghibli style."
CHATTY = ('Sure! Here is an expanded prompt:\n\n"A red fox -- bounding through deep snow. '
          "Soft watercolour\nskies, hand-drawn lines; the camera tracks low beside it, "
          'then rises."\n\nLet me know if you need more!')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    catalog = Catalog.for_project(root)
    catalog.update_settings(trigger=TRIGGER)
    catalog.close()
    return root


def expand(capsys, project: Path, *args: str) -> tuple[int, dict | str, str]:
    code = main(["--project", str(project), "prompts", "expand", *args])
    out = capsys.readouterr()
    if "--json" in args and code == 0:
        return code, json.loads(out.out), out.err
    return code, out.out, out.err


def test_expand_prints_one_clean_prompt_through_the_projects_caption_settings(project, capsys):
    with FakeChatServer(responder=lambda body, n: chat_reply(CHATTY)) as server:
        # The backend, model, URL and token limit stored by `curator caption` / the Caption tab.
        catalog = Catalog.for_project(project)
        catalog.update_settings(caption={"backend": "openai", "model": "tiny-vl",
                                         "url": server.url, "max_new_tokens": 200})
        catalog.close()
        code, data, err = expand(capsys, project, "a fox in snow", "--json")
        assert code == 0, err
        (request,) = server.requests
    prompt = data["prompt"]
    assert prompt.startswith(TRIGGER + " A red fox")
    assert prompt.count(TRIGGER) == 1
    for gone in ('"', "\n", " --", "Sure", "Here is", "Let me know"):
        assert gone not in prompt
    assert data["words"] == len(prompt.split()) and data["attempts"] == 1
    assert data["template"].endswith("expand.txt")
    # Text only, the shipped meta-prompt with the idea and the trigger, the stored settings.
    assert request.body["model"] == "tiny-vl" and request.body["max_tokens"] == 200
    assert request.body["temperature"] == 0.0
    (part,) = request.content
    assert part["type"] == "text"
    assert "Idea: a fox in snow" in part["text"] and f"trigger phrase {TRIGGER}" in part["text"]
    assert "80 to 100 words" in part["text"] and "no quotes" in part["text"]

    with FakeChatServer(responder=lambda body, n: chat_reply(CHATTY)) as server:
        code, out, _ = expand(capsys, project, "a fox", "--backend", "openai", "--model",
                              "tiny-vl", "--url", server.url)
    assert code == 0 and out == prompt + "\n"  # without --json: the prompt alone, for a pipe


def test_a_looping_answer_is_asked_again_with_the_captioning_retry_settings(project, capsys):
    answers = ["the the the the the the the the", "A kite over a hill at dusk."]
    with FakeChatServer(responder=lambda body, n: chat_reply(answers[min(n, 1)])) as server:
        code, data, err = expand(capsys, project, "a kite", "--backend", "openai", "--model",
                                 "tiny-vl", "--url", server.url, "--json")
        bodies = [r.body for r in server.requests]
    assert code == 0, err
    assert data["prompt"] == f"{TRIGGER} A kite over a hill at dusk."
    assert data["attempts"] == 2
    assert bodies[0]["temperature"] == 0.0 and bodies[1]["temperature"] == 0.7
    assert bodies[1]["frequency_penalty"] == 0.3


def test_a_projects_own_meta_prompt_replaces_the_shipped_one(project, capsys):
    own = project / "prompts" / "expand.txt"
    own.parent.mkdir()
    own.write_text("Style {trigger}; idea {idea}. One line.\n", encoding="utf-8")
    with FakeChatServer(responder=lambda body, n: chat_reply("Rain on a tin roof.")) as server:
        code, data, err = expand(capsys, project, "rain", "--backend", "openai", "--model",
                                 "tiny-vl", "--url", server.url, "--json")
        (request,) = server.requests
    assert code == 0, err
    assert request.content[0]["text"] == f"Style {TRIGGER}; idea rain. One line."
    assert data["template"] == str(own)


def test_add_appends_the_prompt_with_sample_options_to_the_profiles_file(project, capsys):
    prompts_file = project / "training" / "wan21-14b-style-24gb.prompts.txt"
    with FakeChatServer(responder=lambda body, n: chat_reply(CHATTY)) as server:
        base = ["--backend", "openai", "--model", "tiny-vl", "--url", server.url]
        code, data, err = expand(capsys, project, "a fox", *base, "--add",
                                 "wan21-14b-style-24gb", "--json")
        assert code == 0, err
        assert data["added"]["file"] == str(prompts_file)
        assert "sampling.prompts" in err  # the preset does not name the file yet: say how
        # A second prompt takes the file's own options; one given on the line wins.
        prompts_file.write_text("# my samples\n" + prompts_file.read_text(), encoding="utf-8")
        code, _, err = expand(capsys, project, "a kite", *base, "--add",
                              "wan21-14b-style-24gb", "--w", "512")
        assert code == 0, err
    text = prompts_file.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# my samples" and len(lines) == 3
    assert lines[1] == data["prompt"] + " --w 384 --h 384 --f 45 --d 7 --s 20 --l 5.0 --fs 3.0"
    assert lines[2].endswith(" --w 512 --h 384 --f 45 --d 7 --s 20 --l 5.0 --fs 3.0")
    prompts = parse_prompts(text)
    assert [p.prompt.startswith(TRIGGER) for p in prompts] == [True, True]
    assert validate_prompts(prompts, task="t2v-14B", trigger=TRIGGER) == []


def test_errors_are_sentences_and_write_nothing(project, capsys, tmp_path):
    with FakeChatServer(api_key="secret") as server:
        base = ["--backend", "openai", "--model", "tiny-vl", "--url", server.url]
        code, _, err = expand(capsys, project, "a fox", *base)
        assert code == 2 and "API key" in err
        asked = len(server.requests)
        code, _, err = expand(capsys, project, "a fox", *base, "--add", "no-such-profile")
        assert code == 2 and "no-such-profile" in err and len(server.requests) == asked
    code, _, err = expand(capsys, project, "a fox", "--backend", "openai", "--model", "m",
                          "--url", server.url, "--trigger", "")
    assert code == 2 and "trigger phrase" in err
    code, _, err = expand(capsys, project, "a fox", "--backend", "openai")
    assert code == 2 and "no model" in err
    with FakeChatServer(responder=lambda body, n: error_reply(400, "bad")) as server:
        code, _, err = expand(capsys, project, "   ", "--backend", "openai", "--model",
                              "tiny-vl", "--url", server.url)
    assert code == 2 and "idea is empty" in err
    assert not (project / "training").exists()


@pytest.mark.slow
def test_expand_with_a_tiny_local_model_gives_a_clean_prompt_trigger_first(project, capsys):
    import torch

    from tests.tiny_vlm import tiny_vlm

    torch.set_num_threads(1)
    model = tiny_vlm("qwen2_vl")
    code, data, err = expand(capsys, project, "a fox in snow", "--backend", "transformers",
                             "--model", str(model), "--device", "cpu", "--max-new-tokens", "24",
                             "--seed", "0", "--add", "wan21-14b-style-24gb", "--json")
    assert code == 0, err
    prompt = data["prompt"]
    assert data["model"] == f"transformers:{model.name}"
    assert prompt.startswith(TRIGGER + " ") and prompt.count(TRIGGER) == 1
    assert clean_expansion(prompt, TRIGGER).text == prompt  # the clean-up left nothing to do
    assert "\n" not in prompt and " --" not in prompt and '"' not in prompt
    (line,) = (project / "training" / "wan21-14b-style-24gb.prompts.txt").read_text(
        encoding="utf-8").splitlines()
    (parsed,) = parse_prompts(line)
    assert parsed.prompt == prompt and (parsed.width, parsed.frames, parsed.seed) == (384, 45, 7)
