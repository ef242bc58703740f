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


@pytest.fixture()
def tiny_env(adforge_env, monkeypatch, tiny_root, tiny_models):
    from models import runtime

    monkeypatch.setenv("ADFORGE_PROFILE", "tiny")
    monkeypatch.setenv("ADFORGE_MODELS__TINY_ROOT", str(tiny_root))
    monkeypatch.setenv("ADFORGE_PLATFORMS", '["instagram_post"]')
    # These tests check what loads and runs; a tiny random model's pictures fail the
    # quality gates (its products vanish), so the gates record without holding here.
    # The last two tests of test_tiny_profile_flow.py enforce them.
    monkeypatch.setenv("ADFORGE_QUALITY__ENFORCE", "false")
    runtime.release_all()  # a batch starts as a fresh worker would
    yield adforge_env
    runtime.release_all()
