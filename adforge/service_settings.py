"""Settings of the service side: scale-out into chunks, GPU slots, notifications.

Part of the one settings tree (`Settings.scale`, `Settings.notifications`), e.g.
`ADFORGE_SCALE__CHUNK_SIZE=50`, `ADFORGE_NOTIFICATIONS__SLACK_WEBHOOK_URL=https://...`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class ScaleSettings(BaseModel):
    """How a large brief is spread over workers, and how GPUs are shared."""

    chunk_size: int = Field(
        default=0, ge=0,
        description="split a brief with more valid rows than this into chunk runs on the "
                    "GPU pool (0: never split)")
    chunk_deployment: str = Field(
        default="brand-content/chunk",
        description="deployment that runs one chunk (flow name/deployment name)")
    chunk_retries: int = Field(
        default=1, ge=0, le=5,
        description="times a crashed or failed chunk run is submitted again")
    chunk_timeout_s: int = Field(
        default=3600, ge=10, description="how long to wait for one chunk run")
    gpu_slot: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="take the per-host GPU concurrency slot: auto (backends that declare "
                    "needs_gpu), always, or never")
    gpu_slots_per_host: int = Field(
        default=1, ge=1, le=16, description="concurrent GPU sections allowed on one host")
    products_per_task: int = Field(
        default=0, ge=0, le=64,
        description="products per task run in the stages whose backend does not batch by "
                    "itself: 0 (the default) spreads each stage over about two task runs "
                    "per worker, at most 16 products each; 1 gives one task run per "
                    "product in the UI")


class NotificationSettings(BaseModel):
    """Where a finished or failed campaign is announced."""

    slack_webhook_url: SecretStr | None = Field(
        default=None, description="Slack incoming webhook URL; unset: no notifications")
    on_completion: bool = Field(default=True, description="post when a campaign completes")
    on_failure: bool = Field(default=True, description="post when a campaign fails")
