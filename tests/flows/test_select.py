"""Choosing the variants for the final pass under a real Prefect harness: `auto` keeps
each product's best draft, deterministically; `manual` pauses the run with the draft
sheet and its resume form, and the answer (through the API, or `adforge select`) is the
selection, recorded with who made it; an unanswered pause falls back to the automatic
pick."""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adforge.db.selections import selections
from adforge_app.cli import app
from tests.select_inputs import RUN_ID, score_of, select_config, selection_flow

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

AUTO_PICK = {"BOTTLE-1": [score_of("BOTTLE-1", "B").key], "JAR-2": [score_of("JAR-2", "A").key]}


@pytest.fixture()
def folder(adforge_env: Path) -> Path:
    return adforge_env / "select"


def _rows(folder: Path) -> list[dict]:
    from adforge.stagecache import database

    return selections(database(select_config(folder).db_url), RUN_ID)


def _kept_rows(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in _rows(folder):
        if row["kept"]:
            found.setdefault(row["sku"], []).append(row["variant"])
    return found


def _flow_state(flow_run_id: str) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id).state


def _wait_until_paused(folder: Path, timeout_s: float = 120) -> str:
    """The id of the test flow's run once it is Paused (its run row names it)."""
    from adforge.db.selections import flow_run_of
    from adforge.errors import InputError
    from adforge.stagecache import database

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            flow_run_id = flow_run_of(database(select_config(folder).db_url), RUN_ID)
        except InputError:  # not started yet
            flow_run_id = None
        if flow_run_id and (state := _flow_state(flow_run_id)) and state.is_paused():
            return flow_run_id
        time.sleep(0.5)
    raise AssertionError("the selection flow never paused")


@contextmanager
def _running(call: Callable[[], Any]) -> Iterator[dict[str, Any]]:
    """`call` in a thread (with this context: the harness's settings); its result once
    the block ends."""
    finished: dict[str, Any] = {}
    context = contextvars.copy_context()
    worker = threading.Thread(target=lambda: finished.update(
        state=context.run(call)))
    worker.start()
    try:
        yield finished
    finally:
        worker.join(timeout=180)
    assert not worker.is_alive(), "the selection flow did not end"


def _manual(folder: Path, timeout_s: int = 300) -> Callable[[], Any]:
    return lambda: selection_flow()(folder=str(folder), selection="manual",
                                    timeout_s=timeout_s, return_state=True)


def test_auto_keeps_each_products_best_draft_deterministically(folder: Path) -> None:
    select = selection_flow()
    first = select(folder=str(folder), selection="auto", timeout_s=60)
    again = select(folder=str(folder), selection="auto", timeout_s=60)

    assert first == again == {"kept": AUTO_PICK, "by": "auto"}  # JAR-2's A and C tie: A
    rows = _rows(folder)
    assert len(rows) == 6 and {row["selected_by"] for row in rows} == {"auto"}
    assert _kept_rows(folder) == AUTO_PICK
    two = select(folder=str(folder), selection="auto", timeout_s=60, keep=2)
    assert two["kept"]["BOTTLE-1"] == [score_of("BOTTLE-1", "B").key,
                                       score_of("BOTTLE-1", "A").key]
    assert sum(row["kept"] for row in _rows(folder)) == 4 and len(_rows(folder)) == 6


def _form_of(flow_run_id: str) -> dict[str, Any]:
    """The schema of the paused run's resume form, as the UI reads it."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        keyset = client.read_flow_run(flow_run_id).state.state_details.run_input_keyset
        return json.loads(client.read_flow_run_input(flow_run_id, keyset["schema"]))


def _artifacts_of(flow_run_id: str) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    wanted = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
    with get_client(sync_client=True) as client:
        return {a.key: a for a in client.read_artifacts(artifact_filter=wanted)}


def test_manual_pauses_and_the_api_answer_is_the_selection(folder: Path) -> None:
    from prefect.flow_runs import resume_flow_run

    with _running(_manual(folder)) as finished:
        flow_run_id = _wait_until_paused(folder)
        # 1. The run's page: the draft sheet, every variant; the form proposes the auto pick
        artifacts = _artifacts_of(flow_run_id)
        assert artifacts["draft-sheet"].data.startswith("data:image/jpeg;base64,")
        table = json.loads(artifacts["draft-variants"].data)
        assert len(table) == 6 and sum(row["automatic pick"] == "yes" for row in table) == 2
        products = _form_of(flow_run_id)["properties"]["products"]["default"]
        assert [(p["sku"], p["chosen"]) for p in products] == [
            ("BOTTLE-1", [score_of("BOTTLE-1", "B").variant]),
            ("JAR-2", [score_of("JAR-2", "A").variant])]
        assert products[0]["variants"].splitlines()[0].startswith(
            f"{score_of('BOTTLE-1', 'B').variant}  score 0.95 = contrast 0.35")
        assert _rows(folder) == []  # nothing recorded while the person decides
        # 2. Answered: BOTTLE-1 keeps A and C (label and id), JAR-2 names no variant of it
        resume_flow_run(flow_run_id, run_input={"selected_by": "ana", "products": [
            {"sku": "BOTTLE-1", "chosen": ["A", score_of("BOTTLE-1", "C").variant]},
            {"sku": "JAR-2", "chosen": ["Z"]}]})

    state = finished["state"]
    assert state.is_completed(), state.message
    chosen = {"BOTTLE-1": [score_of("BOTTLE-1", "A").key, score_of("BOTTLE-1", "C").key],
              "JAR-2": AUTO_PICK["JAR-2"]}  # an invalid choice: the automatic pick
    assert state.result() == {"kept": chosen, "by": "ana"}
    assert _kept_rows(folder) == chosen  # rows best score first: A (0.59) before C (0.26)
    assert {row["selected_by"] for row in _rows(folder)} == {"ana"}


def test_an_unanswered_selection_falls_back_to_the_automatic_pick(folder: Path) -> None:
    state = _manual(folder, timeout_s=2)()

    assert state.is_completed() and state.name == "Completed", state.message
    assert state.result() == {"kept": AUTO_PICK, "by": "auto (timeout)"}
    assert _kept_rows(folder) == AUTO_PICK
    assert {row["selected_by"] for row in _rows(folder)} == {"auto (timeout)"}


def _select(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["select", *args])
    return result.exit_code, result.output


def test_adforge_select_resumes_a_paused_run(folder: Path) -> None:
    db = ["--db", select_config(folder).db_url]
    with _running(_manual(folder)) as finished:
        flow_run_id = _wait_until_paused(folder)
        # 1. What cannot be answered is refused in one line, exit 2, the run still paused
        for args, words in ((["MUG-9=A"], "MUG-9 is not a product"),
                            (["JAR-2=Q"], "JAR-2: variant 'Q' is not one of"),
                            (["JAR-2"], "is not SKU=VARIANT"),
                            (["BOTTLE-1=A-000000"], "variant 'A-000000'")):
            code, output = _select(RUN_ID, *args, *db)
            assert code == 2 and words in output, output
        assert _flow_state(flow_run_id).is_paused()
        # 2. JAR-2 keeps C; BOTTLE-1, not named, its automatic pick
        code, output = _select(RUN_ID, "JAR-2=C", "--by", "bo", *db)
        assert code == 0, output
        assert "JAR-2 keeps C" in output and "(automatic pick)" in output

    state = finished["state"]
    assert state.is_completed(), state.message
    assert state.result() == {"kept": {"BOTTLE-1": AUTO_PICK["BOTTLE-1"],
                                       "JAR-2": [score_of("JAR-2", "C").key]}, "by": "bo"}
    assert {row["selected_by"] for row in _rows(folder)} == {"bo"}
    # 3. A run no longer paused is refused too
    code, output = _select(RUN_ID, "JAR-2=A", *db)
    assert code == 2 and f"run {RUN_ID} is not waiting for a selection" in output, output
