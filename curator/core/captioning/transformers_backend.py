"""Local vision-language models through Hugging Face transformers: Qwen2-VL, Qwen2.5-VL, Qwen3-VL.

The model and its processor are loaded once per (model, device, dtype, quantization, attention,
trust_remote_code) and kept in a module-level cache, so a GUI that runs captioning again, or a
second backend object on the same model, does not load 15 GB twice; `release_models()` frees them.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curator.core.captioning.backend import (
    CaptionBackendError,
    CaptionRequest,
    InputTooLargeError,
    ModelLoadError,
)

log = logging.getLogger(__name__)

# The families whose processor takes pre-sampled frames with their timing (video_metadata) and
# whose generate() takes left-padded batches. Others may load but are not promised to work.
SUPPORTED_MODEL_TYPES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe")
QUANTIZATIONS = ("4bit", "8bit")
_REPO_MODELS_DIR = Path(__file__).resolve().parents[3] / "models"


@dataclass
class LoadedModel:
    """A model and its processor, ready to generate, and how they were loaded."""

    model: Any
    processor: Any
    source: str
    model_type: str
    device: str
    dtype: str
    key: tuple[Any, ...]


_CACHE: dict[tuple[Any, ...], LoadedModel] = {}
_CACHE_LOCK = threading.Lock()


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # the openai backend works without it; this one cannot
        raise ModelLoadError(
            "the transformers backend needs PyTorch and transformers "
            "(pip install 'curator[vlm]'); use --backend openai to caption through a server"
        ) from exc
    return torch


def resolve_model(model: str | Path) -> tuple[str, bool]:
    """Where a model comes from: an existing local folder, or else a Hugging Face hub id.

    A bare folder name is also looked up in the repository's `models/` folder, so
    `Qwen2-VL-7B-Instruct` finds `models/Qwen2-VL-7B-Instruct`.

    Returns:
        (source, is_local): an absolute folder path, or the hub id as given.

    Raises:
        ModelLoadError: a path that looks local (absolute, `./`, `models/...`, `~`) is missing.
    """
    text = str(model).strip()
    if not text:
        raise ModelLoadError("no model given: pass a local model folder or a Hugging Face hub id")
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path.resolve()), True
    in_repo = _REPO_MODELS_DIR / text
    if not path.is_absolute() and in_repo.is_dir():
        return str(in_repo.resolve()), True
    hub_like = re.fullmatch(r"[\w.-]+/[\w.-]+", text) is not None \
        and not text.startswith(("models/", "."))
    if path.exists():
        raise ModelLoadError(f"model folder {path} is a file, not a folder")
    if not hub_like:
        also = f" (nor {in_repo})" if not path.is_absolute() and os.sep not in text else ""
        raise ModelLoadError(f"model folder {path.resolve()} does not exist{also}")
    return text, False


def pick_device(device: str | None = None) -> str:
    """The device to run on: as asked, else CUDA when present, else Apple MPS, else CPU."""
    torch = _torch()
    if device and device != "auto":
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelLoadError(f"device {device!r} asked for, but PyTorch sees no CUDA GPU")
        return device
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, dtype: str | None = None) -> Any:
    """bfloat16 on a GPU that has it (float16 on older ones), float32 on CPU; or as asked."""
    torch = _torch()
    if dtype and dtype != "auto":
        names = {"bf16": "bfloat16", "bfloat16": "bfloat16", "fp16": "float16",
                 "float16": "float16", "half": "float16", "fp32": "float32", "float32": "float32"}
        if dtype not in names:
            raise ModelLoadError(f"unknown dtype {dtype!r}; use bfloat16, float16 or float32")
        return getattr(torch, names[dtype])
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _attention(device: str, dtype: Any, asked: str | None) -> str:
    """flash-attention 2 only where it is installed and can run; else PyTorch's SDPA."""
    torch = _torch()
    flash_ok = (_installed("flash_attn") and device.startswith("cuda")
                and dtype in (torch.float16, torch.bfloat16))
    if asked in (None, "", "auto"):
        return "flash_attention_2" if flash_ok else "sdpa"
    if asked in ("flash_attention_2", "flash-attention", "flash"):
        if not _installed("flash_attn"):
            raise ModelLoadError("flash-attention asked for, but the flash_attn package is not "
                                 "installed (pip install flash-attn); leave it on auto to use SDPA")
        if not flash_ok:
            raise ModelLoadError("flash-attention needs a CUDA GPU and bfloat16 or float16")
        return "flash_attention_2"
    if asked not in ("sdpa", "eager"):
        raise ModelLoadError(
            f"unknown attention {asked!r}; use auto, sdpa, eager or flash_attention_2")
    return asked


def _quantization_config(quantization: str | None, dtype: Any, device: str) -> Any:
    if not quantization:
        return None
    if quantization not in QUANTIZATIONS:
        raise ModelLoadError(f"unknown quantization {quantization!r}; use 4bit or 8bit")
    if not _installed("bitsandbytes"):
        raise ModelLoadError(f"{quantization} loading needs the bitsandbytes package "
                             "(pip install bitsandbytes); run without --quantize instead")
    if not device.startswith("cuda"):
        raise ModelLoadError(f"{quantization} loading with bitsandbytes needs a CUDA GPU")
    from transformers import BitsAndBytesConfig

    if quantization == "4bit":
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                  bnb_4bit_compute_dtype=dtype)
    return BitsAndBytesConfig(load_in_8bit=True)


def _load_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def load_model(model: str | Path, *, device: str | None = None, dtype: str | None = None,
               quantization: str | None = None, attn_implementation: str | None = None,
               trust_remote_code: bool = False) -> LoadedModel:
    """Load (or take from the cache) a vision-language model and its processor.

    Args:
        model: a local folder (a `save_pretrained` folder or a hub snapshot) or a hub id;
            with HF_HUB_OFFLINE=1 a hub id only loads from the local Hugging Face cache.
        device: 'cuda', 'cuda:1', 'mps', 'cpu' or None/'auto'.
        dtype: 'bfloat16', 'float16', 'float32' or None/'auto' (bf16 on CUDA, fp32 on CPU).
        quantization: None, '4bit' or '8bit' (needs bitsandbytes and CUDA).
        attn_implementation: None/'auto' (flash-attention 2 when installed, else SDPA), 'sdpa',
            'eager' or 'flash_attention_2'.
        trust_remote_code: run Python code shipped with the model; off unless the user turns it
            on for this model.

    Returns:
        The loaded model, in eval mode on its device.

    Raises:
        ModelLoadError: the folder is missing or is not a model, transformers does not know the
            model type, the weights do not load, or an optional feature asked for is missing;
            the message names the folder (or id) and the reason.
    """
    _torch()  # fails early, with the install hint, when torch is missing
    source, is_local = resolve_model(model)
    device_name = pick_device(device)
    torch_dtype = pick_dtype(device_name, dtype)
    attention = _attention(device_name, torch_dtype, attn_implementation)
    key = (source, device_name, str(torch_dtype), quantization or None, attention,
           bool(trust_remote_code))
    with _CACHE_LOCK:  # one load at a time: two threads asking for one model get one copy
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        loaded = _load_uncached(source, is_local, device_name, torch_dtype, quantization,
                                attention, bool(trust_remote_code), key)
        _CACHE[key] = loaded
        return loaded


def _load_uncached(source: str, is_local: bool, device: str, torch_dtype: Any,
                   quantization: str | None, attention: str, trust_remote_code: bool,
                   key: tuple[Any, ...]) -> LoadedModel:
    import transformers
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

    where = f"model folder {source}" if is_local else f"model {source!r}"
    if is_local and not (Path(source) / "config.json").is_file():
        raise ModelLoadError(f"{where} has no config.json: it is not a model folder "
                             "(expected a save_pretrained folder or a Hugging Face snapshot)")
    common: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if is_local:
        common["local_files_only"] = True
    try:
        config = AutoConfig.from_pretrained(source, **common)
    except (OSError, ValueError, KeyError) as exc:
        reason = _load_reason(exc)
        if not is_local and os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
            reason = ("it is not a local folder, and it is not in the Hugging Face cache while "
                      "offline (HF_HUB_OFFLINE=1); download it into models/ and pass that folder")
        elif "trust_remote_code" in reason and not trust_remote_code:
            reason = ("it ships its own Python code; turn on trust_remote_code for this model "
                      "only if you trust where it came from")
        elif "does not recognize this architecture" in reason or isinstance(exc, KeyError):
            reason = (f"transformers {transformers.__version__} does not know its model type "
                      f"({reason}); a newer transformers may")
        raise ModelLoadError(f"cannot load {where}: {reason}") from exc
    model_type = getattr(config, "model_type", "?")
    if model_type not in SUPPORTED_MODEL_TYPES:
        log.warning("%s is a %s model; Curator is tested with %s", where, model_type,
                    ", ".join(SUPPORTED_MODEL_TYPES))
    kwargs: dict[str, Any] = dict(common, dtype=torch_dtype, attn_implementation=attention)
    quant = _quantization_config(quantization, torch_dtype, device)
    use_device_map = _installed("accelerate") and device != "cpu"
    if quant is not None:
        kwargs["quantization_config"] = quant
    if use_device_map or quant is not None:
        # weights go straight to the GPU instead of through a full copy in RAM
        kwargs["device_map"] = {"": device}
    try:
        processor = AutoProcessor.from_pretrained(source, **common)
    except Exception as exc:
        raise ModelLoadError(f"cannot load the processor (tokenizer, image and video "
                             f"preprocessing) of {where}: {_load_reason(exc)}") from exc
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None or getattr(processor, "chat_template", None) is None:
        raise ModelLoadError(f"{where} has no tokenizer with a chat template, so it cannot be "
                             "prompted as a chat model")
    try:
        net = AutoModelForImageTextToText.from_pretrained(source, **kwargs)
        if "device_map" not in kwargs:
            net = net.to(device)
    except Exception as exc:
        if _is_oom(exc):
            raise ModelLoadError(f"cannot load {where}: out of memory on {device} "
                                 "(try --quantize 4bit, a smaller model, or another GPU)") from exc
        raise ModelLoadError(f"cannot load the weights of {where}: {_load_reason(exc)}") from exc
    net.eval()
    # batched generation appends new tokens on the right: prompts must be padded on the left
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LoadedModel(model=net, processor=processor, source=source, model_type=model_type,
                       device=device, dtype=str(torch_dtype).replace("torch.", ""), key=key)


def release_models(model: str | Path | None = None) -> int:
    """Drop cached models (all, or those loaded from `model`) and free their GPU memory.

    Returns:
        How many cached models were dropped.
    """
    source = None
    if model is not None:
        try:
            source = resolve_model(model)[0]
        except ModelLoadError:
            source = str(model)
    with _CACHE_LOCK:
        keys = [k for k in _CACHE if source is None or k[0] == source]
        for k in keys:
            del _CACHE[k]
    if keys:
        free_released_memory()
    return len(keys)


def free_released_memory() -> None:
    """Collect dropped models' reference cycles and hand the accelerator's cached memory back.

    Only on the main thread: a collection in a worker thread finalises whatever garbage is
    due, including objects another thread owns (the window's Qt wrappers: a crash). A job
    that releases models on a worker leaves this to its host, which calls it when the job
    ends (the window's Caption tab does).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    gc.collect()
    _empty_cache()


def cached_models() -> list[tuple[Any, ...]]:
    """The keys (source, device, dtype, quantization, attention, trust) of loaded models."""
    with _CACHE_LOCK:
        return list(_CACHE)


def _empty_cache() -> None:
    try:
        import torch
    except ImportError:
        return
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _is_oom(exc: BaseException) -> bool:
    try:
        import torch

        if isinstance(exc, torch.cuda.OutOfMemoryError):
            return True
    except ImportError:
        pass
    text = str(exc).lower()
    return ("out of memory" in text or "can't allocate memory" in text
            or "cannot allocate memory" in text)


def _as_rgb_array(image: Any) -> np.ndarray:
    if isinstance(image, np.ndarray):
        array = image
    else:  # a PIL image
        array = np.asarray(image.convert("RGB"))
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise CaptionBackendError(f"an image must be H×W×3 RGB, got shape {array.shape}")
    # torch refuses to wrap read-only arrays (PIL's are) without a warning: copy those only
    return np.require(array[:, :, :3], np.uint8, ["C_CONTIGUOUS", "WRITEABLE"])


class TransformersBackend:
    """Captions with a local Qwen2-VL / Qwen2.5-VL / Qwen3-VL model.

    Args:
        model: a local folder or a hub id (see `load_model`).
        device, dtype, quantization, attn_implementation, trust_remote_code: see `load_model`.
        batch_size: requests generated together (left-padded); 1 on CPU is fastest.
        max_new_tokens: the longest caption, in tokens.
        repetition_penalty: >1 makes loops less likely on the first try.
        retry_temperature: sampling temperature for retries of an empty or looping answer.
        seed: makes sampled retries repeatable.
        keep_loaded: keep the model in the cache after `close()` (False frees it).
        cpu_threads: PyTorch threads when running on the CPU (process-wide); None keeps
            PyTorch's choice. Fewer threads than cores leaves room for decoding, and on a
            machine whose cores are busy with other work 1 thread avoids threads spinning
            on each other (measured 20× faster for a tiny model on 2 loaded cores).
    """

    name = "transformers"

    def __init__(self, model: str | Path, *, device: str | None = None, dtype: str | None = None,
                 quantization: str | None = None, attn_implementation: str | None = None,
                 trust_remote_code: bool = False, batch_size: int = 1,
                 max_new_tokens: int = 320, repetition_penalty: float = 1.05,
                 retry_temperature: float = 0.7, seed: int | None = None,
                 keep_loaded: bool = True, cpu_threads: int | None = None) -> None:
        self.loaded = load_model(model, device=device, dtype=dtype, quantization=quantization,
                                 attn_implementation=attn_implementation,
                                 trust_remote_code=trust_remote_code)
        self.batch_size = max(1, int(batch_size))
        self.max_new_tokens = int(max_new_tokens)
        self.repetition_penalty = float(repetition_penalty)
        self.retry_temperature = float(retry_temperature)
        self.seed = seed
        self.keep_loaded = keep_loaded
        self._lock = threading.Lock()  # one generate() at a time on one model
        if cpu_threads and self.loaded.device == "cpu":
            _torch().set_num_threads(max(1, int(cpu_threads)))
        import transformers

        name = Path(self.loaded.source).name if Path(self.loaded.source).is_dir() \
            else self.loaded.source
        self.model_id = f"transformers:{name}"
        self.settings: dict[str, Any] = {
            "backend": "transformers", "model": self.loaded.source,
            "model_type": self.loaded.model_type, "device": self.loaded.device,
            "dtype": self.loaded.dtype, "quantization": quantization or None,
            "max_new_tokens": self.max_new_tokens,
            "repetition_penalty": self.repetition_penalty,
            "transformers": transformers.__version__,
        }

    # --- protocol ------------------------------------------------------------------------

    def caption_image(self, image: Any, prompt: str) -> str:
        return self._one(CaptionRequest(prompt=prompt, image=image))

    def caption_video(self, frames: Sequence[np.ndarray], fps: float, prompt: str) -> str:
        return self._one(CaptionRequest(prompt=prompt, frames=list(frames), fps=fps))

    def caption_many(self, requests: Sequence[CaptionRequest]) -> list[str | Exception]:
        """Raw text per request; images and clips are batched separately, `batch_size` at a time.

        A batch that runs out of memory is split and retried one request at a time; a single
        request that still does not fit comes back as `InputTooLargeError`, so the job can
        retry it with fewer frames.
        """
        results: list[str | Exception | None] = [None] * len(requests)
        groups: dict[tuple[str, int], list[int]] = {}
        for i, request in enumerate(requests):
            groups.setdefault((request.kind, request.attempt), []).append(i)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                for i, result in zip(chunk, self._generate_split([requests[i] for i in chunk])):
                    results[i] = result
        return [r if r is not None else CaptionBackendError("no result") for r in results]

    def close(self) -> None:
        if not self.keep_loaded:
            release_models(self.loaded.source)

    # --- internals -----------------------------------------------------------------------

    def _one(self, request: CaptionRequest) -> str:
        result = self.caption_many([request])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def _generate_split(self, batch: list[CaptionRequest]) -> list[str | Exception]:
        try:
            return self._generate(batch)
        except Exception as exc:  # noqa: BLE001 - isolate the request at fault, or report OOM
            _empty_cache()
            if len(batch) > 1:
                log.info("batch of %d failed (%s); retrying one at a time", len(batch), exc)
                return [r for request in batch for r in self._generate_split([request])]
            request = batch[0]
            if _is_oom(exc):
                what = (f"{len(request.frames)} frames of {_size(request.frames[0])}"
                        if request.frames is not None else f"an image of {_size(request.image)}")
                return [InputTooLargeError(
                    f"out of memory on {self.loaded.device} with {what}")]
            return [CaptionBackendError(f"the model failed: {_load_reason(exc)}")]

    def _generate(self, batch: list[CaptionRequest]) -> list[str]:
        torch = _torch()
        processor, net = self.loaded.processor, self.loaded.model
        kind = batch[0].kind
        texts = [processor.apply_chat_template(_messages(r), tokenize=False,
                                               add_generation_prompt=True) for r in batch]
        call: dict[str, Any] = {"text": texts, "padding": True, "return_tensors": "pt"}
        if kind == "image":
            images = [_as_rgb_array(r.image) for r in batch]
            call["images"] = images
            call["images_kwargs"] = {"size": _size_budget(processor.image_processor, images)}
        elif kind == "video":  # "text" (prompt expansion) takes no pixels
            videos = [np.stack([_as_rgb_array(f) for f in r.frames]) for r in batch]
            call["videos"] = videos
            videos_kwargs: dict[str, Any] = {
                "size": _size_budget(processor.video_processor, [v[0] for v in videos]),
                "do_sample_frames": False,  # the frames arrive sampled, at their real spacing
                "video_metadata": [_metadata(v, r.fps) for v, r in zip(videos, batch)],
            }
            if hasattr(processor.video_processor, "cap_pixels_per_frame"):
                videos_kwargs["cap_pixels_per_frame"] = True  # qwen-vl-utils' token budget
            call["videos_kwargs"] = videos_kwargs
        inputs = processor(**call).to(net.device)
        attempt = max(r.attempt for r in batch)
        generate: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "repetition_penalty": self.repetition_penalty,
            "pad_token_id": processor.tokenizer.pad_token_id,
        }
        if attempt == 0:
            generate.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:  # a retry of an empty or looping answer: sample, and punish repeats harder
            generate.update(do_sample=True, temperature=self.retry_temperature, top_p=0.9,
                            top_k=None,
                            repetition_penalty=max(self.repetition_penalty, 1.15))
            if self.seed is not None:
                torch.manual_seed(self.seed + attempt)
        with self._lock, torch.inference_mode():
            output = net.generate(**inputs, **generate)
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        return processor.batch_decode(new_tokens, skip_special_tokens=True,
                                      clean_up_tokenization_spaces=False)


def _messages(request: CaptionRequest) -> list[dict[str, Any]]:
    # the chat template only needs to know where the image or video goes; pixels go separately
    media = [] if request.kind == "text" else [{"type": request.kind}]
    return [{"role": "user", "content": [*media, {"type": "text", "text": request.prompt}]}]


def _metadata(video: np.ndarray, fps: float | None) -> dict[str, Any]:
    n = int(video.shape[0])
    rate = float(fps) if fps and fps > 0 else 1.0
    return {"total_num_frames": n, "fps": rate, "frames_indices": list(range(n)),
            "duration": n / rate, "height": int(video.shape[1]), "width": int(video.shape[2])}


def _size_budget(image_processor: Any, frames: Sequence[np.ndarray]) -> dict[str, int]:
    """Keep the processor within the pixels the job sampled: round to patches, never enlarge.

    Qwen3-VL's video processor would otherwise enlarge every frame to 131k pixels at least.
    """
    largest = max(int(f.shape[0]) * int(f.shape[1]) for f in frames)
    smallest = min(int(f.shape[0]) * int(f.shape[1]) for f in frames)
    default = getattr(image_processor, "size", None) or {}
    default_min = int(default.get("shortest_edge") or 0) if hasattr(default, "get") else 0
    default_max = int(default.get("longest_edge") or largest) if hasattr(default, "get") \
        else largest
    patch = int(getattr(image_processor, "patch_size", 14) or 14) * \
        int(getattr(image_processor, "merge_size", 2) or 2)
    floor = patch * patch
    longest = max(floor, min(default_max, largest))
    shortest = max(floor, min(default_min or floor, smallest))
    return {"shortest_edge": min(shortest, longest), "longest_edge": longest}


def _size(image: Any) -> str:
    if isinstance(image, np.ndarray):
        return f"{image.shape[1]}×{image.shape[0]}"
    size = getattr(image, "size", None)
    return f"{size[0]}×{size[1]}" if size else "?"
