"""smoke_test.py is packed from provisioner/target/smoke/: every name the modules share
is defined in the one script, the profile's values and the framework table's facts
replace target/smoke/profile.py, and the modules' own decisions can be tested without
rendering anything."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.frameworks import FRAMEWORKS, Framework
from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_smoke import render_smoke_test
from provisioner.smoke.script import script_sources
from provisioner.target import SMOKE_MODULES
from provisioner.target.pack import PackError
from provisioner.target.smoke import decisions, profile

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "provisioner" / "templates"


def rendered(profile_name: str = "cpu") -> str:
    resolved = load_profile(REPO / "profiles" / f"{profile_name}.yaml")
    return render_smoke_test(RenderContext(resolved, "0.0.0-test"))


def ruff(source: str, *args: str) -> subprocess.CompletedProcess[str]:
    """ruff's checks over ``source`` (stdin), without the project's settings."""
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", *args, "-"],
        input=source,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assigned_names(source: str) -> set[str]:
    tree = ast.parse(source)
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }


def test_the_template_defines_every_profile_value_the_modules_read() -> None:
    """A value added to script/profile.py but not to the template would leave the
    script with a NameError; one left in the template only would be dead."""
    module_names = assigned_names(Path(profile.__file__).read_text("utf-8"))
    script = rendered()
    header = script[: script.index("# --- " + script_sources().sections[0].title)]
    assert assigned_names(header) == module_names


def test_the_script_has_no_undefined_or_unused_names_under_python_37() -> None:
    """pyflakes' rules over the assembled script, for the oldest Python it runs on: a
    renamed function or a module left out of MODULES fails here, not in a lab."""
    done = ruff(rendered(), "--select", "F,E9", "--target-version", "py37")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_missing_module_is_caught_when_the_script_is_packed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A module left out of SMOKE_MODULES is an error at render time (the packer sees an
    import of a module it does not pack), not a NameError in a lab."""
    import provisioner.smoke.script as artifacts

    missing = tuple(m for m in SMOKE_MODULES if m != "smoke.decisions")
    monkeypatch.setattr(artifacts, "SMOKE_MODULES", missing)
    with pytest.raises(PackError, match=r"imports provisioner\.target\.smoke\.decisions"):
        rendered()


@pytest.mark.parametrize("framework", list(Framework))
def test_the_script_runs_the_driver_the_framework_table_names(framework: Framework) -> None:
    """The framework table is the one place that says which driver runs a framework and
    which distributions it reports: the rendered script, loaded as a module (its main
    is not run), picks exactly that driver."""
    from dataclasses import replace

    resolved = load_profile(REPO / "profiles" / "cpu.yaml")
    smoke = resolved.profile.smoke_test.model_copy(update={"framework": framework})
    resolved = replace(resolved, profile=resolved.profile.model_copy(update={"smoke_test": smoke}))
    namespace: dict[str, object] = {"__name__": "smoke_test"}
    exec(
        compile(render_smoke_test(RenderContext(resolved, "0")), "smoke_test.py", "exec"), namespace
    )
    facts = FRAMEWORKS[framework]
    drivers = namespace["DRIVERS"]
    assert isinstance(drivers, dict)
    assert (namespace["FRAMEWORK"], namespace["DRIVER"]) == (framework.value, facts.driver)
    assert namespace["DISTRIBUTIONS"] == list(facts.distributions)
    expected = "TensorFlowGraph" if framework.value.startswith("tensorflow") else "TorchEager"
    assert drivers[namespace["DRIVER"]].__name__ == expected


def test_imports_between_the_modules_are_dropped_and_stdlib_ones_hoisted() -> None:
    sources = script_sources()
    assert "provisioner" not in sources.imports
    assert "import threading" in sources.imports.splitlines()
    for section in sources.sections:
        for node in ast.parse(section.code).body:
            assert not isinstance(node, ast.Import | ast.ImportFrom), section.title


def test_python_left_in_the_templates_stays_small() -> None:
    """Code belongs in modules; a .py.j2 template only injects the profile's values."""
    lines = sum(len(p.read_text("utf-8").splitlines()) for p in TEMPLATES.rglob("*.py.j2"))
    assert lines <= 150


def test_decisions_run_as_a_module_without_rendering() -> None:
    chosen, warnings = decisions.choose_device(
        "cuda",
        [{"index": 1, "name": "RTX 4090"}, {"index": 0, "name": "Intel(R) UHD Graphics 770"}],
        {},
    )
    assert chosen == {"index": 0, "name": "Intel(R) UHD Graphics 770"}
    (warning,) = warnings
    assert "Device 0 looks like an integrated GPU; RTX 4090 is likely the faster one." in warning
    assert "CUDA_VISIBLE_DEVICES=1" in warning
    assert decisions.clean_number(float("nan")) is None
    assert decisions.judge_training(10.0, float("inf"), 5.0)[0] == "fail"
