"""Records the stages hand their backends (the backends' protocols are in
`models.contracts`, which re-exports these)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from adforge.brandkit import StylePreset


class BackgroundRequest(BaseModel):
    """One backdrop to make: its exact size, seed, style and prompts."""

    width: int = Field(gt=0, le=8192)
    height: int = Field(gt=0, le=8192)
    seed: int = Field(default=0, ge=0, description="same seed, same background")
    style: StylePreset
    prompt: str = Field(default="", description="for neural backends")
    negative_prompt: str = Field(default="")
    steps: int | None = Field(default=None, ge=1, description="denoising steps of a neural "
                              "generator for this request (a draft's fewest); None: its own")
