"""Tiny random checkpoints, built once per session and loaded back offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # the real code paths, never the hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def tiny_birefnet(tiny_root: Path) -> Path:
    pytest.importorskip("torch")
    from models.tiny import make_tiny_birefnet

    return make_tiny_birefnet(tiny_root / "tiny-birefnet")
