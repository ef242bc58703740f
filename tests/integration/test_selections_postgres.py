"""The selections rows on a real PostgreSQL cluster: one upsert statement per selection
(JSONB terms), a re-selection replacing the rows, concurrent re-selections of the same
run leaving one row per variant."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from adforge.db import open_database
from adforge.db import repository as repo
from adforge.db.selections import record_selection, selections
from adforge.variants import Selection, auto_selection
from tests.select_inputs import drafted_scores, score_of

pytestmark = pytest.mark.slow


def test_selections_upsert_and_replace_on_postgres(pg_url: str) -> None:
    db = open_database(pg_url)
    repo.start_run(db, run_id="sel-1", brief="b.csv", brief_sha256="s", brand="B",
                   profile="classic")
    scores = drafted_scores()
    record_selection(db, "sel-1", scores, auto_selection(scores, keep=1))
    assert sorted(row["variant"] for row in selections(db, "sel-1") if row["kept"]) == sorted(
        [score_of("BOTTLE-1", "B").key, score_of("JAR-2", "A").key])

    def reselect(by: str) -> None:
        record_selection(db, "sel-1", scores, Selection(
            kept={"BOTTLE-1": [score_of("BOTTLE-1", "C").key],
                  "JAR-2": [score_of("JAR-2", "B").key]}, by=by))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(reselect, ["ana", "bo", "cy", "di"]))

    rows = selections(db, "sel-1")
    assert len(rows) == 6 and len({row["selected_by"] for row in rows}) == 1
    assert sorted(row["variant"] for row in rows if row["kept"]) == sorted(
        [score_of("BOTTLE-1", "C").key, score_of("JAR-2", "B").key])
    best = next(row for row in rows if row["variant"] == score_of("BOTTLE-1", "B").key)
    assert best["terms"] == score_of("BOTTLE-1", "B").terms
