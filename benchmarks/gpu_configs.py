"""The full-size benchmark's two scales: production settings with the real configs, and
tiny settings with the configs of `models.tiny` / `models.tiny_qwen`, on the same path.

`Scale` holds what differs between the two: the device, the product photo's size and
the working settings (the project's own settings classes: the gpu-24gb profile's at full
scale, the tiny profile's model settings (`adforge.profiles`) at tiny scale), and the
edit recipe: the step-distilled LoRA's (a random LoRA of the Lightning file's shape
attached through diffusers' LoRA API, its steps, CFG off) or the full one (40 steps,
true CFG). The `*_configs` functions return, per model, the constructors of its weighted
components from a config.
BiRefNet is a stand-in (`benchmarks.birefnet_standin`): a Swin-L backbone at full scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from adforge.model_settings import (
    BiRefNetSettings,
    FluxSettings,
    ModelSettings,
    Qwen2VLSettings,
    QwenImageEditSettings,
)
from adforge.profiles import PROFILES

Build = Callable[[], Any]  # constructs one component (an nn.Module) from its config


FULL_LORA_RANK = 64  # over models.tiny_qwen.LORA_TARGETS: 0.85 GB at bf16, the Lightning size
TINY_LORA_RANK = 4
# "lightning": a distilled LoRA, its steps, no CFG; "full": 40 steps, true CFG
EditRecipe = Literal["lightning", "full"]


@dataclass(frozen=True)
class Scale:
    name: str  # "full" | "tiny"
    device: str  # "cuda" | "cpu"
    size: int  # product photo side
    birefnet: BiRefNetSettings
    flux: FluxSettings
    qwen2vl: Qwen2VLSettings
    qwen_image_edit: QwenImageEditSettings
    layout_prompt_tokens: int  # question tokens of one layout turn
    layout_answer_tokens: int  # tokens generated per layout turn (forced)
    edit_prompt_tokens: int  # instruction tokens of one edit
    lora_rank: int | None  # the edit's random LoRA (None: the full recipe, no LoRA)

    @property
    def on_gpu(self) -> bool:
        return self.device.startswith("cuda")

    def models(self) -> ModelSettings:
        """These settings as one `ModelSettings` (what the compute floors read)."""
        return ModelSettings(birefnet=self.birefnet, flux=self.flux, qwen2vl=self.qwen2vl,
                             qwen_image_edit=self.qwen_image_edit)


def _edit_recipe(edit: QwenImageEditSettings, recipe: EditRecipe,
                 steps: int | None) -> QwenImageEditSettings:
    """The edit settings for a recipe: the LoRA on (a stand-in name: the benchmark
    attaches random weights of its shape) or off, `steps` replacing the recipe's."""
    if recipe == "lightning":
        update = {"lora": "benchmark: random LoRA of the Lightning file's shape",
                  "lora_weight_name": None}
        if steps:
            update["lora_steps"] = steps
    else:
        update = {"lora": None} | ({"steps": steps} if steps else {})
    return edit.model_copy(update=update)


def full_scale(size: int, flux_variant: str, edit_recipe: EditRecipe = "lightning",
               edit_steps: int | None = None) -> Scale:
    """Production settings: the gpu-24gb profile's, the FLUX variant's steps."""
    profile = ModelSettings().for_profile("gpu-24gb")
    edit = profile.qwen_image_edit.model_copy(update={"plus_vae_area": 1024 * 1024,
                                                      "plus_condition_area": 384 * 384})
    return Scale(
        name="full", device="cuda", size=size, birefnet=profile.birefnet,
        flux=profile.flux.model_copy(update={"variant": flux_variant}),
        qwen2vl=profile.qwen2vl,
        qwen_image_edit=_edit_recipe(edit, edit_recipe, edit_steps),
        layout_prompt_tokens=500, layout_answer_tokens=300, edit_prompt_tokens=150,
        lora_rank=FULL_LORA_RANK if edit_recipe == "lightning" else None)


def tiny_scale(size: int, flux_variant: str, edit_recipe: EditRecipe = "lightning",
               edit_steps: int | None = None) -> Scale:
    """The tiny profile's model settings (`adforge.profiles.PROFILES`) on the CPU."""
    tiny = PROFILES["tiny"].model_overrides
    layout = Qwen2VLSettings(**tiny["qwen2vl"])
    edit = QwenImageEditSettings(**tiny["qwen_image_edit"])
    return Scale(
        name="tiny", device="cpu", size=size,
        birefnet=BiRefNetSettings(**tiny["birefnet"]),
        flux=FluxSettings(variant=flux_variant, **tiny["flux"]),
        qwen2vl=layout,
        qwen_image_edit=_edit_recipe(edit, edit_recipe, edit_steps),
        layout_prompt_tokens=32, layout_answer_tokens=layout.max_new_tokens,
        edit_prompt_tokens=16, lora_rank=TINY_LORA_RANK if edit_recipe == "lightning" else None)


# -- FLUX.1 ------------------------------------------------------------------------------

def flux_configs(scale: Scale, ids: dict[str, int]) -> dict[str, Build]:
    """transformer, text_encoder (CLIP-L), text_encoder_2 (T5-XXL encoder), vae.
    ids: the CLIP tokenizer's bos/eos/pad ids."""
    from diffusers import AutoencoderKL, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    guidance = scale.flux.variant == "dev"
    if scale.name == "full":
        transformer = dict(patch_size=1, in_channels=64, num_layers=19, num_single_layers=38,
                           attention_head_dim=128, num_attention_heads=24,
                           joint_attention_dim=4096, pooled_projection_dim=768,
                           axes_dims_rope=[16, 56, 56])
        clip = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                    num_hidden_layers=12, vocab_size=49408, projection_dim=768,
                    max_position_embeddings=77, hidden_act="quick_gelu")
        t5 = dict(d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
                  vocab_size=32128, feed_forward_proj="gated-gelu")
        vae = dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2,
                   latent_channels=16, norm_num_groups=32, sample_size=1024,
                   down_block_types=("DownEncoderBlock2D",) * 4,
                   up_block_types=("UpDecoderBlock2D",) * 4,
                   shift_factor=0.1159, scaling_factor=0.3611)
    else:  # models.tiny.make_tiny_flux (diffusers' test shapes)
        from models.tiny import TINY_CLIP_TEXT, TINY_FLUX_TRANSFORMER, TINY_FLUX_VAE, TINY_T5

        transformer, clip, t5, vae = TINY_FLUX_TRANSFORMER, TINY_CLIP_TEXT, TINY_T5, TINY_FLUX_VAE
    return {
        "transformer": lambda: FluxTransformer2DModel(**transformer, guidance_embeds=guidance),
        "text_encoder": lambda: CLIPTextModel(CLIPTextConfig(
            **clip, bos_token_id=ids["bos"], eos_token_id=ids["eos"], pad_token_id=ids["pad"])),
        "text_encoder_2": lambda: T5EncoderModel(T5Config(
            **t5, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)),
        "vae": lambda: AutoencoderKL(in_channels=3, out_channels=3, use_quant_conv=False,
                                     use_post_quant_conv=False, **vae),
    }


# -- Qwen2-VL and Qwen2.5-VL -------------------------------------------------------------

QWEN_7B_TEXT = dict(vocab_size=152064, hidden_size=3584, intermediate_size=18944,
                    num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
                    max_position_embeddings=32768, rms_norm_eps=1e-6,
                    rope_parameters={"rope_type": "default", "mrope_section": [16, 24, 24],
                                     "rope_theta": 1000000.0})


def _token_ids(ids: dict[str, int]) -> dict[str, int]:
    return dict(image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                vision_start_token_id=ids["<|vision_start|>"],
                vision_end_token_id=ids["<|vision_end|>"])


def _text_ids(ids: dict[str, int]) -> dict[str, int]:
    return dict(bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                pad_token_id=ids["<|endoftext|>"])


def qwen2vl_configs(scale: Scale, ids: dict[str, int], vocab: int) -> dict[str, Build]:
    """Qwen2-VL-7B-Instruct (or the tiny config of `models.tiny_qwen`); ids: the
    tokenizer's special-token ids, vocab: the tokenizer's size (tiny scale)."""
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    from models.tiny_qwen import tiny_qwen2vl_config

    if scale.name == "full":
        vision = dict(depth=32, embed_dim=1280, hidden_size=3584, num_heads=16, mlp_ratio=4,
                      patch_size=14, spatial_merge_size=2, temporal_patch_size=2,
                      in_channels=3)
        config = Qwen2VLConfig(text_config=QWEN_7B_TEXT | _text_ids(ids),
                               vision_config=vision, **_token_ids(ids))
    else:
        config = tiny_qwen2vl_config(ids, vocab)
    return {"model": lambda: Qwen2VLForConditionalGeneration(config)}


# -- Qwen-Image-Edit-2509 ----------------------------------------------------------------

QWEN_IMAGE_TRANSFORMER = dict(patch_size=2, in_channels=64, out_channels=16, num_layers=60,
                              attention_head_dim=128, num_attention_heads=24,
                              joint_attention_dim=3584, axes_dims_rope=(16, 56, 56))


def qwen_image_transformer(scale: Scale) -> dict[str, Any]:
    """The Qwen-Image transformer's config (the edit LoRA's shapes come from it too)."""
    from models.tiny_qwen import TINY_QWEN_IMAGE_TRANSFORMER

    return QWEN_IMAGE_TRANSFORMER if scale.name == "full" else TINY_QWEN_IMAGE_TRANSFORMER


def qwen_image_edit_configs(scale: Scale, ids: dict[str, int], vocab: int) -> dict[str, Build]:
    """transformer, text_encoder (Qwen2.5-VL-7B), vae; tiny: `models.tiny_qwen`'s shapes."""
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    transformer = qwen_image_transformer(scale)
    if scale.name == "full":
        text = QWEN_7B_TEXT
        vision = dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16,
                      out_hidden_size=3584, fullatt_block_indexes=[7, 15, 23, 31],
                      window_size=112)
        vae = dict(base_dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2,
                   temperal_downsample=[False, True, True])
    else:  # models.tiny_qwen's shapes
        from models.tiny_qwen import TINY_QWEN25VL_TEXT, TINY_QWEN25VL_VISION, TINY_QWEN_IMAGE_VAE

        vae = TINY_QWEN_IMAGE_VAE
        text = {"vocab_size": vocab, **TINY_QWEN25VL_TEXT}
        vision = TINY_QWEN25VL_VISION
    vision = vision | dict(patch_size=14, spatial_merge_size=2, temporal_patch_size=2)
    encoder = Qwen2_5_VLConfig(text_config=text | _text_ids(ids), vision_config=vision,
                               **_token_ids(ids))
    z_dim = vae["z_dim"]
    return {
        "transformer": lambda: QwenImageTransformer2DModel(**transformer),
        "text_encoder": lambda: Qwen2_5_VLForConditionalGeneration(encoder),
        "vae": lambda: AutoencoderKLQwenImage(**vae, latents_mean=[0.0] * z_dim,
                                              latents_std=[1.0] * z_dim),
    }


# -- BiRefNet (stand-in) -----------------------------------------------------------------

def birefnet_configs(scale: Scale) -> dict[str, Build]:
    """A Swin-L backbone (BiRefNet's swin_v1_l) with a light decoder; tiny: two stages."""
    from transformers import SwinConfig

    from benchmarks.birefnet_standin import SwinSegmenterStandIn

    if scale.name == "full":
        swin = SwinConfig(image_size=scale.birefnet.input_size, embed_dim=192,
                          depths=[2, 2, 18, 2], num_heads=[6, 12, 24, 48], window_size=12,
                          out_features=["stage1", "stage2", "stage3", "stage4"])
        width = 256
    else:
        swin = SwinConfig(image_size=scale.birefnet.input_size, embed_dim=8, depths=[1, 1],
                          num_heads=[1, 1], window_size=4, out_features=["stage1", "stage2"])
        width = 8
    return {"model": lambda: SwinSegmenterStandIn(swin, width)}
