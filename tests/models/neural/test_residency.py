"""The residency manager with declared footprints: budget, eviction, placement, sharing,
real release, and one model_events row per load and unload."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from models.memory_modes import GIB, Footprint, NoPlacementError, choose_placement
from models.residency import ModelManager, database_events


class Loads:
    """Loaders that build a small object and log what they were asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.events = []

    def loader(self, name: str):
        def load(placement: str):
            self.calls.append((name, placement))
            return {"name": name, "placement": placement}
        return load


def manager_with(budget_gib: float, models: dict[str, float], *, pinned=(), loads=None):
    loads = loads or Loads()
    manager = ModelManager(int(budget_gib * GIB), on_event=loads.events.append,
                           placements=("resident",))
    for name, gib in models.items():
        manager.register(name, loads.loader(name), Footprint(weights=int(gib * GIB)),
                         pinned=name in pinned)
    return manager, loads


def test_the_budget_is_never_exceeded_and_the_lru_model_goes_first():
    manager, loads = manager_with(10, {"a": 4, "b": 4, "c": 4, "d": 1})
    used = []
    for name in ("a", "b", "a", "c", "d", "b"):
        with manager.acquire(name) as model:
            assert model["name"] == name
        used.append(manager.used_bytes)
    assert max(used) <= 10 * GIB and manager.peak_bytes <= 10 * GIB
    unloads = [e.model for e in loads.events if e.action == "unload"]
    assert unloads == ["b", "a"]  # c evicts b (a was used after b); b evicts a
    assert manager.loaded_names() == ["c", "d", "b"]


def test_pinned_models_stay_and_a_model_in_use_is_never_evicted():
    manager, loads = manager_with(10, {"pin": 5, "x": 4, "y": 4}, pinned=("pin",))
    manager.get("pin")
    with manager.acquire("x"):
        with pytest.raises(NoPlacementError):
            manager.get("y")  # only x could make room, and x is in use
    manager.get("y")
    assert manager.is_loaded("pin") and manager.is_loaded("y") and not manager.is_loaded("x")


def test_the_heaviest_placement_that_fits_is_chosen():
    flux = Footprint.of(11.9e9, 2, working=2 * GIB, largest_component=int(9.5e9),
                        largest_block=int(0.7e9))
    assert choose_placement(flux, 80 * GIB) == "resident"
    assert choose_placement(flux, 24 * GIB) == "fp8"
    assert choose_placement(flux, 12 * GIB) == "nf4"
    assert choose_placement(flux, 4 * GIB) == "group_offload"
    with pytest.raises(NoPlacementError, match="lightest placement"):
        choose_placement(flux, 1 * GIB)


def test_out_of_memory_falls_back_to_the_next_lighter_placement():
    events, tried = [], []

    def load(placement: str):
        tried.append(placement)
        if placement in ("resident", "fp8"):
            raise MemoryError("simulated device OOM")
        return placement

    manager = ModelManager(30 * GIB, on_event=events.append)
    manager.register("flux", load, Footprint.of(11.9e9, 2, working=GIB))
    assert manager.get("flux") == "nf4"
    assert tried == ["resident", "fp8", "nf4"]
    assert [(e.action, e.placement) for e in events] == [("load", "nf4")]


def test_identical_weights_are_loaded_once():
    loads = Loads()
    manager = ModelManager(40 * GIB, on_event=loads.events.append)
    encoder = Footprint.of(8.29e9, 2)
    manager.register("qwen2.5-vl-7b", loads.loader("vl"), encoder, share="Qwen2.5-VL-7B")
    manager.register("qwen-image-edit/text_encoder", loads.loader("te"), encoder,
                     share="Qwen2.5-VL-7B")
    first, second = manager.get("qwen2.5-vl-7b"), manager.get("qwen-image-edit/text_encoder")
    assert first is second and len(loads.calls) == 1
    assert manager.used_bytes == encoder.device_bytes("resident")


def borrowing_manager(budget_gib: float) -> tuple[ModelManager, Loads]:
    """The layout model (8 GiB) and an edit pipeline that borrows it as its text encoder
    (its own 10 GiB without the encoder), plus an unrelated 6 GiB model."""
    manager, loads = manager_with(budget_gib, {"vl": 8, "other": 6})
    manager.register("edit", loads.loader("edit"), Footprint(weights=10 * GIB),
                     placements=("resident",), needs=("vl",))
    return manager, loads


def test_a_borrowing_model_loads_what_it_needs_first_and_counts_it_once():
    manager, loads = borrowing_manager(20)
    with manager.acquire("edit"):
        assert [name for name, _ in loads.calls] == ["vl", "edit"]
        assert manager.used_bytes == 18 * GIB
    manager.get("vl")  # the layout stage again: already loaded
    assert [name for name, _ in loads.calls] == ["vl", "edit"]


def test_borrowed_weights_are_never_evicted_while_the_borrower_is_loaded():
    manager, loads = borrowing_manager(20)
    manager.get("edit")
    manager.get("other")  # 24 GiB would be over: the borrower goes, then the weights may
    unloads = [e.model for e in loads.events if e.action == "unload"]
    assert unloads[0] == "edit" and manager.used_bytes <= 20 * GIB
    assert manager.peak_bytes <= 20 * GIB


def test_releasing_borrowed_weights_releases_the_borrower_first():
    manager, loads = borrowing_manager(40)
    manager.get("edit")
    manager.release("vl")
    unloads = [e.model for e in loads.events if e.action == "unload"]
    assert unloads == ["edit", "vl"] and manager.used_bytes == 0
    manager.get("edit")  # and both load again
    assert [name for name, _ in loads.calls] == ["vl", "edit", "vl", "edit"]


def test_a_model_cannot_borrow_from_an_unregistered_one():
    manager, loads = manager_with(20, {})
    with pytest.raises(ValueError, match="needs unregistered vl"):
        manager.register("edit", loads.loader("edit"), Footprint(weights=GIB), needs=("vl",))


def test_a_measured_footprint_replaces_the_declared_one():
    device = {"used": 0}

    def load(_placement):
        device["used"] += 6 * GIB  # the load really took 6 GiB, not the 2 declared
        return object()

    manager = ModelManager(10 * GIB, probe=lambda: device["used"])
    manager.register("m", load, Footprint(weights=2 * GIB, working=GIB))
    manager.get("m")
    assert manager.used_bytes == 7 * GIB


def rss_bytes() -> int:
    with open("/proc/self/statm") as stat:
        return int(stat.read().split()[1]) * 4096


def test_release_really_frees_memory():
    size = 256 * 1024 * 1024
    manager = ModelManager(1 * GIB, placements=("resident",))
    manager.register("big", lambda _p: np.ones(size, np.uint8), Footprint(weights=size))
    gc.collect()
    before = rss_bytes()
    for _ in range(3):  # no growth over repeated cycles
        with manager.acquire("big") as weights:
            assert weights.sum() == size
        del weights  # the caller's reference; the manager holds the other
        assert rss_bytes() - before > 0.8 * size
        manager.release("big")
        assert rss_bytes() - before < 0.1 * size


def test_every_load_and_unload_is_a_model_events_row(tmp_path: Path):
    from adforge.db.database import Database
    from adforge.db.models import ModelEvent

    db = Database.open(f"sqlite:///{tmp_path / 'events.db'}")
    manager = ModelManager(10 * GIB, on_event=database_events(db),
                           placements=("resident",))
    for name in ("a", "b"):
        manager.register(name, lambda _p: object(), Footprint(weights=6 * GIB))
    manager.get("a")
    manager.get("b")  # evicts a
    manager.release_all()
    with db.session() as session:
        rows = [(r.model, r.action, r.placement, r.nbytes)
                for r in session.query(ModelEvent).order_by(ModelEvent.id)]
    assert rows == [("a", "load", "resident", 6 * GIB), ("a", "unload", "resident", 6 * GIB),
                    ("b", "load", "resident", 6 * GIB), ("b", "unload", "resident", 6 * GIB)]
