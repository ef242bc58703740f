"""The residency manager tells the batch's meter what its models did: the seconds a
model was held on a GPU, and the seconds a load took (those of its model_events row)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from adforge import metering
from adforge.db import open_database
from adforge.db import repository as repo
from adforge.db.models import ModelEvent
from models import runtime
from models.memory_modes import Footprint
from models.runtime import NeuralBackend


class SlowToLoad(NeuralBackend):
    """A model whose load takes a little while; `device` decides `needs_gpu`."""

    name = "slow-to-load"

    def __init__(self, device: str) -> None:
        super().__init__(device)
        self.weights: list[int] | None = None

    @property
    def loaded(self) -> bool:
        return self.weights is not None

    def load(self, placement: str = "resident") -> None:
        time.sleep(0.02)
        self.weights = [1, 2, 3]

    def unload(self) -> None:
        self.weights = None


@pytest.fixture()
def managed(request: pytest.FixtureRequest) -> Iterator[SlowToLoad]:
    backend = runtime.manage(SlowToLoad(request.param), "slow-to-load",
                             Footprint(weights=1024))
    yield backend
    manager, name = backend.residency
    manager.release(name)


@pytest.mark.parametrize("managed", ["cpu"], indirect=True)
def test_a_load_is_the_batchs_load_seconds_as_its_model_events_row_says(
        managed: SlowToLoad, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'adforge.db'}"
    db = open_database(url)
    repo.start_run(db, run_id="r1", brief="b", brief_sha256="s", brand="b", profile="tiny")
    monkeypatch.setitem(runtime._state, "db_url", url)
    monkeypatch.setitem(runtime._state, "run_id", "r1")

    meter = metering.start()
    with runtime.resident(managed):
        pass
    with runtime.resident(managed):  # loaded already: no second load
        pass
    usage = meter.stop()

    with db.session() as session:
        events = list(session.scalars(select(ModelEvent.seconds)
                                      .where(ModelEvent.action == "load")))
    assert len(events) == 1 and events[0] > 0
    assert usage.load_s == pytest.approx(events[0])
    assert usage.gpu_s == 0  # a model on the CPU


@pytest.mark.parametrize("managed", ["cuda"], indirect=True)
def test_holding_a_gpu_model_is_gpu_seconds_its_load_included(managed: SlowToLoad) -> None:
    meter = metering.start()
    with runtime.resident(managed):
        time.sleep(0.01)
    usage = meter.stop()

    assert usage.load_s > 0
    assert usage.load_s < usage.gpu_s <= usage.wall_s
