"""The neural profiles' models: hub ids, real footprints, and the memory plan.

Footprints come from the published architectures (FACTS: parameter counts at bf16,
BiRefNet at fp16) plus a working-memory allowance for one 1024x1024 call; the planner
(`models.memory_modes`) turns them into memory placements within a profile's budget and
among its allowed placements (both from the profile table, `adforge.profiles`). Pure
Python: `adforge models plan` prints this without torch.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def memory_plan(profile: str) -> list[PlanRow]:
    """Each model's placement when it has the profile's whole budget (stage-major: one
    stage's model at a time, the others evicted)."""
    if profile not in PROFILE_PLANS:
        raise ValueError(f"no memory plan for profile {profile!r}; use one of "
                         f"{', '.join(PROFILE_PLANS)}")
    plan = PROFILE_PLANS[profile]
    rows = []
    for entry in MODELS:
        try:
            placement = choose_placement(entry.footprint, plan.budget_bytes, plan.placements)
        except NoPlacementError:
            placement = "does not fit"
        device = entry.footprint.device_bytes(placement) if placement in PLACEMENTS else 0
        host = entry.footprint.host_bytes(placement) if placement in PLACEMENTS else 0
        rows.append(PlanRow(entry.key, entry.stage, entry.source,
                            entry.footprint.weights / GIB, placement, device / GIB,
                            host / GIB))
    return rows
