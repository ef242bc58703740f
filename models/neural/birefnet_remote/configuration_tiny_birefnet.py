"""Configuration of the tiny BiRefNet-contract model (a remote-code module)."""

from transformers import PretrainedConfig


class TinyBiRefNetConfig(PretrainedConfig):
    model_type = "tiny_birefnet"

    def __init__(self, channels: int = 8, levels: int = 2, **kwargs) -> None:
        self.channels = channels
        self.levels = levels
        super().__init__(**kwargs)
