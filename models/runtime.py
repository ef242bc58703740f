"""The worker process's model residency, shared by every neural backend.

- `manager(budget_bytes)` is the process's `ModelManager`, created on first use with the
  budget its caller passes (the factories: the run's models' budget, the profile's GPU
  share or `models.ram_budget_gib` on the CPU); on a GPU the probe measures what each
  load really took;
- `manage(backend, model, footprint, budget_bytes=...)` registers a backend's
  load/unload with it;
- `resident(backend)` is where a backend runs its model: the model is loaded (or
  re-loaded after an eviction) through the manager, and cannot be evicted meanwhile;
  calls into one backend are serialised (pipelines keep scheduler state);
- `bind_run(db_url, run_id)` makes every later load and unload a model_events row of
  that run; `release_all()` unloads everything (as a fresh worker would start).

What the backends themselves share: `NeuralBackend` (what the stage contracts declare:
`cache_key`, `batch_size`, `batches`, `needs_gpu`) and `PipelineBackend`
(one diffusers pipeline: `loaded`, `unload`), `require_resident`,
`device_and_dtype`, `weights_load` (a missing checkpoint said as what to do),
`free_memory` (after an unload), and `run_pipeline` (a diffusers call with seeded CPU
generators, its images as uint8).

No torch import at module level.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from adforge import metering
from adforge.model_settings import ModelSettings
from models.memory_modes import Footprint
from models.residency import ModelEventRecord, ModelManager

_lock = threading.RLock()
_state: dict[str, Any] = {"manager": None, "db_url": None, "run_id": None}


def resolve_device(device: str | None) -> str:
    """The device a backend runs on: its setting, else cuda when there is one."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class NeuralBackend:
    """What every neural backend shares: its device setting (which decides `needs_gpu`),
    its `residency` once `manage`d, the lock that `resident` serialises calls with, and
    its `cache_key` from the settings named in `OUTPUT_SETTINGS`. It does not batch
    unless a subclass says so (`batches`, with its `batch_size`)."""

    name = "neural"
    OUTPUT_SETTINGS: tuple[str, ...] = ("source",)  # attributes that change its output
    batch_size = 1
    batches = False

    def __init__(self, device: str | None) -> None:
        self.device = device
        self.residency: Any = None  # (ModelManager, name) once `manage`d
        self._lock = threading.Lock()

    @property
    def cache_key(self) -> str:
        """The backend in stage-cache keys: its name and a digest of every setting that
        changes what it makes (weights, steps, sizes...), so changing one recomputes."""
        settings = {name: getattr(self, name) for name in self.OUTPUT_SETTINGS}
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
        return f"{self.name}:{digest.hexdigest()[:12]}"

    @property
    def needs_gpu(self) -> bool:
        """True when it runs on CUDA: the flow then takes this host's GPU slot."""
        return resolve_device(self.device).startswith("cuda")


class PipelineBackend(NeuralBackend):
    """A neural backend on one diffusers pipeline: `_pipeline`, None until `load`."""

    def __init__(self, device: str | None) -> None:
        super().__init__(device)
        self._pipeline: Any = None

    @property
    def loaded(self) -> bool:
        return self._pipeline is not None

    def unload(self) -> None:
        """Drop the pipeline and give its memory back."""
        if self._pipeline is None:
            return
        self._pipeline = None
        free_memory()


def require_resident(what: str, placement: str) -> None:
    """A model small enough to run resident only refuses any other placement."""
    if placement != "resident":
        raise ValueError(f"{what} runs resident only, not {placement!r}")


def device_and_dtype(device: str | None, gpu_dtype: str = "bfloat16") -> tuple[str, Any]:
    """The device a backend loads on, and its weights' dtype: `gpu_dtype` (a torch dtype's
    name) on CUDA, float32 elsewhere."""
    import torch

    resolved = resolve_device(device)
    dtype = getattr(torch, gpu_dtype) if resolved.startswith("cuda") else torch.float32
    return resolved, dtype


@contextmanager
def weights_load(what: str, source: str, setting: str,
                 error: type[Exception] = RuntimeError) -> Iterator[None]:
    """Around `from_pretrained`: weights that cannot be read (OSError) become `error`,
    telling how to get them (`setting`: where to point at a local folder)."""
    try:
        yield
    except OSError as cause:
        raise error(
            f"{what} weights {source!r} could not be loaded ({cause}); run "
            "`adforge models pull` with network access, or point "
            f"{setting} at a local folder") from cause


def free_memory() -> None:
    """Give the memory of dropped weights back (gc, then the CUDA cache)."""
    gc.collect()
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def run_pipeline(pipeline: Any, seed: int | Sequence[int], **kwargs: Any) -> list[np.ndarray]:
    """Call a diffusers pipeline with seeded CPU generators (the same seed, the same image
    on any device): one generator for an int, one per image for a list of seeds. The
    images as uint8 RGB."""
    import torch

    generator = [torch.Generator("cpu").manual_seed(one) for one in seed] \
        if isinstance(seed, Sequence) else torch.Generator("cpu").manual_seed(seed)
    output = pipeline(**kwargs, generator=generator, output_type="np")
    return [(np.clip(image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
            for image in output.images]


def on_gpu() -> bool:
    """Whether torch is imported and sees a GPU (no torch import here)."""
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_available())


def manager(budget_bytes: int | None = None) -> ModelManager:
    """The process's residency manager. The first call creates it with `budget_bytes`
    (the models' budget, `ModelSettings.budget_bytes`; None: the default settings'),
    and every later call gets that one: one budget per worker process."""
    with _lock:
        if _state["manager"] is None:
            gpu = on_gpu()
            probe = None
            if gpu:
                import torch

                probe = torch.cuda.memory_allocated
            if budget_bytes is None:
                budget_bytes = ModelSettings().budget_bytes(gpu)
            _state["manager"] = ModelManager(budget_bytes, on_event=_record, probe=probe)
        return _state["manager"]


def bind_run(db_url: str, run_id: str) -> None:
    """Record the following loads and unloads as rows of this run."""
    with _lock:
        _state["db_url"], _state["run_id"] = db_url, run_id


def release_all() -> None:
    """Unload every model (registrations stay: the next use loads again)."""
    with _lock:
        if _state["manager"] is not None:
            _state["manager"].release_all(include_pinned=True)


def manage(backend: Any, model: str, footprint: Footprint, *,
           placements: tuple[str, ...] = ("resident",), pinned: bool = False,
           share: str | None = None, borrows_from: tuple[Any, ...] = (),
           budget_bytes: int | None = None) -> Any:
    """Register a backend (with `load(placement)` and `unload()`) under `model` (a
    second backend of the same model gets `model#2`: its own weights). borrows_from:
    managed backends whose loaded weights this one uses (loaded first, kept meanwhile).
    budget_bytes: the process's manager's, should this call create it (`manager`)."""
    residency = manager(budget_bytes)
    name, count = model, 1
    while residency.is_registered(name):
        count += 1
        name = f"{model}#{count}"
    residency.register(name, lambda placement: backend.load(placement) or backend,
                       footprint, pinned=pinned, unloader=lambda _loaded: backend.unload(),
                       share=share, placements=placements, label=model,
                       needs=tuple(lender.residency[1] for lender in borrows_from))
    backend.residency = (residency, name)
    return backend


@contextmanager
def resident(backend: Any) -> Iterator[None]:
    """The backend's model loaded, kept from eviction, one caller at a time."""
    with backend._lock, metering.gpu_section(getattr(backend, "needs_gpu", False)):
        residency = getattr(backend, "residency", None)
        if residency is None:
            if not backend.loaded:
                backend.load()
            yield
            return
        residency_manager, model = residency
        with residency_manager.acquire(model):
            yield


def footprint_of_folder(source: str, working: int = 0) -> Footprint | None:
    """Weights = the safetensors files of a local checkpoint folder (None: not local)."""
    folder = Path(source)
    if not folder.is_dir():
        return None
    weights = sum(path.stat().st_size for path in folder.rglob("*.safetensors"))
    return Footprint(weights=weights, working=working)


def _record(event: ModelEventRecord) -> None:
    if event.action == "load":  # on the loading thread: the stage that needed the model
        metering.add_load_seconds(event.seconds)
    db_url, run_id = _state["db_url"], _state["run_id"]
    if db_url is None:
        return
    from adforge.db import repository
    from adforge.stagecache import database

    repository.record_model_event(database(db_url), model=event.model, action=event.action,
                                  placement=event.placement, nbytes=event.nbytes,
                                  seconds=event.seconds, peak_bytes=event.peak_bytes,
                                  run_id=run_id)
