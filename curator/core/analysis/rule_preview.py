"""The auto-decide rules as a window shows them: what each would reject now, then apply that.

`preview_rules` is `auto_decide`'s dry run grouped by rule (each clip counted under the first
rule it breaks, in `auto_decide`'s order); `apply_rejections` rejects exactly the previewed
clips, as the rules do (by 'rule', never over a person's decision made meanwhile), and
returns what it replaced so the window can undo the whole apply as one step.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

from curator.core.analysis.rules import RuleSettings, auto_decide
from curator.core.catalog import Catalog

__all__ = ["RULES", "RulePreview", "preview_rules", "rule_of"]

#: Rule keys in `clip_reason`'s order (duplicates last), with the words a window shows.
RULES: dict[str, str] = {
    "cut": "Holds a cut, dissolve or fade",
    "short": "Too short",
    "dynamic": "Too dynamic (fast motion or flicker)",
    "static": "Too static",
    "text": "Holds burned-in text",
    "duplicate": "Duplicate of another clip",
}


def rule_of(reason: str) -> str:
    """The rule key of an auto-decide reason ('duplicate of clip 4' -> 'duplicate')."""
    for prefix, key in (("holds a cut", "cut"), ("too short", "short"), ("too dynamic", "dynamic"),
                        ("too static", "static"), ("holds text", "text"),
                        ("duplicate of", "duplicate")):
        if reason.startswith(prefix):
            return key
    return reason


@dataclass
class RulePreview:
    """What the rules would reject among the pending clips right now."""

    rules: RuleSettings
    rejections: list[tuple[int, str]] = field(default_factory=list)  # (clip id, reason)
    counts: dict[str, int] = field(default_factory=dict)  # rule key -> clips
    pending: int = 0
    not_analyzed: int = 0  # pending clips the motion/cut/text rules cannot judge yet


def preview_rules(catalog: Catalog, rules: RuleSettings) -> RulePreview:
    """The dry run of `auto_decide` with these thresholds (`target_fps` from `rules`)."""
    rejections = auto_decide(catalog, dry_run=True, **dataclasses.asdict(rules))
    pending = catalog.list_clips(status="pending")
    return RulePreview(rules=rules, rejections=rejections,
                       counts=dict(Counter(rule_of(reason) for _, reason in rejections)),
                       pending=len(pending),
                       not_analyzed=sum(1 for c in pending if c.analysis is None))
