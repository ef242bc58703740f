"""Sweeping the temporary files of killed writers, never those of live ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from adforge.recovery import sweep_stale_temp_files
from adforge.storage import atomic_writer


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_sweep_removes_a_dead_writers_temp_file_and_keeps_a_live_one(tmp_path: Path) -> None:
    dead = tmp_path / "a" / f".x.png.{_dead_pid()}-0123abcd.tmp"
    live = tmp_path / f".y.png.{os.getpid()}-0123abcd.tmp"
    final = tmp_path / "z.png"
    dead.parent.mkdir()
    for path in (dead, live, final):
        path.write_bytes(b"partial")

    assert sweep_stale_temp_files([tmp_path]) == [dead]
    assert not dead.exists() and live.exists() and final.exists()


def test_atomic_writer_names_its_temp_file_with_its_pid(tmp_path: Path) -> None:
    with atomic_writer(tmp_path / "out.bin") as handle:
        handle.write(b"x")
        temps = [p.name for p in tmp_path.iterdir()]
        assert len(temps) == 1 and f".{os.getpid()}-" in temps[0]
    assert (tmp_path / "out.bin").read_bytes() == b"x"
