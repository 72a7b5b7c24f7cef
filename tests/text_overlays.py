"""Burned-in text drawn with Pillow over real frames: subtitles, credits, corner watermarks.

Used by the text detector's tests and by `bench/text.py`, so both measure real rendered glyphs
(DejaVu for Latin, Noto CJK for Japanese) over real footage, not synthetic shapes.

`Overlay(kind, lines, ...)` describes one overlay; `overlay_layer(overlay, width, height)`
renders it once as an RGBA layer; `composite(frame, layer)` puts it over an RGB frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf")
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc")
JP_INDEX = 0  # the Japanese face of the .ttc collections (JP is the first)


def have_fonts(cjk: bool = False) -> bool:
    fonts = LATIN_FONTS[:1] + (CJK_FONTS[:1] if cjk else ())
    return all(Path(f).exists() for f in fonts)


@dataclass(frozen=True)
class Overlay:
    """One piece of burned-in text.

    kind: "subtitles" (bottom, centred, outlined), "credits" (centred lines, large),
        "watermark" (small, semi-transparent, in a corner).
    lines: the text, one string a line.
    script: "latin" or "cjk" (which font).
    size: the glyph height as a share of the frame height.
    colour: the fill; subtitles get a black outline, credits a soft shadow.
    alpha: opacity (watermarks 0.4-0.7).
    corner: for watermarks, "tl", "tr", "bl" or "br".
    font: which of the script's fonts (0, 1, 2).
    boxed: subtitles on a semi-transparent dark box instead of an outline.
    """

    kind: str
    lines: tuple[str, ...]
    script: str = "latin"
    size: float = 0.055
    colour: tuple[int, int, int] = (255, 255, 255)
    alpha: float = 1.0
    corner: str = "br"
    font: int = 0
    boxed: bool = False


def _font(overlay: Overlay, px: int) -> ImageFont.FreeTypeFont:
    if overlay.script == "cjk":
        return ImageFont.truetype(CJK_FONTS[overlay.font % 3], px, index=JP_INDEX)
    return ImageFont.truetype(LATIN_FONTS[overlay.font % 3], px)


def overlay_layer(overlay: Overlay, width: int, height: int) -> tuple[Image.Image, list[list[int]]]:
    """The overlay as an RGBA layer of the frame's size, and each line's box [x, y, w, h]."""
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    px = max(8, round(overlay.size * height))
    font = _font(overlay, px)
    stroke = max(1, px // 12) if overlay.kind == "subtitles" and not overlay.boxed else 0
    sizes = [draw.textbbox((0, 0), line, font=font, stroke_width=stroke) for line in overlay.lines]
    line_h = [b[3] - b[1] for b in sizes]
    line_w = [b[2] - b[0] for b in sizes]
    gap = round(px * 0.35)
    block_h = sum(line_h) + gap * (len(line_h) - 1)
    if overlay.kind == "subtitles":
        top = height - round(height * 0.07) - block_h
    elif overlay.kind == "credits":
        top = (height - block_h) // 2
    else:
        margin = round(height * 0.04)
        top = margin if overlay.corner.startswith("t") else height - margin - block_h
    fill = (*overlay.colour, round(255 * overlay.alpha))
    boxes = []
    y = top
    for line, (bx0, by0, _bx1, _by1), w, h in zip(overlay.lines, sizes, line_w, line_h,
                                                 strict=True):
        if overlay.kind == "watermark":
            margin = round(width * 0.03)
            x = margin if overlay.corner.endswith("l") else width - margin - w
        else:
            x = (width - w) // 2
        if overlay.boxed:
            pad = px // 4
            draw.rectangle((x - pad, y - pad, x + w + pad, y + h + pad), fill=(0, 0, 0, 150))
        if overlay.kind == "credits":
            off = max(1, px // 20)
            draw.text((x - bx0 + off, y - by0 + off), line, font=font, fill=(0, 0, 0, 180))
        draw.text((x - bx0, y - by0), line, font=font, fill=fill, stroke_width=stroke,
                  stroke_fill=(0, 0, 0, round(255 * overlay.alpha)))
        boxes.append([x, y, w, h])
        y += h + gap
    return layer, boxes


def composite(frame: np.ndarray, layer: Image.Image) -> np.ndarray:
    """An RGB uint8 frame with the RGBA layer over it."""
    base = Image.fromarray(frame, "RGB").convert("RGBA")
    return np.asarray(Image.alpha_composite(base, layer).convert("RGB"))


LATIN_LINES = (
    "I told you we should have left earlier.", "Where are you going?",
    "Nobody knows what happened that night.", "Let's get out of here!",
    "Do you remember the song she used to sing?", "It's not your fault.",
    "We have to find him before sunrise.", "That was the last time I saw her.",
    "Are you sure about this?", "Wait for me at the station.",
)
JAPANESE_LINES = (
    "早く行かないと間に合わないよ", "どこへ行くの？", "あの夜のことは誰も知らない",
    "ここから出よう！", "彼女が歌っていた歌を覚えてる？", "君のせいじゃない",
    "日が昇る前に見つけなきゃ", "それが最後だった", "本当に大丈夫？", "駅で待っていて",
)
CREDIT_LINES = (
    ("Directed by", "HANNA MORITZ"), ("Music", "Kenji Arai"), ("THE LONG SUMMER",),
    ("Animation Director", "Sofia Lind"), ("監督", "山田 太郎"), ("Produced by", "Studio Pell"),
)
WATERMARKS = ("SAMPLE TV", "www.animestream.example", "© FANSUB 2024", "HD CHANNEL",
              "NICOVIDEO", "studio-pell.example")
