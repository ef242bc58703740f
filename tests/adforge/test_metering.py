"""The meter of a stage's batch: its own thread's CPU, GPU sections, model loads, and
the split of a batch over its products or canvases."""

from __future__ import annotations

import threading
import time

import pytest

from adforge import metering
from adforge.metering import Usage


def _burn(seconds_of_cpu: float) -> None:
    """Work on the CPU until this thread has used `seconds_of_cpu`."""
    start = time.thread_time()
    while time.thread_time() - start < seconds_of_cpu:
        sum(i * i for i in range(1000))


def test_a_batch_counts_its_own_threads_cpu_not_a_concurrent_batchs() -> None:
    meter = metering.start()
    burnt: list[float] = []
    other = threading.Thread(target=lambda: burnt.append(_measured_burn(0.3)))
    other.start()
    other.join()  # this thread waits: it uses next to no CPU meanwhile
    usage = meter.stop()

    assert usage.wall_s > 0
    assert 0 <= usage.cpu_s < burnt[0]
    assert usage.gpu_s == 0 and usage.gpu_peak_bytes is None and usage.load_s == 0


def _measured_burn(seconds: float) -> float:
    start = time.thread_time()
    _burn(seconds)
    return time.thread_time() - start


def test_cpu_work_on_the_batchs_thread_is_counted() -> None:
    meter = metering.start()
    _burn(0.05)
    usage = meter.stop()

    assert usage.cpu_s >= 0.05
    assert usage.wall_s >= usage.cpu_s * 0.5  # the same work, by both clocks


def test_gpu_sections_count_once_when_nested_and_only_on_a_gpu() -> None:
    meter = metering.start()
    with metering.gpu_section(on_gpu=True):
        _burn(0.02)
        with metering.gpu_section(on_gpu=True):  # a model borrowing another's weights
            _burn(0.02)
    with metering.gpu_section(on_gpu=False):  # a model on the CPU
        _burn(0.02)
    usage = meter.stop()

    assert 0.04 <= usage.gpu_s <= usage.wall_s
    assert usage.gpu_s < usage.wall_s - 0.01  # the CPU model's section is not in it
    assert usage.gpu_peak_bytes is None  # no CUDA in this process: no peak to read


def test_model_loads_go_to_the_batch_on_the_loading_thread() -> None:
    meter = metering.start()
    metering.add_load_seconds(1.5)
    elsewhere = threading.Thread(target=metering.add_load_seconds, args=(7.0,))
    elsewhere.start()
    elsewhere.join()
    usage = meter.stop()

    assert usage.load_s == 1.5
    metering.add_load_seconds(2.0)  # no batch metered on this thread now: ignored
    assert metering.current() is None


def test_a_batch_is_shared_evenly_over_its_units() -> None:
    usage = Usage(wall_s=3.0, cpu_s=1.5, gpu_s=0.6, gpu_peak_bytes=2**30, load_s=0.3)
    units = [("A", "instagram_post"), ("A", "blog_header"), ("B", "instagram_post")]

    rows = metering.shares(usage, units)

    assert [(sku, platform) for sku, platform, _ in rows] == units
    assert sum(share.wall_s for _, _, share in rows) == pytest.approx(3.0)
    assert sum(share.cpu_s for _, _, share in rows) == pytest.approx(1.5)
    assert sum(share.gpu_s for _, _, share in rows) == pytest.approx(0.6)
    assert sum(share.load_s for _, _, share in rows) == pytest.approx(0.3)
    assert {share.gpu_peak_bytes for _, _, share in rows} == {2**30}  # a peak, not split
    assert metering.shares(usage, []) == []


def test_cost_is_seconds_at_hourly_prices() -> None:
    assert metering.cost_usd(3600, 0, cpu_usd_per_hour=0.05, gpu_usd_per_hour=7) == 0.05
    assert metering.cost_usd(0, 1800, cpu_usd_per_hour=0.05, gpu_usd_per_hour=7) == 3.5
