"""Settings of the neural backends: model ids or local folders, devices, memory budget.

Part of the one settings tree (`Settings.models`, environment `ADFORGE_MODELS__...`).
Every model source is a Hugging Face hub id or a local folder in the same layout;
weights come from the local Hugging Face cache (`HF_HOME`) and `HF_HUB_OFFLINE=1` is
honoured by every load. No torch here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from adforge.profiles import MEMORY_PLACEMENTS, MemoryPlacement, profile_named

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
    megapixels: float = Field(default=1.0, gt=0.0, le=4.0,
                              description="pixels generated for a canvas larger than this, "
                                          "in units of 1024x1024 (FLUX's native size), at "
                                          "the canvas's own aspect; a smaller canvas is "
                                          "generated at its own size")
    max_side: int | None = Field(default=None, ge=16,
                                 description="generate at most this side, then cover-crop "
                                             "to the size asked for (tiny models)")
    max_sequence_length: int | None = Field(default=None, ge=8, le=512,
                                            description="T5 prompt tokens; default: variant's")


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
    share_edit_text_encoder: bool = Field(
        default=False,
        description="answer with Qwen-Image-Edit's own text encoder (a "
                    "Qwen2.5-VL-7B-Instruct) instead of `source`; the text stage borrows "
                    "it, one load for both, where the budget lets the edit pipeline run "
                    "resident or fp8")


class QwenImageEditSettings(BaseModel):
    source: str = Field(default="Qwen/Qwen-Image-Edit-2509",
                        description="hub id or local folder of a Qwen-Image-Edit pipeline; "
                                    "names with 2509/2511 take the Plus pipeline")
    kind: Literal["edit", "edit-plus"] | None = Field(
        default=None, description="pipeline class; default: read from the source's name")
    steps: int = Field(default=40, ge=1, le=100,
                       description="denoising steps per edit (without a LoRA)")
    true_cfg_scale: float = Field(default=4.0, ge=1.0, le=20.0,
                                  description="true classifier-free guidance scale "
                                              "(without a LoRA)")
    lora: str | None = Field(default=None,
                             description="a step-distilled LoRA: hub id, local folder or "
                                         ".safetensors file (e.g. lightx2v/Qwen-Image-"
                                         "Lightning); with it the edit runs `lora_steps` "
                                         "without CFG. None (or 'none'): the full recipe")
    lora_weight_name: str | None = Field(default=None,
                                         description="the LoRA's file inside its repo or "
                                                     "folder")
    lora_scale: float = Field(default=1.0, gt=0.0, le=4.0,
                              description="strength of the LoRA's adapter")
    lora_steps: int = Field(default=8, ge=1, le=100,
                            description="denoising steps per edit with the LoRA (CFG off)")
    negative_prompt: str = Field(default=" ", description='negative prompt (" " is enough)')
    attempts: int = Field(default=3, ge=1, le=10,
                          description="edits tried (new seed each) before typesetting")
    min_product_ssim: float = Field(default=0.95, ge=-1.0, le=1.0,
                                    description="product SSIM an edit must keep")
    max_product_delta_e: float = Field(default=3.0, gt=0.0,
                                       description="mean ΔE allowed inside the product mask")
    max_product_changed: float = Field(default=0.01, ge=0.0, le=1.0,
                                       description="share of product pixels allowed to "
                                                   "move by ΔE > 10")
    max_outside_delta_e: float = Field(default=4.0, gt=0.0,
                                       description="mean ΔE allowed outside the text boxes")
    min_ocr_similarity: float = Field(default=0.9, ge=0.0, le=1.0,
                                      description="OCR match of each piece of copy (en, zh) "
                                                  "when the `ocr` extra is installed")
    work_side: int | None = Field(default=None, ge=16,
                                  description="edit at most this side, then resize back "
                                              "(tiny models; verification sees the result)")
    plus_vae_area: int | None = Field(default=None, ge=256,
                                      description="Plus pipeline's VAE_IMAGE_SIZE (pixels); "
                                                  "default: diffusers' 1024x1024")
    plus_condition_area: int | None = Field(default=None, ge=256,
                                            description="Plus pipeline's CONDITION_IMAGE_SIZE "
                                                        "(pixels); default: 384x384")

    @field_validator("lora", "lora_weight_name", mode="before")
    @classmethod
    def _none_said_in_words(cls, value: Any) -> Any:
        """'' or 'none' (an environment variable cannot say None) turns the LoRA off."""
        if isinstance(value, str) and value.strip().lower() in ("", "none"):
            return None
        return value

    def recipe(self) -> tuple[int, float]:
        """(steps, true_cfg_scale) of one edit: the LoRA's few steps without CFG, else
        the full recipe."""
        if self.lora:
            return self.lora_steps, 1.0
        return self.steps, self.true_cfg_scale


DEFAULT_BUDGET_GIB = 24.0  # on a GPU, for a profile without a budget (classic, tiny)
TINY_FOLDER = Path("models") / "tiny"  # under the state folder: make-tiny's default


def default_tiny_root(home: Path) -> Path:
    """Where `adforge models make-tiny` writes without a folder, and where the tiny
    profile looks without `tiny_root`."""
    return Path(home) / TINY_FOLDER


def _made_tiny_root(profile: str, home: Path | None) -> Path:
    """The tiny checkpoints under the state folder; refused, with what to run, when
    they are not there."""
    root = default_tiny_root(home) if home is not None else None
    if root is None or not root.is_dir():
        where = f" (none in {root})" if root is not None else ""
        raise ValueError(f"the {profile} profile needs tiny checkpoints{where}: run "
                         "`adforge models make-tiny` (it writes them under ADFORGE_HOME), "
                         "or set ADFORGE_MODELS__TINY_ROOT to a folder it wrote")
    return root


class ModelSettings(BaseModel):
    """Where the neural backends find their weights and how they run."""

    tiny_root: Path | None = Field(default=None,
                                   description="folder written by `adforge models make-tiny`; "
                                               "the tiny profile loads every model from it")
    budget_gib: float | None = Field(default=None, gt=0.0,
                                     description="accelerator memory for models; default: "
                                                 "the profile's (24 or 80 GiB), else 24")
    memory_placements: tuple[MemoryPlacement, ...] = Field(
        default=MEMORY_PLACEMENTS, min_length=1,
        description="how models may sit in GPU memory, heaviest first (resident, fp8, nf4, "
                    "model_offload, group_offload); default: the profile's")
    ram_budget_gib: float = Field(default=8.0, gt=0.0,
                                  description="memory for models when running on the CPU")
    device: str | None = Field(default=None,
                               description="torch device for every model; default cuda "
                                           "when available, else cpu")
    birefnet: BiRefNetSettings = Field(default_factory=BiRefNetSettings,
                                       description="the BiRefNet segmenter")
    flux: FluxSettings = Field(default_factory=FluxSettings,
                               description="the FLUX background generator")
    qwen2vl: Qwen2VLSettings = Field(default_factory=Qwen2VLSettings,
                                     description="the Qwen2-VL layout analyzer")
    qwen_image_edit: QwenImageEditSettings = Field(
        default_factory=QwenImageEditSettings, description="the Qwen-Image-Edit text renderer")

    def for_profile(self, profile: str, home: Path | None = None) -> ModelSettings:
        """These settings as a profile runs them (`adforge.profiles`): its memory budget
        and placements, its model settings (the tiny profile: small working sizes, every
        model from its folder under `tiny_root`), each unless set explicitly here. What a
        backend is built from: no builder needs the profile's name.
        home: the state folder, whose `models/tiny` (where `adforge models make-tiny`
        writes by default) is the tiny checkpoints' root when `tiny_root` is not set."""
        chosen = profile_named(profile)
        settings = self
        if chosen.checkpoints and self.tiny_root is None:
            settings = self.model_copy(update={"tiny_root": _made_tiny_root(profile, home)})
        updates: dict[str, Any] = {
            key: settings._model_as(key, chosen.model_overrides.get(key, {}),
                                    settings._checkpoint(chosen.checkpoints.get(key)))
            for key in {**chosen.model_overrides, **chosen.checkpoints}}
        if "budget_gib" not in self.model_fields_set and chosen.budget_gib is not None:
            updates["budget_gib"] = chosen.budget_gib
        if "memory_placements" not in self.model_fields_set:
            updates["memory_placements"] = chosen.memory_placements
        return settings.model_copy(update=updates)

    def _model_as(self, key: str, overrides: Mapping[str, Any],
                  source: str | None) -> BaseModel:
        """One model's settings with a profile's values (and source) for the fields not
        set here."""
        current: BaseModel = getattr(self, key)
        chosen = {name: value for name, value in overrides.items()
                  if name not in current.model_fields_set}
        if source is not None and "source" not in current.model_fields_set:
            chosen["source"] = source
        return current.model_copy(update=chosen)

    def _checkpoint(self, folder: str | None) -> str | None:
        """A profile's checkpoint folder under `tiny_root`, as a model source."""
        if folder is None or self.tiny_root is None:
            return None
        return str(self.tiny_root / folder)

    def budget_bytes(self, on_gpu: bool) -> int:
        """The residency budget: `budget_gib` on a GPU (the profile's once `for_profile`
        resolved it), the RAM budget on the CPU."""
        if not on_gpu:
            return int(self.ram_budget_gib * 1024 ** 3)
        return int((self.budget_gib or DEFAULT_BUDGET_GIB) * 1024 ** 3)
