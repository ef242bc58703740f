"""Settings of the neural backends: model ids or local folders, devices, memory budget.

Part of the one settings tree (`Settings.models`, environment `ADFORGE_MODELS__...`).
Every model source is a Hugging Face hub id or a local folder in the same layout;
weights come from the local Hugging Face cache (`HF_HOME`) and `HF_HUB_OFFLINE=1` is
honoured by every load. No torch here.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class BiRefNetSettings(BaseModel):
    source: str = Field(default="ZhengPeng7/BiRefNet",
                        description="hub id or local folder of a BiRefNet-contract model "
                                    "(loaded with trust_remote_code)")
    input_size: int = Field(default=1024, ge=32, le=2048, multiple_of=32,
                            description="side of the square the network sees")
    batch_size: int = Field(default=4, ge=1, le=64, description="photos per forward pass")
    half_on_gpu: bool = Field(default=True, description="fp16 weights on a GPU (fp32 on CPU)")


class ModelSettings(BaseModel):
    """Where the neural backends find their weights and how they run."""

    device: str | None = Field(default=None,
                               description="torch device for every model; default cuda "
                                           "when available, else cpu")
    birefnet: BiRefNetSettings = Field(default_factory=BiRefNetSettings,
                                       description="the BiRefNet segmenter")
