"""Settings of the neural backends: model ids or local folders, devices, memory budget.

Part of the one settings tree (`Settings.models`, environment `ADFORGE_MODELS__...`).
Every model source is a Hugging Face hub id or a local folder in the same layout;
weights come from the local Hugging Face cache (`HF_HOME`) and `HF_HUB_OFFLINE=1` is
honoured by every load. No torch here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DEFAULT_BACKGROUND_TEMPLATE = ("{prompt}, {style}, seamless studio backdrop with empty space "
                               "for a product, photographic, no text")


class BiRefNetSettings(BaseModel):
    source: str = Field(default="ZhengPeng7/BiRefNet",
                        description="hub id or local folder of a BiRefNet-contract model "
                                    "(loaded with trust_remote_code)")
    input_size: int = Field(default=1024, ge=32, le=2048, multiple_of=32,
                            description="side of the square the network sees")
    batch_size: int = Field(default=4, ge=1, le=64, description="photos per forward pass")
    half_on_gpu: bool = Field(default=True, description="fp16 weights on a GPU (fp32 on CPU)")


class FluxSettings(BaseModel):
    source: str = Field(default="black-forest-labs/FLUX.1-schnell",
                        description="hub id or local folder of a FLUX pipeline; FLUX.1-schnell "
                                    "is Apache-2.0, FLUX.1-dev is opt-in and non-commercial")
    variant: Literal["schnell", "dev"] | None = Field(
        default=None, description="schnell (4 steps, guidance 0) or dev (28 steps, 3.5); "
                                  "default: read from the source's name")
    steps: int | None = Field(default=None, ge=1, le=100,
                              description="denoising steps; default: the variant's")
    guidance: float | None = Field(default=None, ge=0.0, le=20.0,
                                   description="distilled guidance; default: the variant's")
    true_cfg_scale: float = Field(default=1.0, ge=1.0, le=20.0,
                                  description="> 1 turns on true CFG and the negative prompt "
                                              "(two transformer passes per step)")
    template: str = Field(default=DEFAULT_BACKGROUND_TEMPLATE,
                          description="background prompt template: {prompt} (row, style or "
                                      "brand prompt) and {style} (the style's words)")
    batch_size: int = Field(default=1, ge=1, le=16,
                            description="backdrops of one size per forward pass")


class Qwen2VLSettings(BaseModel):
    source: str = Field(default="Qwen/Qwen2-VL-7B-Instruct",
                        description="hub id or local folder of a Qwen2-VL instruct model")
    min_pixels: int = Field(default=256 * 28 * 28, ge=28 * 28,
                            description="least image area the model sees (28x28 per token)")
    max_pixels: int = Field(default=1024 * 28 * 28, ge=28 * 28,
                            description="most image area the model sees: bounds image tokens")
    max_new_tokens: int = Field(default=512, ge=16, le=4096,
                                description="longest answer generated")
    retries: int = Field(default=1, ge=0, le=3,
                         description="turns after a failed answer, each told what failed")


class ModelSettings(BaseModel):
    """Where the neural backends find their weights and how they run."""

    device: str | None = Field(default=None,
                               description="torch device for every model; default cuda "
                                           "when available, else cpu")
    birefnet: BiRefNetSettings = Field(default_factory=BiRefNetSettings,
                                       description="the BiRefNet segmenter")
    flux: FluxSettings = Field(default_factory=FluxSettings,
                               description="the FLUX background generator")
    qwen2vl: Qwen2VLSettings = Field(default_factory=Qwen2VLSettings,
                                     description="the Qwen2-VL layout analyzer")
