"""Tiny Qwen2-VL checkpoints: a byte-level tokenizer built offline, a chat template,
an image-only processor, and a one-layer model whose token ids match the tokenizer."""

from __future__ import annotations

from pathlib import Path

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                  "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")

# Our own minimal Qwen-style chat template: text and image parts, generation prompt.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def byte_level_alphabet() -> list[str]:
    """The 256 printable stand-ins of byte-level BPE: printable bytes map to themselves,
    the others to code points from 256 upward, in byte order."""
    printable = set(range(33, 127)) | set(range(161, 173)) | set(range(174, 256))
    spare = iter(range(256, 512))
    return [chr(value) if value in printable else chr(next(spare)) for value in range(256)]


def tiny_qwen_tokenizer():  # noqa: ANN201 - a transformers tokenizer
    """A Qwen2 tokenizer with one token per byte (no merges) and the special tokens."""
    from transformers import AddedToken, Qwen2Tokenizer

    vocab = {char: index for index, char in enumerate(byte_level_alphabet())}
    for token in SPECIAL_TOKENS:
        vocab[token] = len(vocab)
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[], unk_token=None, bos_token=None,
                               eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": [
        AddedToken(token, special=True) for token in SPECIAL_TOKENS]})
    return tokenizer


def special_ids(tokenizer) -> dict[str, int]:  # noqa: ANN001
    return {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}


def tiny_qwen2vl_config(ids: dict[str, int], vocab_size: int):  # noqa: ANN201
    from transformers import Qwen2VLConfig

    text = {"vocab_size": vocab_size, "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
            "max_position_embeddings": 4096,
            "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3],
                                "rope_theta": 10000.0},
            "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"]}
    vision = {"depth": 1, "embed_dim": 32, "hidden_size": 32, "num_heads": 2,
              "mlp_ratio": 2, "patch_size": 14, "spatial_merge_size": 2,
              "temporal_patch_size": 2, "in_channels": 3}
    return Qwen2VLConfig(text_config=text, vision_config=vision,
                         image_token_id=ids["<|image_pad|>"],
                         video_token_id=ids["<|video_pad|>"],
                         vision_start_token_id=ids["<|vision_start|>"],
                         vision_end_token_id=ids["<|vision_end|>"])


def make_tiny_qwen2vl(directory: Path, *, seed: int = 0) -> Path:
    """Qwen2VLForConditionalGeneration + image-only processor, saved side by side."""
    import torch
    from transformers import Qwen2VLForConditionalGeneration
    from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil

    from models.neural.qwen2vl_layout import image_only_processor_class

    tokenizer = tiny_qwen_tokenizer()
    processor = image_only_processor_class()(
        image_processor=Qwen2VLImageProcessorPil(), tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE)
    torch.manual_seed(seed)
    config = tiny_qwen2vl_config(special_ids(tokenizer), len(tokenizer))
    model = Qwen2VLForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = config.text_config.pad_token_id
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return Path(directory)


# Qwen-Image-Edit's parts, tiny (also benchmarks/gpu_configs.py's tiny scale)
TINY_QWEN_IMAGE_TRANSFORMER = dict(patch_size=2, in_channels=16, out_channels=4, num_layers=1,
                                   attention_head_dim=16, num_attention_heads=2,
                                   joint_attention_dim=16, axes_dims_rope=(8, 4, 4))
TINY_QWEN_IMAGE_VAE = dict(base_dim=8, z_dim=4, dim_mult=[1, 2, 4], num_res_blocks=1,
                           temperal_downsample=[False, True])
TINY_QWEN25VL_TEXT = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                          num_attention_heads=2, num_key_value_heads=1,
                          max_position_embeddings=4096,
                          rope_parameters={"rope_type": "default", "mrope_section": [1, 1, 2],
                                           "rope_theta": 10000.0})
TINY_QWEN25VL_VISION = dict(depth=1, hidden_size=16, intermediate_size=32, num_heads=2,
                            out_hidden_size=16, patch_size=14, spatial_merge_size=2,
                            temporal_patch_size=2, window_size=56, fullatt_block_indexes=[0])


def tiny_qwen25vl_encoder(tokenizer):  # noqa: ANN001, ANN201
    """A one-layer Qwen2.5-VL (the architecture of Qwen-Image's text encoder)."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    ids = special_ids(tokenizer)
    text = {"vocab_size": len(tokenizer), **TINY_QWEN25VL_TEXT,
            "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"]}
    config = Qwen2_5_VLConfig(text_config=text, vision_config=dict(TINY_QWEN25VL_VISION),
                              image_token_id=ids["<|image_pad|>"],
                              video_token_id=ids["<|video_pad|>"],
                              vision_start_token_id=ids["<|vision_start|>"],
                              vision_end_token_id=ids["<|vision_end|>"])
    return Qwen2_5_VLForConditionalGeneration(config).eval()


def make_tiny_qwen_image_edit(directory: Path, *, seed: int = 0) -> Path:
    """A Qwen-Image-Edit(-Plus) pipeline: tiny transformer, VAE, Qwen2.5-VL encoder.

    `model_index.json` names the processor as the published checkpoints do
    (transformers' Qwen2VLProcessor); loaders pass the image-only processor."""
    import json

    import torch
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImageEditPlusPipeline,
        QwenImageTransformer2DModel,
    )
    from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil

    from models.neural.qwen2vl_layout import image_only_processor_class

    torch.manual_seed(seed)
    tokenizer = tiny_qwen_tokenizer()
    processor = image_only_processor_class()(
        image_processor=Qwen2VLImageProcessorPil(), tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE)
    transformer = QwenImageTransformer2DModel(**TINY_QWEN_IMAGE_TRANSFORMER)
    vae = AutoencoderKLQwenImage(**TINY_QWEN_IMAGE_VAE, latents_mean=[0.0] * 4,
                                 latents_std=[1.0] * 4)
    pipeline = QwenImageEditPlusPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae.eval(),
        text_encoder=tiny_qwen25vl_encoder(tokenizer), tokenizer=tokenizer,
        processor=processor, transformer=transformer.eval())
    pipeline.save_pretrained(directory)
    index_path = Path(directory) / "model_index.json"
    index = json.loads(index_path.read_text())
    index["processor"] = ["transformers", "Qwen2VLProcessor"]
    index_path.write_text(json.dumps(index, indent=2))
    return Path(directory)


# A step-distilled LoRA's shape: the attention and feed-forward linears of every block
# (rank 64 over these is 0.85 GB for the 20 B transformer: the Lightning files' size)
LORA_TARGETS = ("attn.to_q", "attn.to_k", "attn.to_v", "attn.to_out.0", "attn.add_q_proj",
                "attn.add_k_proj", "attn.add_v_proj", "attn.to_add_out",
                "img_mlp.net.0.proj", "img_mlp.net.2", "txt_mlp.net.0.proj", "txt_mlp.net.2")
TINY_LORA_FOLDER = "tiny-qwen-image-edit-lora"
TINY_LORA_FILE = "tiny-lightning-lora.safetensors"


def random_lora_state_dict(transformer_config: dict, rank: int, *, seed: int = 0,
                           dtype=None, strength: float = 0.5) -> dict:  # noqa: ANN001
    """A LoRA for a Qwen-Image transformer of this config, random and seeded, in the key
    format diffusers' `load_lora_weights` reads (`transformer.<linear>.lora_A.weight`,
    rank x in; `lora_B`, out x rank) over `LORA_TARGETS` of every block. The shapes
    come from the model built on the meta device (no memory, any size). strength: the
    adapter's change of a layer's output relative to its base weights, about."""
    import torch
    from diffusers import QwenImageTransformer2DModel

    with torch.device("meta"):
        model = QwenImageTransformer2DModel(**transformer_config)
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name, module in model.named_modules():
        if not (name.startswith("transformer_blocks.") and name.endswith(LORA_TARGETS)):
            continue
        down = torch.randn(rank, module.in_features, generator=generator)
        up = torch.randn(module.out_features, rank, generator=generator)
        state[f"transformer.{name}.lora_A.weight"] = \
            (down / module.in_features ** 0.5).to(dtype or torch.float32)
        state[f"transformer.{name}.lora_B.weight"] = \
            (up * strength / rank ** 0.5).to(dtype or torch.float32)
    return state


def make_tiny_qwen_image_lora(directory: Path, *, seed: int = 0) -> Path:
    """A rank-4 LoRA for the tiny Qwen-Image-Edit transformer, saved as one safetensors
    file (what `ADFORGE_MODELS__QWEN_IMAGE_EDIT__LORA` may name); its path."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / TINY_LORA_FILE
    save_file(random_lora_state_dict(TINY_QWEN_IMAGE_TRANSFORMER, rank=4, seed=seed), path)
    return path
