"""Memory placement modes: how a model sits in accelerator memory, and what that costs.

(A memory placement, not the product's place in a frame: that is `adforge.specs.Placement`.)

A model declares its footprint: the bytes of its weights at their native dtype, the
working memory of one call (activations, latents, attention), its largest component
(what model offload keeps on the device at once) and its largest block (what group
offload streams). The planner picks the first placement, heaviest first, whose device
bytes fit the room it is given:

| placement | device bytes |
|---|---|
| resident | weights + working |
| fp8 | weights - largest component / 2 (the denoiser stored in fp8, the rest 16-bit) + working |
| nf4 | weights x 9/32 (4-bit plus block scales, bitsandbytes) + working |
| model_offload | largest component + working (components visit the device in turn) |
| group_offload | 2 x largest block + working (one block computing, one streaming in) |

The names are the core's (`adforge.profiles.MEMORY_PLACEMENTS`: a profile lists those its
models may take). Pure Python: the numbers are what the residency manager budgets with.
No torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from adforge.profiles import MEMORY_PLACEMENTS

PLACEMENTS: tuple[str, ...] = MEMORY_PLACEMENTS  # heaviest first
GIB = 1024 ** 3


class NoPlacementError(MemoryError):
    """Not even the lightest placement fits the room given."""


@dataclass(frozen=True)
class Footprint:
    """What a model needs, in bytes (weights at their native dtype)."""

    weights: int
    working: int = 0
    largest_component: int | None = None  # default: all the weights (one component)
    largest_block: int | None = None  # default: a twentieth of the weights

    @classmethod
    def of(cls, parameters: float, bytes_per_parameter: float = 2.0, working: int = 0,
           largest_component: int | None = None,
           largest_block: int | None = None) -> Footprint:
        """From a parameter count and dtype width (bf16/fp16: 2, fp32: 4)."""
        return cls(weights=int(parameters * bytes_per_parameter), working=int(working),
                   largest_component=largest_component, largest_block=largest_block)

    def device_bytes(self, placement: str) -> int:
        """Accelerator bytes the model takes in a placement."""
        if placement == "resident":
            return self.weights + self.working
        if placement == "fp8":
            return self.weights - (self.largest_component or self.weights) // 2 + self.working
        if placement == "nf4":
            return self.weights * 9 // 32 + self.working
        if placement == "model_offload":
            return (self.largest_component or self.weights) + self.working
        if placement == "group_offload":
            return 2 * (self.largest_block or self.weights // 20) + self.working
        raise ValueError(f"unknown placement {placement!r}; use one of {', '.join(PLACEMENTS)}")

    def host_bytes(self, placement: str) -> int:
        """Host RAM the offloaded weights stay in (0 when they all sit on the device)."""
        return self.weights if placement in ("model_offload", "group_offload") else 0


def choose_placement(footprint: Footprint, room: int,
                     allowed: tuple[str, ...] = PLACEMENTS) -> str:
    """The heaviest allowed placement (first in `allowed`) that fits in `room` bytes."""
    for placement in allowed:
        if footprint.device_bytes(placement) <= room:
            return placement
    lightest = min(footprint.device_bytes(p) for p in allowed)
    raise NoPlacementError(f"needs at least {lightest / GIB:.2f} GiB in its lightest "
                           f"placement, {room / GIB:.2f} GiB available")


def lighter_placements(placement: str, allowed: tuple[str, ...] = PLACEMENTS) -> tuple[str, ...]:
    """The allowed placements after this one (what to try after an out-of-memory)."""
    return allowed[allowed.index(placement) + 1:] if placement in allowed else ()
