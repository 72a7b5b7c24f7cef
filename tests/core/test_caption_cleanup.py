"""Clean-up of model output, prompts and their hashes, the backend registry: no model needed."""

from __future__ import annotations

import numpy as np
import pytest

from curator.core.captioning import (
    BACKENDS,
    CaptionBackendError,
    CaptionRequest,
    PromptError,
    Prompts,
    Sampling,
    clean_caption,
    default_prompt,
    find_repetition,
    make_backend,
    prompt_hash,
    read_prompt_file,
    render_prompt,
)

TRIGGER = "ohwx style"


@pytest.mark.parametrize("raw, expected", [
    ("ohwx style A woman walks through the rain at night.",
     "ohwx style A woman walks through the rain at night."),
    ("Sure! Here is a detailed description of the scene:\n\nohwx style A woman walks.\n"
     "- Lighting: warm street lamps\n- Shot: close-up\n\nLet me know if you need more details!",
     "ohwx style A woman walks. Lighting: warm street lamps. Shot: close-up."),
    ("\"ohwx style\" a cat sits on a mat. The light is soft.",
     "ohwx style a cat sits on a mat. The light is soft."),
    ("'ohwx style a cat sits on a mat.'", "ohwx style a cat sits on a mat."),
    ("ohwx style, ohwx style: a cat, drawn in ohwx style, jumps.",
     "ohwx style a cat, drawn in, jumps."),
    ("A cat jumps over the fence in the garden at dusk.",
     "ohwx style A cat jumps over the fence in the garden at dusk."),
    ("1) A man runs. 2) The street is wet. 3) Long shot.",
     "ohwx style A man runs. The street is wet. Long shot."),
    ("1. A man runs\n2. The street is wet\n3. Long shot",
     "ohwx style A man runs. The street is wet. Long shot"),
    ("<think>the user wants a caption</think>Certainly. Here's a detailed description: A dog.",
     "ohwx style A dog."),
    ("**Description:** A red car drives\r\nthrough rain.",
     "ohwx style A red car drives through rain."),
    ("Rain falls.\n\nA car drives\nthrough it", "ohwx style Rain falls. A car drives through it"),
    ("OHWX STYLE a boat at sea.", "ohwx style a boat at sea."),
    ("ohwx style\x00 a boat \ufffdat sea.", "ohwx style a boat at sea."),
])
def test_clean_caption_puts_the_trigger_first_once_and_folds_the_text(raw, expected):
    clean = clean_caption(raw, TRIGGER)
    assert clean.ok, clean.problem
    assert clean.text == expected
    assert clean.text.startswith(TRIGGER + " ")
    assert clean.text.lower().count(TRIGGER) == 1
    assert "\n" not in clean.text


@pytest.mark.parametrize("raw", ["", "   ", "ohwx style", "Sure, here it is:", "ohwx style ..."])
def test_empty_answers_are_flagged_not_saved(raw):
    clean = clean_caption(raw, TRIGGER)
    assert clean.problem == "empty"


@pytest.mark.parametrize("raw", [
    "the cat the cat the cat the cat sits",
    "a very very very very very very long road",
    "A girl runs. She is running and running and running and running and running.",
    "A bird flies over the sea, over the sea, over the sea, over the sea, over the sea.",
    "ǒ�ǒ�ǒ�ǒ�ǒ�ǒ�ǒ�ǒ�ǒ�ǒ�ǒ�ǒ�ǒ�ǒ�ǒ�ǒ",
    "A man" + " stands" * 40,
])
def test_repetition_loops_are_flagged(raw):
    clean = clean_caption(raw, TRIGGER)
    assert clean.problem is not None and clean.problem.startswith(("repetition", "empty"))


@pytest.mark.parametrize("text", [
    "A man in a red coat walks past a red car; the red light of the sign falls on the car.",
    "Close-up of a face. The face turns. The camera holds on the face.",
    "Numbers 1 2 3 on a door, a clock at 12:00:00, a sign that says 1111.",
])
def test_ordinary_repeated_words_are_not_loops(text):
    assert find_repetition(text) is None
    assert clean_caption(text, TRIGGER).ok


def test_no_trigger_leaves_the_text_alone_but_capitalised():
    assert clean_caption("a boat at sea.", "").text == "A boat at sea."


def test_default_prompts_come_from_resources_and_hold_the_trigger_field():
    for kind in ("image", "video"):
        template = default_prompt(kind)
        assert "{trigger}" in template
        rendered = render_prompt(template, TRIGGER)
        assert "{trigger}" not in rendered and f"'{TRIGGER} '" in rendered
    # the image prompt's own template braces are for the model and stay as written
    assert "{main action/description}" in render_prompt(default_prompt("image"), TRIGGER)
    with pytest.raises(PromptError):
        default_prompt("audio")


def test_prompt_hash_follows_the_rendered_text(tmp_path):
    a = render_prompt(default_prompt("video"), "ohwx")
    b = render_prompt(default_prompt("video"), "other")
    assert prompt_hash(a) == prompt_hash(a) and prompt_hash(a) != prompt_hash(b)
    path = tmp_path / "p.txt"
    path.write_text("  Describe {trigger} here.\n", encoding="utf-8")
    assert read_prompt_file(path) == "Describe {trigger} here."
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(PromptError, match="empty"):
        read_prompt_file(tmp_path / "empty.txt")
    with pytest.raises(PromptError, match="cannot read"):
        read_prompt_file(tmp_path / "missing.txt")


def test_project_prompts_fall_back_to_the_defaults(catalog):
    assert Prompts.from_settings(catalog.settings()) == Prompts.defaults()
    catalog.update_settings(video_prompt="Say what moves. Start with '{trigger} '.")
    prompts = Prompts.from_settings(catalog.settings())
    assert prompts.video.startswith("Say what moves") and prompts.image == default_prompt("image")


def test_registry_names_and_errors():
    assert set(BACKENDS) == {"transformers", "openai"}
    with pytest.raises(CaptionBackendError, match="unknown caption backend"):
        make_backend("llava")
    with pytest.raises(CaptionBackendError, match="openai backend"):
        make_backend("openai", model="m", no_such_option=1)
    assert CaptionRequest(prompt="p").kind == "text"  # prompt expansion: no pixels
    with pytest.raises(ValueError):
        CaptionRequest(prompt="p", image=np.zeros((4, 4, 3), np.uint8), frames=[])
    with pytest.raises(ValueError):
        Sampling(fps=0)
