"""Bounded waiting loops: poll a condition until a deadline, then fail with what was seen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T | None], *, seconds: float, what: str, interval: float = 0.05
) -> T:
    """Call ``probe`` until it returns something other than None (or False); return that.
    Raise AssertionError naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(interval)


def within(condition: Callable[[], bool], seconds: float, interval: float = 0.05) -> bool:
    """Whether ``condition`` becomes true within ``seconds`` (polled, bounded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
