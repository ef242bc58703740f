"""What a stage's batch costs: wall, CPU and GPU seconds, peak GPU memory, model loading.

    meter = metering.start()            # on the thread that runs the batch
    ...                                 # the stage's work
    usage = meter.stop()                # a `Usage`
    rows = metering.shares(usage, [("SKU-1", "instagram_post"), ...])

How each figure is taken, and why:

- wall seconds: `time.perf_counter()` around the batch.
- CPU seconds: `time.thread_time()`, the CPU time of the batch's own thread. Two
  batches of a stage run at once on the flow's thread pool, so the process's CPU time
  (`time.process_time()`) would count each batch's work twice, once in each. What a
  library does on threads of its own (OpenCV's pool, BLAS, torch's intra-op threads) is
  not on the batch's thread, so CPU seconds are a floor, not a ceiling.
- GPU seconds: the time the batch held a model that runs on CUDA, in the residency
  manager's `resident` section (`models/runtime.py` calls `gpu_section`); loading the
  model onto the GPU included, waiting for another batch's turn not. The section ends
  with `torch.cuda.synchronize()`, so queued kernels count. Nested sections (a model
  that borrows another's weights) count once.
- peak GPU memory: `torch.cuda.max_memory_allocated()` when the batch used the GPU. The
  peak counters are reset when a batch starts while no other batch is being metered
  (the first batch of each stage), so a batch's peak is the device's while it ran,
  a concurrent batch of the same stage included.
- model load seconds: the residency manager's load events (the same seconds as the
  `model_events` rows), reported on the thread that loaded (`add_load_seconds`), so they
  go to the stage whose batch needed the model.

Torch is looked for, never imported: where no model ran on a CUDA device, GPU seconds
are 0 and the peak is None.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_local = threading.local()  # .meter: the batch metered on this thread; .depth: GPU sections
_active_lock = threading.Lock()
_active = [0]  # batches being metered in this process, on any thread


@dataclass(frozen=True)
class Usage:
    """What a batch (or one unit's share of it) used."""

    wall_s: float
    cpu_s: float
    gpu_s: float = 0.0
    gpu_peak_bytes: int | None = None
    load_s: float = 0.0


class Meter:
    """One batch's measurement, on the thread that runs it."""

    def __init__(self) -> None:
        self.gpu_s = 0.0
        self.load_s = 0.0
        self._wall = time.perf_counter()
        self._cpu = time.thread_time()

    def stop(self) -> Usage:
        """The batch's usage; the thread is no longer metered."""
        wall_s = time.perf_counter() - self._wall
        cpu_s = time.thread_time() - self._cpu
        if getattr(_local, "meter", None) is self:
            _local.meter = None
        with _active_lock:
            _active[0] = max(0, _active[0] - 1)
        peak = _peak_bytes() if self.gpu_s > 0 else None
        return Usage(wall_s=wall_s, cpu_s=cpu_s, gpu_s=self.gpu_s, gpu_peak_bytes=peak,
                     load_s=self.load_s)


def start() -> Meter:
    """Meter the batch that this thread runs from now on."""
    with _active_lock:
        if _active[0] == 0:
            _reset_peak()
        _active[0] += 1
    meter = Meter()
    _local.meter = meter
    return meter


def current() -> Meter | None:
    """The meter of the batch running on this thread (None outside a metered batch)."""
    return getattr(_local, "meter", None)


@contextmanager
def gpu_section(on_gpu: bool) -> Iterator[None]:
    """Time spent holding a model (`on_gpu`: it runs on CUDA) counts as the current
    batch's GPU seconds; a section inside another counts once."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    started = time.perf_counter()
    try:
        yield
    finally:
        _local.depth = depth
        meter = current()
        if on_gpu and depth == 0 and meter is not None:
            _synchronize()
            meter.gpu_s += time.perf_counter() - started


def add_load_seconds(seconds: float) -> None:
    """A model load on this thread: its seconds go to the batch that needed it."""
    meter = current()
    if meter is not None:
        meter.load_s += seconds


def shares(usage: Usage, units: Sequence[tuple[str, str]]) -> list[tuple[str, str, Usage]]:
    """A batch's usage split evenly over its units, (sku, platform) each: one product
    ("" platform) for a product-level stage, one canvas for a canvas-level one. A backend
    that makes a whole batch in one call leaves no better way to attribute it; the peak
    is the batch's, not split."""
    if not units:
        return []
    n = len(units)
    each = Usage(wall_s=usage.wall_s / n, cpu_s=usage.cpu_s / n, gpu_s=usage.gpu_s / n,
                 gpu_peak_bytes=usage.gpu_peak_bytes, load_s=usage.load_s / n)
    return [(sku, platform, each) for sku, platform in units]


def cost_usd(cpu_s: float, gpu_s: float, cpu_usd_per_hour: float,
             gpu_usd_per_hour: float) -> float:
    """What CPU and GPU seconds cost at hourly prices."""
    return (cpu_s * cpu_usd_per_hour + gpu_s * gpu_usd_per_hour) / 3600.0


def _cuda() -> Any:
    """torch.cuda when torch is already imported and has started its device, else None."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None  # nothing ran on a GPU in this process (and none is started here)
    return torch.cuda


def _reset_peak() -> None:
    cuda = _cuda()
    if cuda is not None:
        cuda.reset_peak_memory_stats()


def _peak_bytes() -> int | None:
    cuda = _cuda()
    return None if cuda is None else int(cuda.max_memory_allocated())


def _synchronize() -> None:
    cuda = _cuda()
    if cuda is not None:
        cuda.synchronize()
