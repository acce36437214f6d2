"""The profile's smoke-test values. Stand-in defaults for type checking and unit tests:
the rendered script defines these names from the profile instead of this module."""

from __future__ import annotations

PROFILE = "example"
FRAMEWORK = "pytorch"
DEVICE = "cpu"
STEPS = 200
MIN_LOSS_DROP = 5.0
REQUIRE_ACCELERATOR = False
ENV_VARIABLES: dict[str, str] = {}
TOOL_VERSION = "0.0.0"
