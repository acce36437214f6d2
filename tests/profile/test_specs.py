"""Our strict conda match-spec grammar agrees with rattler on what it accepts, and the
pip check is PEP 508 (packaging)."""

from __future__ import annotations

import pytest

from provisioner.profile.specs import check_conda_spec, check_pip_spec, pinned_version

VALID_CONDA = [
    "numpy",
    "numpy=1.19",
    "numpy==1.19.5",
    "numpy>=1.19,<2",
    "numpy!=1.19.4",
    "numpy 1.19.*",
    "numpy >=1.19",
    "numpy 1.19.5 py37h_0",
    "conda-forge::numpy>=1.19",
    "python=3.11",
    "cudatoolkit 11.8.*",
    "libblas=*=*mkl",
    "pytorch[version='>=2']",
    "ruamel.yaml",
    "_libgcc_mutex",
    "numpy>=1.19|<1.10",
]
INVALID_CONDA = ["numpy>=", "", ">=1.0", "numpy 1.19 build extra", "num py", "numpy==", "a;b"]


@pytest.mark.parametrize("spec", VALID_CONDA)
def test_valid_conda_specs_pass_ours_and_rattlers(spec: str) -> None:
    from rattler import MatchSpec

    assert check_conda_spec(spec) == spec
    parsed = MatchSpec(spec)
    assert parsed.name is not None
    assert (
        parsed.name.normalized
        == spec.split("::")[-1]
        .split("[")[0]
        .split()[0]
        .split("=")[0]
        .split(">")[0]
        .split("<")[0]
        .split("!")[0]
        .lower()
    )


@pytest.mark.parametrize("spec", INVALID_CONDA)
def test_invalid_conda_specs_fail_with_a_hint(spec: str) -> None:
    with pytest.raises(ValueError, match="is not a conda match spec"):
        check_conda_spec(spec)


def test_what_rattler_rejects_we_reject() -> None:
    from rattler import MatchSpec

    for spec in INVALID_CONDA:
        try:
            MatchSpec(spec)
        except Exception:  # rattler raises its own InvalidMatchSpecError
            with pytest.raises(ValueError):
                check_conda_spec(spec)


@pytest.mark.parametrize(
    "spec", ["torch==2.4.1", "Foo[extra]>=1; python_version<'3.12'", "numpy", "a-b.c_d~=1.0"]
)
def test_valid_pip_requirements(spec: str) -> None:
    assert check_pip_spec(spec) == spec


@pytest.mark.parametrize("spec", ["torch 2.0", "torch>>1", "==1.0", "torch>=1.0,,"])
def test_invalid_pip_requirements(spec: str) -> None:
    with pytest.raises(ValueError, match="is not a pip requirement"):
        check_pip_spec(spec)


@pytest.mark.parametrize(
    ("spec", "kind", "version"),
    [
        ("torch==2.4.1", "pip", "2.4.1"),
        ("tensorflow-cpu==2.10.*", "pip", "2.10.*"),
        ("torch>=2.4", "pip", None),
        ("torch", "pip", None),
        ("numpy=1.19.4", "conda", "1.19.4"),
        ("numpy 1.19.4 py37_0", "conda", "1.19.4"),
        ("numpy>=1.19", "conda", None),
    ],
)
def test_pinned_version(spec: str, kind: str, version: str | None) -> None:
    assert pinned_version(spec, kind) == version


@pytest.mark.parametrize(
    "spec",
    [
        "torch==2.13.0",
        "torch==2.4.1+cpu",
        "torch-directml==0.2.5.dev240914",
        "tensorflow-cpu==2.10.*",
        "numpy>=1.20,<2",
        "numpy!=2.0.0rc1",
        "numpy",
    ],
)
def test_plain_requirements_take_the_fast_path(spec: str) -> None:
    from provisioner.profile.specs import PLAIN_PIP_RE

    assert PLAIN_PIP_RE.fullmatch(spec)


@pytest.mark.parametrize(
    "spec",
    ["torch 2.0", "torch>=1.0,,", "torch<1.0+cpu", "torch==1.*.0", "Foo[extra]>=1", "torch\n"],
)
def test_what_the_fast_path_leaves_to_packaging(spec: str) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    from provisioner.profile.specs import PLAIN_PIP_RE

    assert not PLAIN_PIP_RE.fullmatch(spec)
    try:  # and packaging's verdict is check_pip_spec's
        Requirement(spec)
    except InvalidRequirement:
        with pytest.raises(ValueError, match="is not a pip requirement"):
            check_pip_spec(spec)
    else:
        assert check_pip_spec(spec) == spec


def test_every_plain_requirement_is_one_packaging_accepts() -> None:
    """The fast path is a subset of PEP 508: anything it takes, packaging parses to the
    same name and specifiers (hypothesis draws strings from its regex)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    from provisioner.profile.specs import PLAIN_PIP_RE

    @settings(max_examples=500, deadline=None)
    @given(st.from_regex(PLAIN_PIP_RE, fullmatch=True))
    def accepted(spec: str) -> None:
        parsed = Requirement(spec)  # raises InvalidRequirement if the subset were wrong
        cut = min((spec.index(c) for c in "=!<>" if c in spec), default=len(spec))
        assert parsed.name == spec[:cut]
        assert parsed.specifier == SpecifierSet(spec[cut:])

    accepted()
