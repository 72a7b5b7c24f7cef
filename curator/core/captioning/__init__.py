"""Captioning: backends behind one protocol, clean-up of model output, prompts, and the job.

Importing this package does not import torch or transformers; the transformers backend loads
them when it is made.
"""

from curator.core.captioning.backend import (
    BACKENDS,
    CaptionBackend,
    CaptionBackendError,
    CaptionRequest,
    InputTooLargeError,
    ModelLoadError,
    ReportsRetries,
    RetryNotice,
    make_backend,
)
from curator.core.captioning.cleanup import CleanCaption, clean_caption, find_repetition
from curator.core.captioning.jobs import (
    CaptionReport,
    CaptionResult,
    Sampling,
    caption_items,
    run_caption_job,
)
from curator.core.captioning.prompts import (
    PromptError,
    Prompts,
    default_prompt,
    prompt_hash,
    read_prompt_file,
    render_prompt,
)

__all__ = [
    "BACKENDS",
    "CaptionBackend",
    "CaptionBackendError",
    "CaptionReport",
    "CaptionRequest",
    "CaptionResult",
    "CleanCaption",
    "InputTooLargeError",
    "ModelLoadError",
    "PromptError",
    "Prompts",
    "ReportsRetries",
    "RetryNotice",
    "Sampling",
    "caption_items",
    "clean_caption",
    "default_prompt",
    "find_repetition",
    "make_backend",
    "prompt_hash",
    "read_prompt_file",
    "render_prompt",
    "run_caption_job",
]
