"""The runs this process is working on, so that the shell can close them on Ctrl-C.

A campaign flow that runs in the shell's own process records its run when it opens it
(`started`). The shell's Ctrl-C handler cannot wait for the run's threads (a stage may
take minutes), so it marks the run `interrupted` in the tracking database itself
(`mark_interrupted`) and leaves; the next run of the same brief resumes it, as it
resumes any run that did not complete. A run that finished meanwhile is left as it is.
"""

from __future__ import annotations

import threading

from adforge.db import repository as repo
from adforge.stagecache import database

_lock = threading.Lock()
_runs: dict[str, str] = {}  # run id -> its tracking database's URL


def started(run_id: str, db_url: str) -> None:
    with _lock:
        _runs[run_id] = db_url


def mark_interrupted() -> list[str]:
    """Mark every run this process started and did not finish `interrupted`; returns
    their ids (best effort: a database that cannot be reached is left as it is)."""
    with _lock:
        runs = dict(_runs)
        _runs.clear()
    marked = []
    for run_id, url in runs.items():
        try:
            repo.mark_interrupted(database(url), run_id)
        except Exception:  # noqa: BLE001 - leaving on Ctrl-C must not fail on the way out
            continue
        marked.append(run_id)
    return marked
