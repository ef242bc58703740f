"""Tiny random checkpoints in the Hugging Face layout, built offline from configs.

They exercise the neural backends' real code paths (`from_pretrained`, processors,
pipelines, a LoRA through diffusers' LoRA API) in CI and on machines without weights:
`adforge models make-tiny` writes one folder per model (under ADFORGE_HOME by
default). Every builder is seeded, so the same call writes the same weights. torch and
the Hugging Face libraries are imported inside the builders.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from adforge.profiles import PROFILES


def make_tiny_birefnet(directory: Path, *, seed: int = 0) -> Path:
    """A BiRefNet-contract model: the remote-code module of `models.neural.birefnet_remote`
    copied next to random weights, loadable with `trust_remote_code=True`."""
    import torch

    from models.neural.birefnet_remote import AUTO_MAP, FOLDER, REMOTE_FILES
    from models.neural.birefnet_remote.configuration_tiny_birefnet import TinyBiRefNetConfig
    from models.neural.birefnet_remote.modeling_tiny_birefnet import TinyBiRefNet

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = TinyBiRefNetConfig(channels=8, levels=2)
    config.auto_map = dict(AUTO_MAP)
    model = TinyBiRefNet(config).eval()
    model.save_pretrained(directory)
    for name in REMOTE_FILES:
        shutil.copyfile(FOLDER / name, directory / name)
    return directory


def tiny_clip_tokenizer():  # noqa: ANN201 - a transformers tokenizer
    """A character-level CLIP tokenizer built from an in-memory vocabulary."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in ALPHABET:
        vocab[char + "</w>"] = len(vocab)
        vocab[char] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)


def tiny_t5_tokenizer():  # noqa: ANN201 - a transformers tokenizer
    """A character-level T5 (unigram) tokenizer built from an in-memory vocabulary."""
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [(char, -1.0) for char in "\u2581" + ALPHABET]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=32)


# FLUX at diffusers' own test shapes (also benchmarks/gpu_configs.py's tiny scale)
TINY_FLUX_TRANSFORMER = dict(patch_size=1, in_channels=4, num_layers=1, num_single_layers=1,
                             attention_head_dim=16, num_attention_heads=2,
                             joint_attention_dim=32, pooled_projection_dim=32,
                             axes_dims_rope=[4, 4, 8])
TINY_CLIP_TEXT = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4,
                      num_hidden_layers=2, vocab_size=64, projection_dim=32,
                      max_position_embeddings=16)
TINY_T5 = dict(d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, vocab_size=64)
TINY_FLUX_VAE = dict(sample_size=32, block_out_channels=(4,), layers_per_block=1,
                     latent_channels=1, norm_num_groups=1, shift_factor=0.0609,
                     scaling_factor=1.5035)


def make_tiny_flux(directory: Path, *, seed: int = 0) -> Path:
    """A FLUX pipeline (transformer, CLIP + T5 encoders, VAE, flow-matching scheduler)
    at diffusers' own test shapes, saved with `save_pretrained`."""
    import torch
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxPipeline,
        FluxTransformer2DModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    torch.manual_seed(seed)
    transformer = FluxTransformer2DModel(**TINY_FLUX_TRANSFORMER)
    clip = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1,
                                        **TINY_CLIP_TEXT))
    t5 = T5EncoderModel(T5Config(**TINY_T5, pad_token_id=0, eos_token_id=1,
                                 decoder_start_token_id=0))
    vae = AutoencoderKL(in_channels=3, out_channels=3, use_quant_conv=False,
                        use_post_quant_conv=False, **TINY_FLUX_VAE)
    pipeline = FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae.eval(),
        text_encoder=clip.eval(), tokenizer=tiny_clip_tokenizer(),
        text_encoder_2=t5.eval(), tokenizer_2=tiny_t5_tokenizer(),
        transformer=transformer.eval())
    pipeline.save_pretrained(directory)
    return Path(directory)


ALPHABET = "abcdefghijklmnopqrstuvwxyz,.-"
def make_tiny_qwen2vl(directory: Path, *, seed: int = 0) -> Path:
    from models.tiny_qwen import make_tiny_qwen2vl as build

    return build(directory, seed=seed)


def make_tiny_qwen_image_edit(directory: Path, *, seed: int = 0) -> Path:
    from models.tiny_qwen import make_tiny_qwen_image_edit as build

    return build(directory, seed=seed)


BUILDERS = {"birefnet": make_tiny_birefnet, "flux": make_tiny_flux,
            "qwen2vl": make_tiny_qwen2vl, "qwen_image_edit": make_tiny_qwen_image_edit}


LORA_KEY = "qwen_image_edit_lora"  # make_tiny's entry for the tiny LoRA file


def make_tiny(root: Path, models: tuple[str, ...] = tuple(BUILDERS),
              lora: bool = True) -> dict[str, Path]:
    """Build the named tiny checkpoints under root (one folder each, as the tiny profile
    names them), and a tiny step-distilled LoRA for the edit model (`LORA_KEY`: its
    file, for `ADFORGE_MODELS__QWEN_IMAGE_EDIT__LORA`); their paths."""
    from models.tiny_qwen import TINY_LORA_FOLDER, make_tiny_qwen_image_lora

    root = Path(root)
    folders = PROFILES["tiny"].checkpoints  # where the tiny profile loads each from
    made = {name: BUILDERS[name](root / folders[name]) for name in models}
    if lora:
        made[LORA_KEY] = make_tiny_qwen_image_lora(root / TINY_LORA_FOLDER)
    return made
