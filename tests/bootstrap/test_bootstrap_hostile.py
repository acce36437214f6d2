"""bootstrap.sh rendered from a profile with hostile values in every text field (name,
description, variable values) and a hostile file name: executed for real (--dry-run with
the host checks, then a real venv build), no injected command runs and every value
arrives byte for byte."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from provisioner.report.model import parse_report
from tests.bootstrap.bootstrap_e2e import Renderer
from tests.pypi_index import small_index

# A STUB smoke test (no framework in this small env): it records what the script passed
# it (the exported variables) instead of training.
STUB_SMOKE_TEST = '''\
"""STUB smoke test (tests/bootstrap): records the exported variables, no training."""
import json, os, sys
out = sys.argv[sys.argv.index("--json-out") + 1]
with open(out, "w") as f:
    json.dump({"passed": True, "stub": True, "hostile": os.environ.get("HOSTILE_VALUE"),
               "quote": os.environ.get("QUOTE_VALUE")}, f)
'''


def hostile(marker: Path, tag: str) -> str:
    """A value that runs ``touch MARKER/<tag>-*`` if it is ever pasted unquoted into bash
    (command substitution, backticks, a closed quote, a command separator, a comment
    break). Line breaks and other control characters are refused at validate
    (tests/profile/test_values.py), so they never reach a script."""
    m = f"{marker}/{tag}"
    return (
        f"it's $(touch {m}-subst) `touch {m}-backtick` '; touch {m}-quote; '"
        f'"; touch {m}-dquote; " $HOME ${{PATH}} * ? ; touch {m}-semi & touch {m}-amp '
        f"| touch {m}-pipe \u2019smart\u2019 # not a comment \\ end"
    )


# A file name cannot hold "/" (line breaks are refused at load): its commands would touch files
# in the working directory.
HOSTILE_FILE = "team $(touch PWNED-subst) `touch PWNED-bt`;touch PWNED-semi \u2019 #.yaml"


@pytest.fixture
def hostile_folder(
    render: Renderer, tmp_path: Path, bootstrap_env: dict[str, str]
) -> tuple[Path, Path, dict[str, object]]:
    """(rendered folder, marker folder, the profile data) for the hostile profile."""
    marker = tmp_path / "marker"
    marker.mkdir()
    data: dict[str, object] = {
        "name": hostile(marker, "name"),
        "description": hostile(marker, "description"),
        "target": {"os": "linux"},
        "environment": {
            "manager": "venv",
            "name": "hostile-env",
            "python": "3.11",
            "pip": ["six==1.17.0", "iniconfig==2.3.0"],
            "index_url": small_index().as_uri(),
            "variables": {"HOSTILE_VALUE": hostile(marker, "variable"), "QUOTE_VALUE": "'"},
        },
        "smoke_test": {"framework": "pytorch", "device": "cpu", "require_accelerator": False},
    }
    folder = tmp_path / "p"
    folder.mkdir()
    profile = folder / HOSTILE_FILE
    profile.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    out = render(profile, out=tmp_path / "out")
    assert (out / "conda-lock.yml").is_file()
    return out, marker, data


def run(
    folder: Path, cwd: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(folder / "bootstrap.sh"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_hostile_values_run_nothing_and_arrive_intact(
    hostile_folder: tuple[Path, Path, dict[str, object]],
    tmp_path: Path,
    bootstrap_env: dict[str, str],
) -> None:
    folder, marker, data = hostile_folder
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    home = Path(bootstrap_env["PROVISION_HOME"])

    dry = run(folder, cwd, bootstrap_env, "--dry-run")  # with the host checks (check.sh)
    assert sorted(marker.iterdir()) == [] and sorted(cwd.iterdir()) == []
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "would create" in dry.stdout and "command not found" not in dry.stderr
    assert not (home / "envs").exists() and not (home / "reports").exists()

    (folder / "smoke_test.py").write_text(STUB_SMOKE_TEST)
    done = run(folder, cwd, bootstrap_env, "--skip-checks")
    assert sorted(marker.iterdir()) == [] and sorted(cwd.iterdir()) == []
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = (home / "reports").glob("*.json")
    report = json.loads(path.read_text())
    assert report["result"] == "changed"
    assert report["profile"]["name"] == data["name"]
    assert report["profile"]["path"] == HOSTILE_FILE
    env = data["environment"]
    assert isinstance(env, dict)
    assert report["verify"]["result"] == {
        "passed": True,
        "stub": True,
        "hostile": env["variables"]["HOSTILE_VALUE"],
        "quote": "'",
    }

    # A hostile host name (a fleet's inventory name is free text) keeps the report valid
    # JSON: quotes, backslashes and line breaks escaped, other control characters blanked.
    name = 'lab "7" \\ $(touch PWNED)\t\n\x1b[2Jend'
    again = run(folder, cwd, bootstrap_env, "--skip-checks", "--host-name", name)
    assert again.returncode == 0, again.stderr
    assert sorted(marker.iterdir()) == [] and sorted(cwd.iterdir()) == []
    latest = parse_report(json.loads((home / "reports" / "hostile-env.json").read_text()))
    assert latest.host.name == 'lab "7" \\ $(touch PWNED)\t\n [2Jend'
    assert latest.profile.name == data["name"] and latest.result == "converged"
