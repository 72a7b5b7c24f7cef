"""The Caption tab's fixed choices and the few words it writes about a run (Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from curator.core.captioning import CaptionReport, CaptionResult
from curator.gui.workers import format_eta

SAVE_DELAY_MS = 700
#: The origin column's width in the live list; long model ids are elided (full in the tooltip).
ORIGIN_WIDTH = 170

BACKENDS = (("transformers", "Local model (transformers)"),
            ("openai", "OpenAI-compatible server"))
#: Which decisions are captioned: stable id -> label. `active` = everything but rejected.
STATUS_CHOICES = (("active", "Accepted and pending"), ("accepted", "Accepted only"),
                  ("pending", "Pending only"), ("all", "All, rejected too"))
ITEM_CHOICES = (("both", "Clips and images"), ("clips", "Clips only"),
                ("images", "Images only"), ("selected", "Clips selected in the browser"))
DEVICES = ("auto", "cuda", "cpu", "mps")
DTYPES = ("auto", "bfloat16", "float16", "float32")
QUANTIZE = (("", "none"), ("4bit", "4-bit (bitsandbytes)"), ("8bit", "8-bit (bitsandbytes)"))
ATTENTION = ("auto", "sdpa", "eager", "flash_attention_2")
VIDEO_MODES = (("images", "Frames as JPEG images"), ("video_url", "One MP4 (video_url, vLLM)"))
REPO_MODELS_DIR = Path(__file__).resolve().parents[4] / "models"



@dataclass(frozen=True)
class SavedCaption:
    """A caption the run saved, as `caption_saved` carries it (what the window refreshes)."""

    clip_id: int | None
    image_id: int | None
    name: str
    text: str
    origin: str
    caption_id: int

    @classmethod
    def from_result(cls, result: CaptionResult) -> SavedCaption:
        clip = result.kind == "clip"
        return cls(clip_id=result.id if clip else None, image_id=None if clip else result.id,
                   name=result.name, text=result.text, origin=result.origin,
                   caption_id=result.caption_id)

    @property
    def label(self) -> str:
        return f"Clip {self.clip_id}" if self.clip_id is not None else f"Image {self.image_id}"




def summary_text(report: CaptionReport | None, status: str) -> str:
    """One line saying how a run ended, for the status label."""
    if report is None:
        return "Stopped by an error" if status == "failed" else status.capitalize()
    parts = [f"{report.done} captioned"]
    if report.skipped:
        parts.append(f"{report.skipped} already had one")
    if report.skipped_manual:
        parts.append(f"{report.skipped_manual} kept as written by hand")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.retried:
        parts.append(f"{report.retried} asked again")
    head = {"done": "Finished", "cancelled": "Cancelled", "failed": "Stopped"}.get(status, status)
    untouched = report.done == 0 and not report.failed and not report.skipped \
        and not report.skipped_manual
    if untouched and status == "done":
        return "Nothing to caption: no clips or images match"
    if untouched and status == "failed":
        return "Stopped before captioning anything"
    timing = ""
    if report.wall_seconds:
        seconds = report.wall_seconds
        timing = f" in {seconds:.1f} s" if seconds < 60 else f" in {format_eta(seconds)}"
    return f"{head}{timing}: " + ", ".join(parts)




def short_origin(origin: str) -> str:
    """A caption origin as the list shows it: 'openai:Qwen/Qwen2.5-VL-7B' -> 'Qwen2.5-VL-7B'."""
    name = origin.split(":", 1)[-1]
    return name.rstrip("/").rsplit("/", 1)[-1] or origin




def html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


