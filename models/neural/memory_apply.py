"""Applying a memory placement (`models.memory_modes`) to a loaded diffusers pipeline.

- resident: every component on the device;
- fp8: the denoiser's weights stored in float8 (e4m3) and up-cast layer by layer to
  the compute dtype (`enable_layerwise_casting`), everything on the device;
- nf4: 4-bit weights through bitsandbytes, chosen at load (`nf4_quantization`); on a
  GPU only;
- model_offload: components visit the device one at a time (`enable_model_cpu_offload`);
- group_offload: the denoiser's blocks stream to the device group by group, with CUDA
  streams when there is a GPU (`enable_group_offload`).

Offload hooks are stateful: `reset` removes them before a pipeline is placed again.
"""

from __future__ import annotations

from typing import Any

DENOISERS = ("transformer", "unet")


def denoiser_of(pipeline: Any) -> Any:
    for name in DENOISERS:
        component = getattr(pipeline, name, None)
        if component is not None:
            return component
    raise ValueError(f"{type(pipeline).__name__} has no transformer or unet to place")


def nf4_quantization(compute_dtype: Any, components: list[str]) -> Any:
    """A `quantization_config` for `from_pretrained`: the named components (the denoiser
    and the big text encoder) in bitsandbytes nf4, as `models.memory_modes` budgets it."""
    from diffusers import PipelineQuantizationConfig

    return PipelineQuantizationConfig(
        quant_backend="bitsandbytes_4bit",
        quant_kwargs={"load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                      "bnb_4bit_compute_dtype": compute_dtype},
        components_to_quantize=components)


def apply_placement(pipeline: Any, placement: str, device: str, compute_dtype: Any) -> Any:
    """Place a freshly loaded pipeline; the pipeline, for chaining."""
    import torch

    if placement in ("resident", "nf4"):
        return pipeline.to(device)
    if placement == "fp8":
        denoiser_of(pipeline).enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn,
                                                       compute_dtype=compute_dtype)
        return pipeline.to(device)
    if placement == "model_offload":
        pipeline.enable_model_cpu_offload(device=device)
        return pipeline
    if placement == "group_offload":
        on_gpu = device.startswith("cuda")
        pipeline.enable_group_offload(onload_device=torch.device(device),
                                      offload_device=torch.device("cpu"),
                                      offload_type="block_level", num_blocks_per_group=1,
                                      use_stream=on_gpu)
        return pipeline
    raise ValueError(f"unknown placement {placement!r}")


def reset(pipeline: Any) -> None:
    """Remove offload hooks so that the pipeline can be placed again."""
    pipeline.remove_all_hooks()
