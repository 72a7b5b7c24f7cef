"""Clean-up of raw model output into a training caption: one paragraph, trigger first, no chatter.

Models asked for "one paragraph that starts with '{trigger} '" still answer "Sure! Here is a
detailed description:", number their points, wrap lines, quote the trigger or repeat it, and
small or overloaded models fall into loops. A caption that is empty or loops is not fixed here:
it is flagged so the job asks again instead of saving it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curator.core.trigger import normalize_trigger, with_trigger

# Openers a chat model puts before the answer: "Sure!", "Certainly, here's a detailed
# description of the video:", "Here is the description:", "Description:".
_LEAD_CHATTER = [
    re.compile(r"^(?:sure|certainly|of course|absolutely|okay|ok|alright|great)\b[^\w]*", re.I),
    re.compile(r"^(?:here(?:'s| is| are)|below is|the following is)\b[^:\n]{0,120}?"
               r"(?:description|caption|summary|answer)[^:\n]{0,60}?(?::|\.|!)\s*", re.I),
    re.compile(r"^(?:here(?:'s| is| are) (?:it|you go)|here it is)\b[^\w]*", re.I),
    re.compile(r"^(?:detailed )?(?:description|caption)\s*:\s*", re.I),
]
# Closers: "Let me know if you need more details.", "I hope this helps!"
_TRAIL_CHATTER = re.compile(
    r"(?:\s|^)(?:let me know\b|i hope this\b|feel free to\b|if you (?:need|want|have)\b|"
    r"would you like\b|is there anything else\b)[^.!?]*[.!?]*\s*$", re.I)
_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
# control characters and U+FFFD (bytes a tokenizer could not decode) never belong in a caption
_JUNK_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\u200b\ufeff]")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•·▪●+]|\(?\d{1,2}[.)]|\(?[a-z][.)](?=\s))\s+", re.I)
_INLINE_NUMBER = re.compile(r"(?:(?<=\s)|^)\(?\d{1,2}\)\s+")  # "1) the main content, 2) ..."
_HEADING = re.compile(r"^\s*#{1,6}\s*")
_MARKDOWN = re.compile(r"(\*\*|__|`)")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_DOUBLE_PUNCT = re.compile(r"([,;:])\s*([,.;:])")
_END_PUNCT = (".", "!", "?", ":", ";", ",")


@dataclass(frozen=True)
class CleanCaption:
    """A cleaned caption, or why it must not be saved.

    Attributes:
        text: the caption, trigger first (empty when the output had nothing usable).
        problem: None when the caption is fit to save; else 'empty' or 'repetition: ...'.
    """

    text: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def clean_caption(raw: str, trigger: str = "") -> CleanCaption:
    """Turn raw model output into a one-paragraph caption that starts with the trigger, once.

    Args:
        raw: what the model answered.
        trigger: the project's trigger phrase; '' for none.

    Returns:
        The cleaned caption and, when it must not be saved, the problem (empty output, or a
        repetition loop): the caller retries instead of saving.
    """
    text = _JUNK_CHARS.sub("", _THINK.sub(" ", raw or ""))
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = _strip_wrapping(text)
    text = _fold_lines(text)
    text = _strip_chatter(text)
    text = _strip_wrapping(text)
    trigger = normalize_trigger(trigger)
    body = _remove_trigger(text, trigger) if trigger else text
    body = _tidy(body)
    body = _strip_chatter(body)  # "ohwx style. Sure, here it is: ..." once the trigger is gone
    body = _tidy(body)
    if body[:1].islower() and not trigger:
        body = body[0].upper() + body[1:]
    caption = with_trigger(body, trigger) if trigger else body
    if not _has_words(body):
        return CleanCaption(caption, "empty")
    loop = find_repetition(body)
    if loop:
        return CleanCaption(caption, f"repetition: {loop}")
    return CleanCaption(caption)


def find_repetition(text: str) -> str | None:
    """Describe a repetition loop in `text`, or None when there is none.

    A loop is a run of the same word repeated 5 times or more, the same phrase of 2 to 12 words
    repeated 3 times or more back to back, or (for text without spaces, or noise) the same
    1-20 characters repeated back to back over 8 times and over a fifth of the text. Real
    captions repeat words, never whole phrases back to back.

    Args:
        text: a caption body.

    Returns:
        A short description of the loop (the repeated unit and its count), or None.
    """
    words = re.findall(r"\w+", text.lower())
    n_words = len(words)
    for size in range(1, 13):
        need = 5 if size == 1 else 3
        if n_words < size * need:
            break
        i = 0
        while i + size * need <= n_words:
            unit = words[i:i + size]
            count = 1
            while words[i + count * size:i + (count + 1) * size] == unit:
                count += 1
            if count >= need:
                return f"{' '.join(unit)!r} ×{count}"
            i += 1
    compact = _SPACES.sub(" ", text)
    for match in re.finditer(r"(.{1,20}?)\1{7,}", compact, re.S):
        unit = match.group(1)
        span = len(match.group(0))
        if unit.strip() and span >= max(16, len(compact) // 5) and not unit.isdigit():
            return f"{unit!r} ×{span // len(unit)}"
    return None


def _has_words(text: str) -> bool:
    return bool(re.search(r"\w{2,}", text))


def _strip_wrapping(text: str) -> str:
    """Drop code fences and quotes around the whole answer."""
    text = re.sub(r"^```[\w-]*\s*|\s*```$", "", text.strip())
    for left, right in (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("«", "»")):
        if len(text) > 1 and text.startswith(left) and text.endswith(right) \
                and left not in text[1:-1] and right not in text[1:-1]:
            text = text[1:-1].strip()
    return text


def _fold_lines(text: str) -> str:
    """One paragraph: list markers and headings dropped, list items and lines ended as sentences.

    A line that merely wraps a sentence (the next one starts in lower case) is joined with a
    space; a list item, a heading or a new sentence gets a full stop before it.
    """
    parts: list[str] = []
    was_item = False
    for line in text.split("\n"):
        stripped = _HEADING.sub("", line)
        is_item = stripped != line or bool(_LIST_MARKER.match(stripped))
        stripped = _MARKDOWN.sub("", _LIST_MARKER.sub("", stripped)).strip()
        if not stripped:
            continue
        if parts and not parts[-1].endswith(_END_PUNCT) and (
                is_item or was_item or not stripped[0].islower()):
            parts[-1] += "."
        parts.append(stripped)
        was_item = is_item
    return _INLINE_NUMBER.sub("", " ".join(parts))


def _strip_chatter(text: str) -> str:
    changed = True
    while changed and text:
        changed = False
        for pattern in _LEAD_CHATTER:
            new = pattern.sub("", text, count=1).lstrip()
            if new != text:
                text, changed = new, True
    new = _TRAIL_CHATTER.sub("", text).rstrip()
    # keep a caption that was nothing but a "closing" sentence rather than emptying it
    return new if _has_words(new) else text


def _remove_trigger(text: str, trigger: str) -> str:
    """The text without the trigger phrase, wherever and however often (quoted or not) it is."""
    words = [re.escape(w) for w in trigger.split(" ")]
    core = r"\s+".join(words)
    # word boundaries only where the trigger starts or ends with a word character
    left = r"(?<!\w)" if re.match(r"\w", trigger) else ""
    right = r"(?!\w)" if re.search(r"\w$", trigger) else ""
    quoted = re.compile(rf"""(['"“‘«]?){left}{core}{right}(['"”’»]?)""", re.I)
    lead = re.compile(rf"""^\s*(?:['"“‘«]?{left}{core}{right}['"”’»]?\s*[,:;.\-–—]?\s*)+""", re.I)
    text = lead.sub("", text)
    text = quoted.sub(" ", text)
    return text


def _tidy(text: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _DOUBLE_PUNCT.sub(r"\2", text)
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    text = re.sub(r"^[\s,.;:\-–—'\"]+", "", text)  # punctuation left where the trigger was
    return _SPACES.sub(" ", text).strip()
