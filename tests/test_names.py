"""Our PEP 503 normalization (provisioner/names.py, kept to spare every apply the import
of packaging.utils) names every distribution as packaging's canonicalize_name does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name as packaging_canonical

from provisioner.names import canonicalize_name


@pytest.mark.parametrize(
    "name", ["torch", "Torch_DirectML", "tensorflow-directml-plugin", "ruamel.yaml", "A.-_b", "x"]
)
def test_known_names(name: str) -> None:
    assert canonicalize_name(name) == packaging_canonical(name)


@settings(max_examples=500, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?", fullmatch=True))
def test_every_valid_name_as_packaging_names_it(name: str) -> None:
    assert canonicalize_name(name) == packaging_canonical(name)
