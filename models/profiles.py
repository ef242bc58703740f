"""The neural profiles' models: hub ids, real footprints, and the memory plan.

Footprints come from the published architectures (FACTS: parameter counts at bf16,
BiRefNet at fp16) plus a working-memory allowance for one 1024x1024 call; the planner
(`models.memory_modes`) turns them into memory placements within a profile's budget and
among its allowed placements (both from the profile table, `adforge.profiles`). Pure
Python: `adforge models plan` prints this without torch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from adforge.model_settings import ModelSettings
from adforge.profiles import planned_profiles
from models.memory_modes import GIB, PLACEMENTS, Footprint, NoPlacementError, choose_placement


@dataclass(frozen=True)
class ModelPlanEntry:
    key: str  # the settings key: ADFORGE_MODELS__<KEY>__SOURCE
    stage: str
    source: str
    footprint: Footprint


def _gb(value: float) -> int:
    return int(value * 1e9)


# component sizes in bytes at bf16 (fp16 for BiRefNet), from the real configs
FLUX_SCHNELL = ModelPlanEntry(
    "flux", "background", "black-forest-labs/FLUX.1-schnell",
    Footprint(weights=_gb(23.8 + 9.5 + 0.25 + 0.17), working=3 * GIB,
              largest_component=_gb(23.8), largest_block=_gb(23.8 / 57)))
# Qwen2-VL-7B and Qwen2.5-VL-7B have one size at bf16. The latter is Qwen-Image-Edit's
# text encoder, and the layout model when `models.qwen2vl.share_edit_text_encoder` is set.
QWEN_VL_7B = Footprint(weights=_gb(16.6), working=2 * GIB,
                       largest_component=_gb(15.2), largest_block=_gb(16.6 / 28))
EDIT_TEXT_ENCODER = QWEN_VL_7B
# A step-distilled LoRA for the edit transformer (FACTS: the Lightning files, 850 MB bf16)
LIGHTNING_LORA_BYTES = _gb(0.85)
MODELS: tuple[ModelPlanEntry, ...] = (
    ModelPlanEntry("birefnet", "segment", "ZhengPeng7/BiRefNet",
                   Footprint(weights=_gb(0.44), working=3 * GIB)),
    FLUX_SCHNELL,
    ModelPlanEntry("qwen2vl", "layout", "Qwen/Qwen2-VL-7B-Instruct", QWEN_VL_7B),
    ModelPlanEntry("qwen_image_edit", "text", "Qwen/Qwen-Image-Edit-2509",
                   Footprint(weights=_gb(40.9 + 0.25) + EDIT_TEXT_ENCODER.weights,
                             working=4 * GIB,
                             largest_component=_gb(40.9), largest_block=_gb(40.9 / 60))),
)


def with_adapter(footprint: Footprint, adapter_bytes: int) -> Footprint:
    """A footprint with a LoRA adapter on its denoiser. The adapter stays 16-bit (nf4 and
    fp8 leave it as it is) and travels with its layers under offload: it is counted on
    the device, whole, in every placement (an upper bound for the offloads)."""
    return replace(footprint, working=footprint.working + adapter_bytes)


@dataclass(frozen=True)
class NeuralProfile:
    """A profile with a memory budget, as the plan reads it from `adforge.profiles`."""

    name: str
    budget_bytes: int
    placements: tuple[str, ...]
    description: str


PROFILE_PLANS = {
    name: NeuralProfile(name, int((profile.budget_gib or 0) * GIB),
                        profile.memory_placements, profile.description)
    for name, profile in planned_profiles().items()}


@dataclass(frozen=True)
class PlanRow:
    key: str
    stage: str
    source: str
    weights_gib: float
    placement: str
    device_gib: float
    host_gib: float


def memory_plan(profile: str, models: ModelSettings | None = None) -> list[PlanRow]:
    """Each model's placement when it has the budget to itself (stage-major: one
    stage's model at a time, the others evicted). models: the settings as the profile
    runs them (default: the profile's own, `ModelSettings.for_profile`): their budget,
    placements and the edit model's LoRA."""
    if profile not in PROFILE_PLANS:
        raise ValueError(f"no memory plan for profile {profile!r}; use one of "
                         f"{', '.join(PROFILE_PLANS)}")
    models = models or ModelSettings().for_profile(profile)
    budget = int((models.budget_gib or 0) * GIB) or PROFILE_PLANS[profile].budget_bytes
    return [_plan_row(entry, budget, models) for entry in MODELS]


def _plan_row(entry: ModelPlanEntry, budget: int, models: ModelSettings) -> PlanRow:
    footprint, source, adapter = entry.footprint, entry.source, 0
    edit = models.qwen_image_edit
    if entry.key == "qwen_image_edit" and edit.lora:
        adapter = LIGHTNING_LORA_BYTES
        footprint = with_adapter(footprint, adapter)
        source = f"{source} + LoRA {edit.lora} ({edit.lora_weight_name or 'its one file'})"
    try:
        placement = choose_placement(footprint, budget, models.memory_placements)
    except NoPlacementError:
        placement = "does not fit"
    fits = placement in PLACEMENTS
    device = footprint.device_bytes(placement) if fits else 0
    host = footprint.host_bytes(placement) if fits else 0
    return PlanRow(entry.key, entry.stage, source, (footprint.weights + adapter) / GIB,
                   placement, device / GIB, host / GIB)
