"""Tiny random checkpoints, built once per session and loaded back offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # the real code paths, never the hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tiny checkpoints live, one folder each as the tiny profile names them."""
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def tiny_models(tiny_root: Path) -> dict[str, Path]:
    """Every tiny checkpoint's folder by model key (birefnet, flux, qwen2vl,
    qwen_image_edit), all built once per session (about 10 s)."""
    for package in ("torch", "diffusers", "transformers"):
        pytest.importorskip(package)
    from models.tiny import make_tiny

    return make_tiny(tiny_root)
