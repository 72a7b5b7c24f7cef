"""Tiny random-weight Qwen2-VL, Qwen2.5-VL and Qwen3-VL models, built here, for captioning tests.

No weights can be downloaded, so a test builds the real architectures from a small config
(hidden size 64, 2 text layers, a 1-2 layer vision tower), a byte-level BPE tokenizer trained
on a few sentences with the `tokenizers` library (holding the Qwen chat and vision special
tokens), the real image and video processors and Qwen2-VL's chat template, and saves them with
`save_pretrained`, as a hub snapshot would be laid out. The app then loads the folder through
its own loading code. The text such a model writes is noise: tests assert on the path (captions
saved, trigger first, versions recorded), never on the words.

    folder = build_tiny_vlm(tmp_path / "tiny-qwen2-vl", family="qwen2_vl")
    folder = tiny_vlm("qwen2_vl")   # built once per test session, in a temporary folder
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

FAMILIES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl")

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                  "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")

# Qwen2-VL-7B-Instruct's chat template (the Qwen2.5-VL and Qwen3-VL ones differ only in the
# default system prompt and tool calls, which captioning does not use).
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}"
    "Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}"
    "Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# What the tokenizer's merges are learnt from: caption-like English, so that decoded noise
# is made of word pieces rather than single bytes.
_CORPUS = (
    "Create a very detailed description of this scene and of this video. The description "
    "must always start with the unaltered phrase, followed by a detailed description of the "
    "main content, the environment and lighting, the type of shot, close-up, medium, long "
    "shot, aerial, and the atmosphere of the scene: cozy, tense, mysterious. A woman walks "
    "through a quiet street at night while rain falls on the warm lights of the shops."
)


def build_tokenizer(vocab_size: int = 480):
    """A byte-level BPE Qwen2 tokenizer with the chat and vision special tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers.models.qwen2.tokenization_qwen2 import Qwen2Tokenizer

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator([_CORPUS] * 4, trainer)
    learnt = json.loads(bpe.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in learnt["merges"]]
    return Qwen2Tokenizer(vocab=learnt["vocab"], merges=merges,
                          additional_special_tokens=list(SPECIAL_TOKENS[1:]))


# The text and vision sizes of the tiny models; QWEN2_VL_7B is Qwen2-VL-7B-Instruct's config.json.
TINY_TEXT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 4096,
             # head_dim 16: the 8 rotary frequencies split over time, height and width
             "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                 "mrope_section": [2, 3, 3]}}
TINY_VISION = {
    "qwen2_vl": {"depth": 1, "embed_dim": 32, "hidden_size": 64, "num_heads": 2, "mlp_ratio": 2},
    "qwen2_5_vl": {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                   "out_hidden_size": 64, "window_size": 56, "fullatt_block_indexes": [1]},
    "qwen3_vl": {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                 "out_hidden_size": 64, "num_position_embeddings": 64,
                 "deepstack_visual_indexes": [0]},
}
QWEN2_VL_7B_TEXT = {"vocab_size": 152064, "hidden_size": 3584, "intermediate_size": 18944,
                    "num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4,
                    "max_position_embeddings": 32768, "rms_norm_eps": 1e-6,
                    "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0,
                                        "mrope_section": [16, 24, 24]}}
QWEN2_VL_7B_VISION = {"depth": 32, "embed_dim": 1280, "hidden_size": 3584, "num_heads": 16,
                      "mlp_ratio": 4}


def build_tiny_vlm(folder: Path, family: str = "qwen2_vl", *, seed: int = 0) -> Path:
    """Build, save and return a tiny random-weight model folder of one Qwen VL family.

    Args:
        folder: where to save (created).
        family: 'qwen2_vl', 'qwen2_5_vl' or 'qwen3_vl'.
        seed: the weights' random seed.

    Returns:
        The folder, holding config.json, model.safetensors, generation_config.json, the
        tokenizer, processor_config.json and chat_template.jinja.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; use one of {FAMILIES}")
    return build_vlm(folder, family, TINY_TEXT, TINY_VISION[family], seed=seed)


def build_qwen2_vl_7b(folder: Path, *, device: str = "cuda", text_layers: int | None = None,
                      vision_layers: int | None = None, seed: int = 0) -> Path:
    """A full-size Qwen2-VL-7B architecture with random weights (bfloat16): the real compute.

    The tokenizer is the tiny one (its ids cover only the first few hundred of the 152,064
    embedding rows), so the words are noise, as with the tiny models. `text_layers` and
    `vision_layers` shrink it for a smoke test of this path.
    """
    text = dict(QWEN2_VL_7B_TEXT)
    vision = dict(QWEN2_VL_7B_VISION)
    if text_layers is not None:
        text["num_hidden_layers"] = text_layers
    if vision_layers is not None:
        vision["depth"] = vision_layers
    return build_vlm(folder, "qwen2_vl", text, vision, seed=seed, device=device,
                     dtype="bfloat16")


def build_vlm(folder: Path, family: str, text_dims: dict, vision_dims: dict, *, seed: int = 0,
              device: str | None = None, dtype: str | None = None) -> Path:
    """Build a random-weight Qwen VL model of the given sizes with the tiny tokenizer; save it."""
    import torch
    import transformers as tf

    tokenizer = build_tokenizer()
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}
    text = {"vocab_size": len(tokenizer), **text_dims,
            "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"]}
    special = {"image_token_id": ids["<|image_pad|>"], "video_token_id": ids["<|video_pad|>"],
               "vision_start_token_id": ids["<|vision_start|>"],
               "vision_end_token_id": ids["<|vision_end|>"]}
    image_processor = tf.Qwen2VLImageProcessor()
    video_processor = tf.Qwen2VLVideoProcessor()
    if family == "qwen2_vl":
        config = tf.Qwen2VLConfig(text_config=text, vision_config=vision_dims, **special)
        model_cls, processor_cls = tf.Qwen2VLForConditionalGeneration, tf.Qwen2VLProcessor
    elif family == "qwen2_5_vl":
        config = tf.Qwen2_5_VLConfig(text_config=text, vision_config=vision_dims, **special)
        model_cls, processor_cls = tf.Qwen2_5_VLForConditionalGeneration, tf.Qwen2_5_VLProcessor
    elif family == "qwen3_vl":
        text = dict(text, head_dim=text["hidden_size"] // text["num_attention_heads"])
        text["rope_parameters"] = dict(text["rope_parameters"], mrope_interleaved=True)
        config = tf.Qwen3VLConfig(text_config=text, vision_config=vision_dims, **special)
        model_cls, processor_cls = tf.Qwen3VLForConditionalGeneration, tf.Qwen3VLProcessor
        image_processor = tf.Qwen2VLImageProcessor(patch_size=16)
        video_processor = tf.Qwen3VLVideoProcessor()
    else:
        raise ValueError(f"unknown family {family!r}; use one of {FAMILIES}")
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    if dtype:  # initialise in the target dtype: a 7B model in float32 is 30 GB
        torch.set_default_dtype(getattr(torch, dtype))
    try:
        with torch.device(device or "cpu"):
            model = model_cls(config).eval()
    finally:
        torch.set_default_dtype(previous)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    processor = processor_cls(image_processor=image_processor, tokenizer=tokenizer,
                              video_processor=video_processor, chat_template=CHAT_TEMPLATE)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    del model
    return folder


_BUILT: dict[str, Path] = {}


def tiny_vlm(family: str = "qwen2_vl") -> Path:
    """A tiny model folder of `family`, built on first use and shared by the whole session."""
    if family not in _BUILT:
        root = Path(tempfile.mkdtemp(prefix="curator-tiny-vlm-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _BUILT[family] = build_tiny_vlm(root / f"tiny-{family.replace('_', '-')}", family)
    return _BUILT[family]
