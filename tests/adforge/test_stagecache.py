"""The stage cache: a stored stage is skipped only while its blobs are whole."""

from __future__ import annotations

from pathlib import Path

from adforge.stagecache import StageOutput, run_cached, store
from tests.sheet_inputs import record_products, sheet_config


def _run(cfg, calls: list[int]):  # noqa: ANN001, ANN202
    record_products(cfg, [])

    def compute() -> StageOutput:
        calls.append(1)
        return StageOutput(blobs={"layer": (b"\x01" * 4096, "npy")}, meta={"n": 1})

    return run_cached(cfg, stage="composite", inputs={"a": "b"}, params={"p": 1},
                      backend="imaging", compute=compute)


def test_a_stored_stage_records_its_blob_sizes_and_is_skipped(tmp_path: Path) -> None:
    cfg, calls = sheet_config(tmp_path), []
    first = _run(cfg, calls)
    again = _run(cfg, calls)
    assert first.sizes == {"layer": 4096} and not first.cached
    assert again.cached and len(calls) == 1


def test_a_blob_left_short_by_a_power_loss_makes_the_stage_a_miss(tmp_path: Path) -> None:
    # Blobs are written without fsync; a power loss can leave one empty or short under
    # its final name. The stage must then be computed again and the blob rewritten whole.
    cfg, calls = sheet_config(tmp_path), []
    made = _run(cfg, calls)
    blob = store(cfg).local_path(made.blobs["layer"])
    assert blob is not None
    blob.write_bytes(b"\x01" * 100)
    again = _run(cfg, calls)
    assert not again.cached and len(calls) == 2
    assert blob.read_bytes() == b"\x01" * 4096
