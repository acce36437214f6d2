"""The framework table (provisioner/frameworks.py) is the one place that says what each
smoke-test framework is: every framework a profile may name has its facts, the smoke
script has the driver the table names, and the compatibility data (compat.yaml, keyed by
the framework's id) does not contradict the devices it lists."""

from __future__ import annotations

from pathlib import Path

import yaml

from provisioner.frameworks import FRAMEWORKS, Device, Framework, selection_rule
from provisioner.profile import Framework as ProfileFramework
from provisioner.target.smoke.frameworks import DRIVERS

REPO = Path(__file__).resolve().parents[1]


def test_every_framework_a_profile_may_name_has_its_facts() -> None:
    assert ProfileFramework is Framework  # the profile model reads the table's enum
    assert set(FRAMEWORKS) == set(Framework)
    for framework, facts in FRAMEWORKS.items():
        assert facts.framework is framework
        assert facts.driver in DRIVERS, framework
        assert Device.cpu in facts.devices, framework  # every smoke test can run on the CPU
        assert facts.module.isidentifier()


def test_the_selection_rule_names_the_variable_of_each_accelerator() -> None:
    assert "DML_VISIBLE_DEVICES=<index>" in selection_rule(Device.dml)
    assert "CUDA_VISIBLE_DEVICES=<index>" in selection_rule(Device.cuda)
    assert selection_rule(Device.cpu) == "the CPU is used"


def device_rules() -> list[tuple[list[str], list[str]]]:
    """compat.yaml's rules that limit ``smoke_test.device`` for named frameworks."""
    data = yaml.safe_load((REPO / "provisioner" / "data" / "compat.yaml").read_text())
    found = []
    for rule in data.get("rules", []):
        frameworks = rule.get("when", {}).get("smoke_test.framework")
        one_of = rule.get("check", {}).get("one_of", {})
        if frameworks and one_of.get("field") == "smoke_test.device":
            names = frameworks if isinstance(frameworks, list) else [frameworks]
            found.append((names, list(one_of["values"])))
    return found


def test_compatibility_rules_allow_exactly_the_devices_the_table_lists() -> None:
    for frameworks, devices in device_rules():
        for name in frameworks:
            listed = {d.value for d in FRAMEWORKS[Framework(name)].devices}
            assert set(devices) == listed, name
