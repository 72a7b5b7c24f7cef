"""One of two processes writing to one shared catalog at once (tests/core/test_catalog.py).

    python -m tests.catalog_writers person|model URL GO_FILE OUT_JSON

Each opens the catalog (running its migrations, as a team member's first start does), prints
`ready`, waits until GO_FILE exists, then walks every clip in id order:
- person: accepts (odd ids) or rejects (even ids) the clip, then writes a manual caption;
- model: saves a model caption, then lets a rule reject the clip (keep_person_decisions).
Both walk the same clips in the same order, so their transactions on one clip overlap. OUT_JSON
gets what each call returned: the caption versions saved and the decisions changed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from curator.core.catalog import Catalog

TRIGGER = "Studio Ghibli style."


def person_caption(clip_id: int) -> str:
    return f"{TRIGGER} Written by a person for clip {clip_id}."


def model_caption(clip_id: int) -> str:
    return f"{TRIGGER} Written by a model for clip {clip_id}."


def person_decision(clip_id: int) -> str:
    return "accepted" if clip_id % 2 else "rejected"


def main(role: str, url: str, go_file: str, out_json: str) -> int:
    catalog = Catalog(url)
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not Path(go_file).exists():
        if time.monotonic() > deadline:
            print("no go signal within 60 s", file=sys.stderr)
            return 3
        time.sleep(0.005)
    saved: list[int] = []
    refused: list[int] = []
    decided: list[int] = []
    for clip_id in catalog.clip_ids():
        if role == "person":
            catalog.set_decision([clip_id], person_decision(clip_id), "a person's choice",
                                 by="person")
            decided.append(clip_id)
            row = catalog.save_caption(person_caption(clip_id), clip_id=clip_id)
        else:
            row = catalog.save_caption(model_caption(clip_id), clip_id=clip_id,
                                       origin="vlm-test", prompt_hash="abc")
            changes = catalog.set_decision([clip_id], "rejected", "too static", by="rule",
                                           keep_person_decisions=True)
            decided.extend(change.id for change in changes)
        if row is None:
            refused.append(clip_id)
        else:
            saved.append(row.id)
    catalog.close()
    Path(out_json).write_text(json.dumps({"saved": saved, "refused": refused,
                                          "decided": decided}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
