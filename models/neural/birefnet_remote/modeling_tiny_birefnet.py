"""A tiny encoder-decoder with BiRefNet's interface (a remote-code module).

forward(pixel_values (B, 3, H, W)) returns a list of logit maps (B, 1, H, W), coarse to
fine, like BiRefNet in eval mode; callers take `sigmoid(outputs[-1])`.
"""

import torch
from torch import nn
from transformers import PreTrainedModel

from .configuration_tiny_birefnet import TinyBiRefNetConfig


class TinyBiRefNet(PreTrainedModel):
    config_class = TinyBiRefNetConfig
    main_input_name = "pixel_values"

    def __init__(self, config: TinyBiRefNetConfig) -> None:
        super().__init__(config)
        width = config.channels
        self.stem = nn.Conv2d(3, width, kernel_size=3, padding=1)
        self.down = nn.ModuleList(
            nn.Conv2d(width, width, kernel_size=3, stride=2, padding=1)
            for _ in range(config.levels)
        )
        self.heads = nn.ModuleList(nn.Conv2d(width, 1, kernel_size=1)
                                   for _ in range(config.levels + 1))
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Conv2d):
            nn.init.normal_(module.weight, std=0.3)
            nn.init.zeros_(module.bias)

    def forward(self, pixel_values: torch.Tensor) -> list[torch.Tensor]:
        size = pixel_values.shape[-2:]
        features = [torch.relu(self.stem(pixel_values))]
        for conv in self.down:
            features.append(torch.relu(conv(features[-1])))
        outputs = []
        for head, feature in zip(self.heads, reversed(features), strict=True):
            logits = head(feature)
            outputs.append(nn.functional.interpolate(logits, size=size, mode="bilinear",
                                                     align_corners=False))
        return outputs
