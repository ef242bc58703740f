"""The model residency manager: every loaded model of a worker process, within a budget.

- `register(name, loader, footprint, pinned=False, share=None)` declares a model; the
  loader takes a placement and returns the loaded object;
- `acquire(name)` (a context manager) loads it on first use: it picks the heaviest
  placement that can fit (`models.memory_modes`), evicts the least recently used unpinned
  models until it does, and on an out-of-memory error retries the next lighter placement;
- the footprint of a load is measured when a probe is given (CUDA memory after load,
  minus before) and that measurement, not the declaration, is what is budgeted;
- models registered with the same `share` key are one load, counted once;
- a model registered with `needs` borrows those models' loaded weights (Qwen-Image-Edit
  built around the Qwen2.5-VL that the layout stage loaded): they are loaded first and
  kept from eviction while it is loaded, and its own footprint leaves them out;
- `release(name)` frees for real: the unloader runs, every reference is dropped, then
  `gc.collect()` and `torch.cuda.empty_cache()` (when torch is already imported);
- every load and unload is reported to `on_event` (see `database_events`).

No torch import here: the probe and the cache flush look for an imported torch.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from models.memory_modes import GIB, PLACEMENTS, Footprint, NoPlacementError, choose_placement

Loader = Callable[[str], Any]
Unloader = Callable[[Any], None]


@dataclass(frozen=True)
class ModelEventRecord:
    model: str
    action: str  # "load" | "unload"
    placement: str
    nbytes: int
    seconds: float
    peak_bytes: int | None = None


@dataclass
class _Entry:
    name: str
    loader: Loader
    footprint: Footprint
    pinned: bool
    unloader: Unloader | None
    share: str
    placements: tuple[str, ...]
    label: str  # the model id its events carry
    needs: tuple[str, ...] = ()  # models whose loaded weights it borrows


@dataclass
class _Loaded:
    model: Any
    placement: str
    nbytes: int
    last_used: int


def is_out_of_memory(error: BaseException) -> bool:
    """A CPU MemoryError or any framework's OutOfMemoryError (torch.cuda's included)."""
    return isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError"


def enable_expandable_segments() -> None:
    """Ask PyTorch's CUDA allocator for expandable segments (less fragmentation); has
    an effect only before CUDA starts, and never overrides a user's choice."""
    os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True")


def flush_device_cache() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


class ModelManager:
    """Loads, places, evicts and releases models within `budget_bytes`."""

    def __init__(self, budget_bytes: int = 24 * GIB, *,
                 on_event: Callable[[ModelEventRecord], None] | None = None,
                 probe: Callable[[], int] | None = None,
                 placements: tuple[str, ...] = PLACEMENTS) -> None:
        """probe: bytes in use on the device now (e.g. torch.cuda.memory_allocated);
        placements: the placements allowed, heaviest first."""
        if budget_bytes <= 0:
            raise ValueError(f"budget_bytes {budget_bytes} must be positive")
        self.budget_bytes = budget_bytes
        self.on_event = on_event
        self.probe = probe
        self.placements = placements
        self._entries: dict[str, _Entry] = {}
        self._loaded: dict[str, _Loaded] = {}  # by share key
        self._in_use: dict[str, int] = {}
        self._lock = threading.RLock()  # loads, evictions and releases, one at a time
        self._clock = 0
        self.peak_bytes = 0
        enable_expandable_segments()

    # -- declaring --------------------------------------------------------------------

    def register(self, name: str, loader: Loader, footprint: Footprint, *,
                 pinned: bool = False, unloader: Unloader | None = None,
                 share: str | None = None, placements: tuple[str, ...] | None = None,
                 label: str | None = None, needs: tuple[str, ...] = ()) -> None:
        """Declare a model. Models with the same `share` key are loaded once.
        placements: those this model supports (default: the manager's);
        label: the model id in its events (default: the name);
        needs: registered models whose loaded weights this one borrows."""
        with self._lock:
            if name in self._entries:
                raise ValueError(f"model {name!r} is already registered")
            unknown = [need for need in needs if need not in self._entries]
            if unknown:
                raise ValueError(f"model {name!r} needs unregistered {', '.join(unknown)}")
            self._entries[name] = _Entry(name, loader, footprint, pinned, unloader,
                                         share or name, placements or self.placements,
                                         label or share or name, tuple(needs))

    # -- state ------------------------------------------------------------------------

    def is_registered(self, name: str) -> bool:
        return name in self._entries

    @property
    def used_bytes(self) -> int:
        return sum(loaded.nbytes for loaded in self._loaded.values())

    def is_loaded(self, name: str) -> bool:
        return self._entries[name].share in self._loaded

    def placement_of(self, name: str) -> str | None:
        loaded = self._loaded.get(self._entries[name].share)
        return loaded.placement if loaded else None

    def loaded_names(self) -> list[str]:
        """Registered names whose weights are loaded, least recently used first."""
        order = sorted(self._loaded, key=lambda key: self._loaded[key].last_used)
        return [name for key in order for name, entry in self._entries.items()
                if entry.share == key]

    # -- using ------------------------------------------------------------------------

    @contextmanager
    def acquire(self, name: str) -> Iterator[Any]:
        """The loaded model, loaded (and placed) first if need be; never evicted while
        acquired."""
        with self._lock:
            model = self.get(name)
            key = self._entries[name].share
            self._in_use[key] = self._in_use.get(key, 0) + 1
        try:
            yield model
        finally:
            with self._lock:
                self._in_use[key] -= 1
                self._touch(key)

    def get(self, name: str) -> Any:
        if name not in self._entries:
            raise KeyError(f"model {name!r} is not registered; known: "
                           f"{', '.join(self._entries) or 'none'}")
        entry = self._entries[name]
        with self._lock:
            if entry.share not in self._loaded:
                self._load(entry)
            self._touch(entry.share)
            return self._loaded[entry.share].model

    def release(self, name: str) -> None:
        """Unload a model (and every name sharing its weights), freeing memory for real."""
        with self._lock:
            self._release(self._entries[name].share)

    def _release(self, key: str) -> None:
        if key not in self._loaded:
            return
        for dependent in self._dependents_of(key):  # they hold references to its weights
            self._release(dependent)
        loaded = self._loaded.pop(key)
        started = time.perf_counter()
        unloader = next((e.unloader for e in self._entries.values()
                         if e.share == key and e.unloader), None)
        if unloader is not None:
            unloader(loaded.model)
        placement, nbytes = loaded.placement, loaded.nbytes
        del loaded  # the manager's last reference
        gc.collect()
        flush_device_cache()
        self._let_go_needs(self._entries[self._name_of(key)])
        self._emit(key, "unload", placement, nbytes, time.perf_counter() - started)

    def release_all(self, *, include_pinned: bool = False) -> None:
        for name in self.loaded_names():
            if include_pinned or not self._entries[name].pinned:
                self.release(name)

    # -- planning ---------------------------------------------------------------------

    def plan(self, name: str) -> str:
        """The placement a load would take now, counting what eviction can free."""
        entry = self._entries[name]
        return choose_placement(entry.footprint, self._room_after_eviction(), entry.placements)

    def _room_after_eviction(self) -> int:
        kept = sum(loaded.nbytes for key, loaded in self._loaded.items()
                   if self._is_pinned(key) or self._in_use.get(key))
        return self.budget_bytes - kept

    def _load(self, entry: _Entry) -> None:
        self._hold_needs(entry)  # first: what it borrows is then kept, not evictable
        try:
            self._load_placed(entry)
        except BaseException:
            self._let_go_needs(entry)
            raise

    def _load_placed(self, entry: _Entry) -> None:
        placement = choose_placement(entry.footprint, self._room_after_eviction(),
                                     entry.placements)
        for candidate in entry.placements[entry.placements.index(placement):]:
            need = entry.footprint.device_bytes(candidate)
            if need > self._room_after_eviction():
                continue
            self._evict_until(need)
            try:
                self._load_as(entry, candidate, need)
                return
            except Exception as error:  # only out-of-memory is retried
                if not is_out_of_memory(error):
                    raise
            # Freed here, not in the handler: until it ends, the exception's traceback
            # holds the frames (and tensors) of the load that failed.
            gc.collect()
            flush_device_cache()
        raise NoPlacementError(f"model {entry.name!r} ran out of memory in every placement "
                               f"from {placement!r} on")

    def _load_as(self, entry: _Entry, placement: str, declared: int) -> None:
        before = self.probe() if self.probe else 0
        started = time.perf_counter()
        model = entry.loader(placement)
        seconds = time.perf_counter() - started
        nbytes = declared
        if self.probe:
            nbytes = max(self.probe() - before, 0) + entry.footprint.working
        self._loaded[entry.share] = _Loaded(model, placement, nbytes, self._tick())
        if self.used_bytes > self.budget_bytes:  # measured bigger than declared
            self._evict_until(0, keep=entry.share)
        self.peak_bytes = max(self.peak_bytes, self.used_bytes)
        self._emit(entry.share, "load", placement, nbytes, seconds)

    def _evict_until(self, need: int, keep: str | None = None) -> None:
        """Release least recently used unpinned models until `need` more bytes fit."""
        while self.used_bytes + need > self.budget_bytes:
            victims = [key for key in sorted(self._loaded,
                                             key=lambda k: self._loaded[k].last_used)
                       if key != keep and not self._is_pinned(key)
                       and not self._in_use.get(key)]
            if not victims:
                return
            self.release(self._name_of(victims[0]))

    # -- borrowed weights -------------------------------------------------------------

    def _hold_needs(self, entry: _Entry) -> None:
        for need in entry.needs:
            self.get(need)
        for need in entry.needs:  # held only once all are loaded
            key = self._entries[need].share
            self._in_use[key] = self._in_use.get(key, 0) + 1

    def _let_go_needs(self, entry: _Entry) -> None:
        for need in entry.needs:
            need_key = self._entries[need].share
            self._in_use[need_key] -= 1
            self._touch(need_key)

    def _dependents_of(self, key: str) -> list[str]:
        return [e.share for e in self._entries.values()
                if e.share in self._loaded and e.share != key
                and any(self._entries[need].share == key for need in e.needs)]

    # -- helpers ----------------------------------------------------------------------

    def _is_pinned(self, key: str) -> bool:
        return any(e.pinned for e in self._entries.values() if e.share == key)

    def _name_of(self, key: str) -> str:
        return next(name for name, e in self._entries.items() if e.share == key)

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def _touch(self, key: str) -> None:
        if key in self._loaded:
            self._loaded[key].last_used = self._tick()

    def _emit(self, key: str, action: str, placement: str, nbytes: int,
              seconds: float) -> None:
        if self.on_event is not None:
            label = self._entries[self._name_of(key)].label
            self.on_event(ModelEventRecord(model=label, action=action, placement=placement,
                                           nbytes=nbytes, seconds=seconds,
                                           peak_bytes=self.peak_bytes))


def database_events(db: Any, run_id: str | None = None) -> Callable[[ModelEventRecord], None]:
    """An `on_event` that writes every load and unload as a model_events row."""
    from adforge.db import repository

    def record(event: ModelEventRecord) -> None:
        repository.record_model_event(db, model=event.model, action=event.action,
                                      placement=event.placement, nbytes=event.nbytes,
                                      seconds=event.seconds, peak_bytes=event.peak_bytes,
                                      run_id=run_id)

    return record
