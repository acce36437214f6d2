"""Every lock input, changed on its own, makes a lock stale naming exactly that input
(and what it implies); every edit that is not an input leaves it fresh (docs/lock.md,
"What makes a lock stale"). The locks are written and read back with the real
lockfile writer and reader; nothing is solved (the packages do not matter here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.lock import Lock
from provisioner.lock.inputs import input_digests, inputs_hash, lock_inputs
from provisioner.lock.lockfile import platforms_for, read_lockfile, write_lockfile
from provisioner.lock.staleness import Cause, staleness
from provisioner.profile import ResolvedProfile, load_profile

Edit = Callable[[dict[str, Any]], object]

BASE: dict[str, Any] = {
    "name": "inputs",
    "description": "a lab profile",
    "target": {"os": "linux"},
    "environment": {
        "name": "inputs-env",
        "manager": "conda",
        "channels": ["conda-forge", "nvidia"],
        "python": "3.11",
        "conda": ["numpy 1.26.*", "scipy"],
        "pip": ["six==1.17.0"],
        "index_url": "https://mirror.example/simple",
        "extra_index_urls": ["file:///srv/simple"],
        "find_links": ["/srv/wheels"],
        "variables": {"OMP_NUM_THREADS": "4"},
    },
    "smoke_test": {"framework": "pytorch", "device": "cpu", "require_accelerator": False},
}


def write(folder: Path, data: dict[str, Any]) -> ResolvedProfile:
    path = folder / "inputs.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_profile(path)


def locked(resolved: ResolvedProfile, folder: Path) -> Lock:
    """A lock made for ``resolved`` as `provision lock` records it, read back from disk."""
    lock = Lock(
        inputs_hash(resolved),
        platforms_for(resolved),
        tuple(resolved.profile.environment.channels),
        (),
        tuple(input_digests(resolved).items()),
    )
    return read_lockfile(write_lockfile(lock, resolved, folder / "inputs.conda-lock.yml"))


def edited(edit: Edit) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(yaml.safe_dump(BASE))
    edit(data)
    return data


def env(**changes: object) -> Edit:
    return lambda d: d["environment"].update(changes)


@pytest.mark.parametrize(
    ("edit", "stale"),
    [
        (env(channels=["conda-forge"]), ("environment.channels",)),
        (env(channels=["nvidia", "conda-forge"]), ("environment.channels",)),  # priority
        (env(python="3.12"), ("environment.python",)),
        (env(conda=["numpy 1.26.*"]), ("environment.conda",)),
        (env(pip=["six==1.16.0"]), ("environment.pip",)),
        (env(index_url="https://other.example/simple"), ("environment.index_url",)),
        (env(index_url=None), ("environment.index_url",)),
        (env(extra_index_urls=[]), ("environment.extra_index_urls",)),
        (env(find_links=["/srv/other-wheels"]), ("environment.find_links",)),
        (env(index_strategy="first-index"), ("environment.index_strategy",)),
        (  # a build made against NumPy 1.x: the compatibility data adds numpy<2
            env(pip=["six==1.17.0", "torch-directml==0.2.5.dev240914"]),
            ("environment.pip", "constraints"),
        ),
        (
            env(manager="venv", channels=[], conda=[]),
            (
                "environment.manager",
                "environment.channels",
                "environment.conda",
                "virtual_packages",
            ),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_input_is_named_when_it_changes(
    tmp_path: Path, edit: Edit, stale: tuple[str, ...]
) -> None:
    before = write(tmp_path, BASE)
    lock = locked(before, tmp_path)
    after = write(tmp_path, edited(edit))
    found = staleness(lock, after)
    assert found is not None and (found.cause, found.inputs) == (Cause.INPUTS, stale)
    assert set(stale) <= set(lock_inputs(after))  # only documented inputs are named
    assert found.describe() == f"{', '.join(stale)} changed"


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.update(name="renamed"),
        lambda d: d.update(description="another description"),
        env(name="another-env-name"),
        env(variables={"OMP_NUM_THREADS": "8", "NEW": "1"}),
        env(proxy="http://proxy.example:3128"),
        lambda d: d["smoke_test"].update(steps=40, timeout_s=120),
    ],
    ids=["name", "description", "env-name", "variables", "proxy", "smoke-test"],
)
def test_what_is_not_an_input_leaves_the_lock_fresh(tmp_path: Path, edit: Edit) -> None:
    before = write(tmp_path, BASE)
    lock = locked(before, tmp_path)
    after = write(tmp_path, edited(edit))
    if after.content_hash == before.content_hash:
        pytest.fail("the edit did not change the profile; the case tests nothing")
    assert staleness(lock, after) is None


def test_a_lock_whose_total_was_edited_by_hand_is_stale(tmp_path: Path) -> None:
    resolved = write(tmp_path, BASE)
    lock = locked(resolved, tmp_path)
    path = tmp_path / "inputs.conda-lock.yml"
    text = path.read_text().replace(inputs_hash(resolved).removeprefix("sha256:"), "0" * 64)
    path.write_text(text)
    found = staleness(read_lockfile(path), resolved)
    assert found is not None and found.cause is Cause.INPUTS_HASH
    assert found.describe() == "provision_inputs_hash changed"
    assert staleness(lock, resolved) is None
