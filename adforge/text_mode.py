"""Text modes: who writes the copy onto a canvas.

- `edit`: Qwen-Image-Edit paints the copy into the canvas (verified; a canvas that fails
  verification falls back to typesetting);
- `typeset`: AdForge draws the copy in the brand's own fonts.

Three places may choose, the most specific first: the brief row's `text_mode` column,
the brand kit's `text_mode`, then the run's (`Settings.text_mode()`: `ADFORGE_TEXT__MODE`,
else the profile's default). Nothing here imports the rest of AdForge.
"""

from __future__ import annotations

from typing import Literal, get_args

TextMode = Literal["edit", "typeset"]
TEXT_MODES: tuple[str, ...] = get_args(TextMode)


def resolve_text_mode(row_mode: str | None, kit_mode: str | None, run_mode: str) -> str:
    """The mode one canvas is written in: the row's, else the brand kit's, else the run's.

    None or "" means "not chosen here". A value outside TEXT_MODES is refused: the brief
    and the brand kit validate theirs when they are loaded, so one here is a bug."""
    chosen = row_mode or kit_mode or run_mode
    if chosen not in TEXT_MODES:
        raise ValueError(f"text mode {chosen!r} is unknown; use one of: {', '.join(TEXT_MODES)}")
    return chosen
