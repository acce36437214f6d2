"""Which package a spec names: what `extends` merges by and `!name` removes, and what
conda's history keys requested specs by."""

from __future__ import annotations

import pytest

from provisioner.profile.extends import package_name


@pytest.mark.parametrize(
    ("spec", "kind", "name"),
    [
        ("numpy>=1.26", "conda", "numpy"),
        ("conda-forge::numpy>=1", "conda", "numpy"),
        ("https://conda.example.org/chan::scipy=1.11", "conda", "scipy"),
        ("file:///srv/channel/linux-64::torch 2.3.*", "conda", "torch"),
        ("pytorch/label/nightly::pytorch", "conda", "pytorch"),
        ("  cudatoolkit", "conda", "cudatoolkit"),
        ("Typing_Extensions==4.12", "pip", "typing-extensions"),
        ("torch @ https://download.example.org/torch-2.3.1-cp311.whl", "pip", "torch"),
        ("zope.interface>=6", "pip", "zope-interface"),
    ],
)
def test_the_named_package(spec: str, kind: str, name: str) -> None:
    assert package_name(spec, kind) == name


@pytest.mark.parametrize("spec", ["", "   ", ">=1.0", "::", 3, None])
def test_no_package_is_none(spec: object) -> None:
    assert package_name(spec, "conda") is None


def test_a_long_run_of_colons_is_answered_at_once() -> None:
    # Hostile input: the channel part is matched without backtracking blow-up.
    assert package_name(":" * 200_000 + "x", "conda") == "x"
    assert package_name("a::" * 50_000 + "numpy", "conda") == "numpy"
