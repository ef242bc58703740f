"""Content-addressed, crash-safe stage execution (Prefect-free).

A stage's key is the hash of its inputs, parameters and backend. Its outputs (image
blobs, each stored under the hash of its own bytes) are written first; a small JSON
manifest under the stage key is written last, atomically and flushed to disk. A stage
whose manifest exists and whose blobs are whole is skipped, so re-running a brief resumes
where it stopped, and a crash in the middle of a stage leaves nothing that looks finished.
Blobs are not flushed one by one (working layers are many and large): the manifest
records each blob's size, and a blob a power loss left short makes the stage a miss.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from adforge.brandkit import BrandKit
from adforge.db import Database, open_database
from adforge.db import repository as repo
from adforge.model_settings import ModelSettings
from adforge.settings import (
    CompositeSettings,
    CostSettings,
    DeliverySettings,
    ImageLimits,
    NotificationSettings,
    QualitySettings,
    S3Settings,
    ScaleSettings,
    SegmentSettings,
    StageBackends,
)
from adforge.storage import AssetStore, content_key, content_type_of, open_store, sha256_bytes


class RunConfig(BaseModel):
    """What every task of one run needs to know: small, serialisable, no payloads.

    The run's settings, resolved once in the flow's first step and passed down: nothing
    below the flow reads the environment."""

    run_id: str
    db_url: str = Field(default="", exclude=True, repr=False,
                        description="the tracking database; a secret (it may hold a "
                                    "password), so never written with the run's config: "
                                    "whoever loads a stored config sets it from its own "
                                    "settings")
    store: str
    out_dir: Path
    profile: str
    backends: StageBackends
    brand: BrandKit
    composite: CompositeSettings = Field(default_factory=CompositeSettings)
    images: ImageLimits = Field(default_factory=ImageLimits)
    segment: SegmentSettings = Field(default_factory=SegmentSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings,
                                     description="the gates every canvas must pass")
    min_font_px: int = 14
    products_per_task: int = 2
    home: Path = Path(".adforge")
    s3: S3Settings = Field(default_factory=S3Settings)
    models: ModelSettings = Field(default_factory=ModelSettings,
                                  description="as the run's profile runs them")
    scale: ScaleSettings = Field(default_factory=ScaleSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    cost: CostSettings = Field(default_factory=CostSettings,
                               description="the prices the run's report and artifacts use")
    delivery: DeliverySettings = Field(
        default_factory=DeliverySettings, exclude=True, repr=False,
        description="the results webhook; its URL and key are secrets, so never written "
                    "with the run's config (`adforge deliver` reads its own settings)")
    text_mode: str = Field(default="typeset", description="edit | typeset: the run's "
                           "default (a row's `text_mode`, else the kit's, wins)")
    draft: bool = Field(default=False, description="a draft pass: the generator's fewest "
                        "steps, typesetting, nothing delivered (issue 15's variants)")
    recompose: bool = Field(default=False, description="run no model: backdrops from the "
                            "nearest stored canvas, classic layout, typesetting")


class Manifest(BaseModel):
    """The record of one finished stage: where its blobs are, and what it measured."""

    stage: str
    key: str
    backend: str
    blobs: dict[str, str] = Field(default_factory=dict, description="name -> store key")
    sizes: dict[str, int] = Field(default_factory=dict,
                                  description="name -> bytes, of the blobs this stage wrote")
    meta: dict[str, Any] = Field(default_factory=dict)
    duration_ms: float = 0.0
    cached: bool = False


@dataclass
class StageOutput:
    blobs: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # name -> (data, ext)
    meta: dict[str, Any] = field(default_factory=dict)
    stored: dict[str, str] = field(default_factory=dict)  # name -> key of a blob stored already


@cache
def database(url: str) -> Database:
    return open_database(url)


def store(cfg: RunConfig) -> AssetStore:
    """The run's asset store, opened once per process for the same settings."""
    return store_for(cfg.store, cfg.s3, cfg.home)


def store_for(spec: str, s3: S3Settings, home: Path) -> AssetStore:
    """The store `spec` reached with `s3`, spooling under `<home>/spool`; one per process
    for the same (spec, S3 settings, home), so an S3 store's offline state is shared."""
    return _open_store_once(spec, s3.model_dump_json(), Path(home))


@cache
def _open_store_once(spec: str, s3_json: str, home: Path) -> AssetStore:
    return open_store(spec, s3=S3Settings.model_validate_json(s3_json),
                      spool_root=home / "spool")


def is_stored(cfg: RunConfig, *, stage: str, inputs: dict[str, Any],
              params: dict[str, Any], backend: str) -> bool:
    """Whether `run_cached` with these arguments would skip its computation (a batch
    task asks first, so that the model runs only over what is not stored yet)."""
    key = content_key(stage, inputs=inputs, params=params, backend=backend, ext="json")
    return store(cfg).exists(key)


def run_cached(
    cfg: RunConfig,
    *,
    stage: str,
    inputs: dict[str, Any],
    params: dict[str, Any],
    backend: str,
    compute: Callable[[], StageOutput],
    model_id: str | None = None,
    seed: int | None = None,
) -> Manifest:
    """Return the stage's manifest, computing and storing it only if it is not stored yet."""
    assets = store(cfg)
    key = content_key(stage, inputs=inputs, params=params, backend=backend, ext="json")
    if assets.exists(key):
        manifest = Manifest.model_validate_json(assets.get_bytes(key))
        if _blobs_whole(assets, manifest):
            return manifest.model_copy(update={"cached": True})
    started = time.perf_counter()
    output = compute()
    blobs = output.stored | {name: _put_blob(assets, stage, data, ext)
                             for name, (data, ext) in output.blobs.items()}
    duration_ms = (time.perf_counter() - started) * 1000.0
    manifest = Manifest(stage=stage, key=key, backend=backend, blobs=blobs,
                        sizes={name: len(data) for name, (data, _) in output.blobs.items()},
                        meta=output.meta, duration_ms=duration_ms)
    payload = manifest.model_dump_json().encode()
    uri = assets.put_bytes(key, payload, content_type_of(key))
    repo.record_asset(
        database(cfg.db_url), key=key, stage=stage, uri=uri, sha256=sha256_bytes(payload),
        size_bytes=len(payload), backend=backend, model_id=model_id, seed=seed,
        params=json.loads(json.dumps(params, default=str)), duration_ms=round(duration_ms),
        run_id=cfg.run_id,
    )
    return manifest


def _blobs_whole(assets: AssetStore, manifest: Manifest) -> bool:
    """Whether every blob the stage wrote is there at its recorded size (a remote
    store's objects are never torn: no request is spent asking)."""
    return assets.is_remote or all(assets.holds(manifest.blobs[name], size)
                                   for name, size in manifest.sizes.items())


def _put_blob(assets: AssetStore, stage: str, data: bytes, ext: str) -> str:
    digest = sha256_bytes(data)
    key = f"{stage}/blobs/{digest[:2]}/{digest}.{ext}"
    if not assets.holds(key, len(data)):
        assets.put_bytes(key, data, content_type_of(key), durable=False)
    return key


def load_blob(cfg: RunConfig, key: str) -> bytes:
    return store(cfg).get_bytes(key)
