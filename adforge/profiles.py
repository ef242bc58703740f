"""The profiles, in one table: what each one runs and how.

A profile names, for every run that chooses it:
- its stage backends (classic or neural, per stage);
- who writes the copy when neither the run, the brand kit nor the brief row says
  (`adforge.text_mode`): Qwen-Image-Edit (`edit`) on the neural profiles, the brand's
  fonts (`typeset`) on classic;
- its accelerator memory budget for the models (GiB; None: no plan of its own, the
  default budget applies);
- the memory placements its models may take, heaviest first (how a model sits in GPU
  memory: `models.memory_modes`; not where the product sits in a frame, which is
  `adforge.specs.Placement`);
- the model settings it changes (the tiny profile's small working sizes, gpu-24gb's
  step-distilled edit LoRA) and the checkpoint folder of each model under
  `ModelSettings.tiny_root` (default `<home>/models/tiny`).

`adforge.settings` (stage backends), `adforge.model_settings` (`for_profile`, the budget)
and `models.profiles` (the memory plan) all read this table. No torch here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from adforge.text_mode import TextMode

ProfileName = Literal["classic", "tiny", "gpu-24gb", "gpu-80gb"]
MemoryPlacement = Literal["resident", "fp8", "nf4", "model_offload", "group_offload"]
MEMORY_PLACEMENTS: tuple[MemoryPlacement, ...] = get_args(MemoryPlacement)  # heaviest first


class StageBackends(BaseModel):
    """Which backend runs each stage."""

    segment: str = Field(default="classic", description="classic | birefnet")
    background: str = Field(default="procedural", description="procedural | flux")
    layout: str = Field(default="classic", description="classic | qwen2-vl")
    text: str = Field(default="typeset", description="typeset | qwen-image-edit")


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    backends: StageBackends
    text_mode: TextMode = "typeset"  # who writes the copy when the run does not say
    budget_gib: float | None = None
    memory_placements: tuple[MemoryPlacement, ...] = MEMORY_PLACEMENTS
    model_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    checkpoints: Mapping[str, str] = field(default_factory=dict)  # key -> folder


# The step-distilled edit recipe (FACTS: "Distilled edit models"): for the 2509 weights
LIGHTNING_LORA: Mapping[str, Any] = {
    "lora": "lightx2v/Qwen-Image-Lightning",
    "lora_weight_name": "Qwen-Image-Edit-2509-Lightning-8steps-V1.0-bf16.safetensors",
    "lora_steps": 8}
NEURAL = StageBackends(segment="birefnet", background="flux", layout="qwen2-vl",
                       text="qwen-image-edit")

PROFILES: dict[str, Profile] = {profile.name: profile for profile in (
    Profile("classic", "no neural model: classic cutout, procedural backdrop, rule-based "
                       "layout, typesetting", StageBackends(), text_mode="typeset"),
    Profile("tiny", "every neural stage on the tiny random checkpoints of `adforge models "
                    "make-tiny` (tests, CI): the real code paths at small working sizes",
            NEURAL, text_mode="edit",
            model_overrides={
                "birefnet": {"input_size": 256},
                "flux": {"steps": 2, "max_side": 64, "max_sequence_length": 32,
                         "batch_size": 2},
                "qwen2vl": {"min_pixels": 28 * 28, "max_pixels": 4 * 28 * 28,
                            "max_new_tokens": 32},
                "qwen_image_edit": {"steps": 2, "lora_steps": 2, "attempts": 1,
                                    "work_side": 64,
                                    "plus_vae_area": 64 * 64,
                                    "plus_condition_area": 56 * 56},
            },
            checkpoints={"birefnet": "tiny-birefnet", "flux": "tiny-flux",
                         "qwen2vl": "tiny-qwen2vl",
                         "qwen_image_edit": "tiny-qwen-image-edit-2509"}),
    # six canvases per product: text edits run the step-distilled LoRA (8 steps, no CFG),
    # which fits beside the nf4 weights (`adforge models plan`); lora=none: 40 steps, CFG
    Profile("gpu-24gb", "a single 24 GiB card: fp8/nf4 or offload where needed, text "
                        "edits with the 8-step Lightning LoRA", NEURAL,
            text_mode="edit", budget_gib=24.0,
            model_overrides={"qwen_image_edit": LIGHTNING_LORA}),
    # bf16 weights only: fp8 and nf4 change what the models make, and on 80 GiB every
    # model fits resident alone; model offload is the fallback after an out-of-memory
    Profile("gpu-80gb", "an 80 GiB card: bf16, resident where it fits", NEURAL,
            text_mode="edit", budget_gib=80.0, memory_placements=("resident", "model_offload")),
)}


def profile_named(name: str) -> Profile:
    """The profile of that name; an unknown name is refused with the choices."""
    if name not in PROFILES:
        raise ValueError(f"profile {name!r} is not available in this build; "
                         f"use one of {', '.join(PROFILES)}")
    return PROFILES[name]


def planned_profiles() -> dict[str, Profile]:
    """The profiles with a memory budget of their own: those `adforge models plan` shows."""
    return {name: profile for name, profile in PROFILES.items()
            if profile.budget_gib is not None}
