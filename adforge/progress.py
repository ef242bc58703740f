"""Process-local progress events, so a CLI can draw a live display of a flow run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    stage: str
    done: int
    total: int
    message: str = ""


_listeners: list[Callable[[ProgressEvent], None]] = []


def subscribe(listener: Callable[[ProgressEvent], None]) -> Callable[[], None]:
    """Call `listener` for every event; returns a function that unsubscribes it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def emit(stage: str, done: int, total: int, message: str = "") -> None:
    event = ProgressEvent(stage, done, total, message)
    for listener in list(_listeners):
        listener(event)
