"""Which process a job row belongs to, and whether that process still runs.

A job killed with `kill -9` (or a machine that lost power) never writes its end: the row says
'running' forever. Each job row therefore records its process (pid, host, and the process's
start time, so a recycled pid is not mistaken for it); whoever opens the project next can tell
a live run from a dead one.
"""

from __future__ import annotations

import os
import socket
from typing import Any


def start_ticks(pid: int) -> int | None:
    """When a process started, in clock ticks since boot (Linux `/proc`); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count from the last ')'
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return int(fields[19])  # field 22, starttime
    except (IndexError, ValueError):
        return None


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """{'pid', 'host', 'start'} of a process (this one by default), for a job row."""
    pid = os.getpid() if pid is None else int(pid)
    return {"pid": pid, "host": socket.gethostname(), "start": start_ticks(pid)}


def is_alive(identity: dict[str, Any] | None) -> bool | None:
    """Whether the recorded process still runs: True, False, or None when this machine
    cannot tell (another host, or no record)."""
    if not identity or not identity.get("pid"):
        return None
    if identity.get("host") != socket.gethostname():
        return None
    pid = int(identity["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        pass
    except OSError:
        return None
    recorded, now = identity.get("start"), start_ticks(pid)
    if recorded is not None and now is not None and recorded != now:
        return False  # the pid was recycled by a newer process
    return not (now is not None and _is_zombie(pid))  # a zombie has ended, unreaped


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:][:1] in ("Z", "X")
