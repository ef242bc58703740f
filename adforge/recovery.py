"""Crash recovery: remove the temporary files that a killed writer left behind.

`atomic_writer` names its temporary file `.{name}.{pid}-{random}.tmp`. A process killed
with SIGKILL cannot remove it; the next run sweeps every temporary file whose writer
process is gone (and, for names without a pid, any older than `max_age_s`). A live
writer's file is never touched, so concurrent runs on one machine are safe.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path

from adforge.processes import is_alive
from adforge.storage import is_temp_name

TEMP_PID = re.compile(r"\.(?P<pid>\d+)-[0-9a-f]+\.tmp$")


def is_stale_temp(path: Path, max_age_s: float, now: float) -> bool:
    """A temporary file whose writer has died (or, without a pid, that is old)."""
    match = TEMP_PID.search(path.name)
    if match is not None:
        return not is_alive(int(match["pid"]))
    return now - path.stat().st_mtime > max_age_s


def sweep_stale_temp_files(folders: Iterable[Path], max_age_s: float = 3600.0) -> list[Path]:
    """Delete stale temporary files under `folders`; returns what was removed."""
    removed: list[Path] = []
    now = time.time()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob(".*.tmp"):
            try:
                if path.is_file() and is_temp_name(path.name) and is_stale_temp(
                        path, max_age_s, now):
                    path.unlink(missing_ok=True)
                    removed.append(path)
            except FileNotFoundError:
                continue  # its writer finished and renamed it meanwhile
    return removed
