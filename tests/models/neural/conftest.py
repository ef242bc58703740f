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


@pytest.fixture(scope="session")
def tiny_flux(tiny_root: Path) -> Path:
    pytest.importorskip("diffusers")
    from models.tiny import make_tiny_flux

    return make_tiny_flux(tiny_root / "tiny-flux")


@pytest.fixture(scope="session")
def tiny_qwen2vl(tiny_root: Path) -> Path:
    pytest.importorskip("transformers")
    from models.tiny import make_tiny_qwen2vl

    return make_tiny_qwen2vl(tiny_root / "tiny-qwen2vl")


@pytest.fixture(scope="session")
def tiny_qwen_image_edit(tiny_root: Path) -> Path:
    pytest.importorskip("diffusers")
    from models.tiny import make_tiny_qwen_image_edit

    return make_tiny_qwen_image_edit(tiny_root / "tiny-qwen-image-edit-2509")


@pytest.fixture()
def small_edit_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Plus pipeline reads its working sizes from module constants: tiny ones here."""
    import diffusers.pipelines.qwenimage.pipeline_qwenimage_edit_plus as plus

    monkeypatch.setattr(plus, "VAE_IMAGE_SIZE", 64 * 64)
    monkeypatch.setattr(plus, "CONDITION_IMAGE_SIZE", 56 * 56)
