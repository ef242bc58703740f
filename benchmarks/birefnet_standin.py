"""A BiRefNet stand-in for timing: its backbone, its multi-scale input and its contract.

The published BiRefNet is remote code on the hub (`ZhengPeng7/BiRefNet`), which no
machine of this project can fetch. This module has its shape of work instead: a Swin
backbone (`transformers.SwinBackbone`; Swin-L, BiRefNet's `swin_v1_l`, at full scale)
run over the photo and over its half-size copy (BiRefNet's multi-scale input), the two
feature pyramids added, then a top-down decoder with a logit map per level. It keeps the
contract of `models.neural.birefnet_remote`: pixel values (B, 3, H, W) in, a list of
logit maps (B, 1, H, W) out, coarse to fine, so `BiRefNetSegmenter` runs it unchanged.

Its decoder is lighter than BiRefNet's (about 0.20 B parameters in all, against 0.22 B):
the measured time is a slight underestimate of the real model's.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional
from transformers import SwinBackbone, SwinConfig


def _refine(width: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.GroupNorm(8, width),
                         nn.ReLU(), nn.Conv2d(width, width, 3, padding=1), nn.ReLU())


class SwinSegmenterStandIn(nn.Module):
    def __init__(self, swin: SwinConfig, width: int) -> None:
        super().__init__()
        self.backbone = SwinBackbone(swin)
        channels = self.backbone.num_features[1:]
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, kernel_size=1) for c in channels)
        self.refine = nn.ModuleList(_refine(width) for _ in channels)
        self.heads = nn.ModuleList(nn.Conv2d(width, 1, kernel_size=1) for _ in channels)

    def pyramid(self, pixel_values: torch.Tensor) -> list[torch.Tensor]:
        """The backbone's features of the photo plus those of its half-size copy."""
        full = self.backbone(pixel_values).feature_maps
        half_size = functional.interpolate(pixel_values, scale_factor=0.5, mode="bilinear",
                                           align_corners=False)
        half = self.backbone(half_size).feature_maps
        return [f + functional.interpolate(h, size=f.shape[-2:], mode="bilinear",
                                           align_corners=False)
                for f, h in zip(full, half, strict=True)]

    def forward(self, pixel_values: torch.Tensor) -> list[torch.Tensor]:
        size = pixel_values.shape[-2:]
        features = self.pyramid(pixel_values)
        outputs = []
        decoded = None
        for level in reversed(range(len(features))):
            lateral = self.lateral[level](features[level])
            if decoded is not None:
                lateral = lateral + functional.interpolate(decoded, size=lateral.shape[-2:],
                                                           mode="bilinear",
                                                           align_corners=False)
            decoded = self.refine[level](lateral)
            outputs.append(functional.interpolate(self.heads[level](decoded), size=size,
                                                  mode="bilinear", align_corners=False))
        return outputs
