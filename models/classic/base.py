"""What every classic backend declares (see `models.contracts.Backend`): no weights, so
no batching of its own, no GPU, and its name alone in stage-cache keys."""

from __future__ import annotations


class ClassicBackend:
    name = "classic"
    batch_size = 1
    batches = False
    needs_gpu = False

    @property
    def cache_key(self) -> str:
        return self.name
