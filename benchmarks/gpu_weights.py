"""Random weights in host memory, standing in for a checkpoint in the page cache.

- `random_checkpoint(build, dtype, device)`: the component built with its parameters on
  the meta device (no memory), then one random tensor per parameter, made on `device`
  (fast on a GPU) and kept in host memory: what `from_pretrained` reads from a
  safetensors file that is already in the page cache. Built once per stage, not timed;
- `materialise(checkpoint)`: a load. A fresh module skeleton takes the host tensors
  (`load_state_dict(assign=True)`, no copy, as safetensors' mmap), so that timing a load
  times what AdForge's loads do next: placing the weights (device copy, fp8 cast, nf4);
- `quantize_nf4(module, compute_dtype)`: bitsandbytes nf4 on every linear layer (lm_head
  excepted, as transformers does), quantized when the module moves to its device, as
  `from_pretrained(quantization_config=...)` does at load.

Values: N(0, 1/fan_in) for matrices and convolutions, 1 for norm scales, 0 for biases:
activations stay finite through 60 blocks. Tied weights stay one tensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass
class Checkpoint:
    """One component's weights in host memory, and how to build its skeleton."""

    build: Callable[[], nn.Module]
    tensors: dict[str, torch.Tensor]

    @property
    def nbytes(self) -> int:
        unique = {id(t): t for t in self.tensors.values()}
        return sum(t.numel() * t.element_size() for t in unique.values())


def skeleton(build: Callable[[], nn.Module]) -> nn.Module:
    """The module with its parameters on the meta device; buffers computed for real."""
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):
        return build()


def random_value(name: str, like: torch.Tensor, dtype: torch.dtype, device: str,
                 generator: torch.Generator) -> torch.Tensor:
    if like.dim() <= 1:
        scale = name.endswith("weight") or name.endswith("scale")
        return torch.full(like.shape, 1.0 if scale else 0.0, dtype=dtype)
    fan_in = math.prod(like.shape[1:])
    value = torch.empty(like.shape, dtype=dtype, device=device)
    value.normal_(0.0, fan_in ** -0.5, generator=generator)
    return value.cpu()


def random_checkpoint(build: Callable[[], nn.Module], dtype: torch.dtype, device: str,
                      seed: int = 0) -> Checkpoint:
    """Random weights of `dtype` in host memory, made on `device`."""
    generator = torch.Generator(device).manual_seed(seed)
    made: dict[int, torch.Tensor] = {}
    tensors = {}
    for name, value in skeleton(build).state_dict(keep_vars=True).items():
        if not value.is_meta:  # a buffer computed at construction (positions, indices)
            tensors[name] = value.detach().clone()
            continue
        if id(value) not in made:  # tied weights: one tensor under several names
            made[id(value)] = random_value(name, value, dtype, device, generator)
        tensors[name] = made[id(value)]
    return Checkpoint(build, tensors)


def materialise(checkpoint: Checkpoint) -> nn.Module:
    """A fresh module on the host tensors (no copy), in eval mode."""
    module = skeleton(checkpoint.build)
    module.load_state_dict(checkpoint.tensors, assign=True, strict=True)
    if hasattr(module, "tie_weights"):  # transformers models: tied names, one tensor
        module.tie_weights()
    return module.eval()


# -- nf4 ---------------------------------------------------------------------------------

def bitsandbytes_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("bitsandbytes") is not None


def nf4_linear(linear: nn.Linear, compute_dtype: torch.dtype) -> nn.Module:
    """A bitsandbytes Linear4bit on the same weights, quantized when moved to a device
    (nf4, no double quantization, uint8 storage: diffusers' and AdForge's defaults)."""
    import bitsandbytes as bnb

    layer = bnb.nn.Linear4bit(linear.in_features, linear.out_features,
                              bias=linear.bias is not None, compute_dtype=compute_dtype,
                              compress_statistics=False, quant_type="nf4", device="meta")
    layer.weight = bnb.nn.Params4bit(linear.weight.data, requires_grad=False,
                                     compress_statistics=False, quant_type="nf4",
                                     quant_storage=torch.uint8, module=layer)
    layer.bias = linear.bias
    return layer


def quantize_nf4(module: nn.Module, compute_dtype: torch.dtype,
                 keep: tuple[str, ...] = ("lm_head",)) -> Any:
    """Every linear layer but those named in `keep` swapped for nf4; the module."""
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear) and name not in keep:
                setattr(parent, name, nf4_linear(child, compute_dtype))
    return module
