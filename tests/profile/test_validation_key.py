"""The validation key (provisioner/profile/validation_key.py): what the compatibility
rules and the lock's inputs read, so that apply may skip them when the last verified
apply recorded the same key, and never otherwise."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import provisioner
from provisioner.errors import ValidationFailed
from provisioner.profile import load_profile
from provisioner.profile import validation_key as vk
from provisioner.profile.resolved import content_hash

REPO = Path(__file__).resolve().parents[2]

# Runs both verdicts over every shipped profile in a fresh interpreter, recording every
# Python file they run (module bodies included), every file they open and every
# environment variable they read. Nothing of either verdict is imported before.
TRACE = r"""
import json, os, sys
from pathlib import Path
import provisioner
from provisioner.profile.extends import resolve
from provisioner.profile.model import Profile
from provisioner.profile.resolved import ResolvedProfile

PKG = Path(provisioner.__file__).resolve().parent
used, env, on = set(), set(), [False]

class Recording(type(os.environ)):
    def __getitem__(self, key):
        env.add(key)
        return super().__getitem__(key)

def called(frame, event, arg):
    if event == "call":
        used.add(frame.f_code.co_filename)

def audit(event, args):
    if on[0] and event == "open" and isinstance(args[0], str):
        used.add(args[0])

sys.addaudithook(audit)
loaded = []
for p in sorted(Path(sys.argv[1]).glob("**/*.yaml")):
    merged, _ = resolve(p)
    profile = Profile.model_validate(merged.data)
    loaded.append((ResolvedProfile(profile, p, tuple(merged.sources)), merged))
assert "provisioner.profile.compat" not in sys.modules, "imported before the trace"
assert "provisioner.lock.inputs" not in sys.modules, "imported before the trace"
os.environ.__class__ = Recording
on[0] = True
sys.setprofile(called)
from provisioner.lock.inputs import inputs_hash
from provisioner.profile.compat import check_profile
for resolved, merged in loaded:
    assert check_profile(resolved.profile.model_dump(mode="json"), merged) == []
    inputs_hash(resolved)
sys.setprofile(None)
on[0] = False
os.environ.__class__ = Recording.__mro__[1]
files = set()
for f in used:
    path = Path(f).resolve() if f.startswith("/") else None
    if path is None or not path.is_relative_to(PKG):
        continue
    if path.parent.name == "__pycache__":  # the module's bytecode: the module itself
        path = path.parent.parent / (path.name.split(".")[0] + ".py")
    files.add(path.relative_to(PKG).as_posix())
print(json.dumps({"files": sorted(files), "env": sorted(env), "profiles": len(loaded)}))
"""


def test_the_key_covers_every_file_and_variable_the_verdicts_use() -> None:
    done = subprocess.run(
        [sys.executable, "-c", TRACE, str(REPO / "profiles")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    traced = json.loads(done.stdout.splitlines()[-1])
    assert traced["profiles"] >= 9
    # the trace sees the rules' table and the lock-input code (it works)
    assert {"data/compat.yaml", "profile/compat.py", "lock/inputs.py"} <= set(traced["files"])
    assert sorted(set(traced["files"]) - set(vk.FILES)) == []
    assert sorted(set(traced["env"]) - set(vk.ENVIRONMENT)) == []


@pytest.fixture
def package_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the key's files, which the key then reads instead of the package's."""
    root = tmp_path / "provisioner"
    for rel in vk.FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(vk.PACKAGE / rel, root / rel)
    monkeypatch.setattr(vk, "PACKAGE", root)
    return root


def test_the_key_changes_with_every_input(
    package_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = "sha256:" + "0" * 64
    key = vk.validation_key(content)
    assert key.startswith("sha256:") and vk.validation_key(content) == key
    assert vk.validation_key("sha256:" + "1" * 64) != key  # another profile content
    seen = {key}
    for rel in vk.FILES:  # each data file and each module of the verdicts
        original = (package_copy / rel).read_bytes()
        (package_copy / rel).write_bytes(original + b"\n")
        changed = vk.validation_key(content)
        assert changed not in seen, rel
        seen.add(changed)
        (package_copy / rel).write_bytes(original)
    assert vk.validation_key(content) == key
    for var in vk.ENVIRONMENT:
        monkeypatch.setenv(var, "1")
        assert vk.validation_key(content) not in seen, var
        monkeypatch.delenv(var)
    monkeypatch.setattr(vk, "__version__", "0.0.0+other")
    assert vk.validation_key(content) != key  # another provision


def test_an_unreadable_input_is_no_key(package_copy: Path) -> None:
    (package_copy / "data" / "compat.yaml").unlink()
    assert vk.validation_key("sha256:" + "0" * 64) == ""


BREAKS_A_RULE = """\
name: p
target: {os: linux, arch: x86_64}
requires: {gpu: {api: none}}
environment: {manager: venv, name: p, python: "3.11", pip: ["numpy"]}
smoke_test: {framework: pytorch, device: cuda}
"""


def test_the_rules_are_skipped_only_under_the_key_recorded_for_the_environment(
    tmp_path: Path, package_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile that breaks a compatibility rule (it could never have been recorded)
    shows which way load_profile went: skipped under its own key, run under any other."""
    profile = tmp_path / "p.yaml"
    profile.write_text(BREAKS_A_RULE)
    with pytest.raises(ValidationFailed, match=r"smoke_test\.device cuda needs"):
        load_profile(profile)  # no recorded key: the rules run (validate, plan, doctor)
    from provisioner.profile.model import Profile
    from provisioner.profile.yamlnodes import parse_yaml

    data = Profile.model_validate(parse_yaml(BREAKS_A_RULE, "p.yaml").data)
    key = vk.validation_key(content_hash(data.model_dump(mode="json")))
    asked: list[str] = []

    def recorded(env: str) -> str:
        asked.append(env)
        return key

    loaded = load_profile(profile, recorded=recorded)
    assert asked == ["p"] and loaded.validation_key == key
    # Any input of the key changed since it was recorded: the rules run again.
    compat = package_copy / "data" / "compat.yaml"
    compat.write_text(compat.read_text() + "\n# a new rule\n")
    with pytest.raises(ValidationFailed, match=r"smoke_test\.device cuda needs"):
        load_profile(profile, recorded=recorded)
    compat.write_text(compat.read_text().removesuffix("\n# a new rule\n"))
    assert load_profile(profile, recorded=recorded).validation_key == key
    version = provisioner.__version__
    monkeypatch.setattr(vk, "__version__", "0.0.0+other")
    with pytest.raises(ValidationFailed, match=r"smoke_test\.device cuda needs"):
        load_profile(profile, recorded=recorded)
    monkeypatch.setattr(vk, "__version__", version)
    # The profile's content changed (one of its extended files, say): another key.
    profile.write_text(BREAKS_A_RULE.replace('pip: ["numpy"]', 'pip: ["numpy", "six"]'))
    with pytest.raises(ValidationFailed, match=r"smoke_test\.device cuda needs"):
        load_profile(profile, recorded=recorded)


def test_a_profile_the_rules_pass_carries_its_key_to_record() -> None:
    loaded = load_profile(REPO / "profiles" / "cpu.yaml")
    assert loaded.validation_key == vk.validation_key(loaded.content_hash)
