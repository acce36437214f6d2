"""A no-op apply, and ``provision --help``, load only what they need: the state, the
fingerprint, the checks (docs/apply.md). Each runs in a fresh child process, which
prints the modules it ended with; none of the heavy ones may be among them.

The environment is a real conda prefix from the tests' local channel, verified with
``--verify import`` (its ``pytorch`` is the channel's STAND-IN: apply_e2e.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.apply.apply_e2e import REPO, Provision, conda_profile

# Modules a run that changes nothing has no use for.
SOLVERS = ("rattler", "conda_lock", "asyncio", "provisioner.lock.pip_part")
INSTALLERS = ("provisioner.uvbin", "provisioner.env.conda", "provisioner.env.pip_part")
WRITERS = (
    "provisioner.report.junit",
    "provisioner.apply.junit",
    "xml.etree.ElementTree",
    "jinja2",
    "provisioner.render",
    "provisioner.target.pack",
    "provisioner.smoke.runner",
    "provisioner.verify.run",
)
# The compatibility rules and data, the lock inputs' solver side: known from the
# validation key the verified apply recorded (profile/validation_key.py).
VERDICTS = ("provisioner.profile.compat", "provisioner.compatdata", "provisioner.lock.conda")
# Start-up weight with a lighter way: plain pip specs (profile/specs.py), PEP 503 names
# (names.py), debug logging only under --verbose (process.py), interpreter versions
# remembered per file (host/program_cache.py) instead of a thread pool of ``python -V``.
STARTUP = ("packaging.requirements", "packaging.utils", "logging", "concurrent.futures")
NOOP_NEVER = (*SOLVERS, *INSTALLERS, *WRITERS, *VERDICTS, *STARTUP)
# --help parses arguments and prints: no model, no YAML, nothing of the engine.
HELP_NEVER = (
    *NOOP_NEVER,
    "pydantic",
    "yaml",
    "provisioner.report.model",
    "provisioner.profile",
    "provisioner.checks",
    "provisioner.apply",
    "provisioner.commands",  # no command's module: the table in cli.py lists them
)

RUN = """
import json, sys
from provisioner.cli import main
code = main(sys.argv[1:])
print("MODULES=" + json.dumps(sorted(sys.modules)), flush=True)
sys.exit(code)
"""


def modules_after(provision: Provision, *args: str) -> set[str]:
    """The modules ``provision ARGS`` has loaded when it is done (in a fresh child)."""
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        env=provision.env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (line,) = [ln for ln in done.stdout.splitlines() if ln.startswith("MODULES=")]
    return set(json.loads(line.removeprefix("MODULES=")))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (a module or any module under it) were loaded."""
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


def test_a_noop_apply_loads_no_solver_installer_or_writer_it_does_not_need(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    first = provision("apply", str(profile), "--verify", "import", "--quiet")
    assert first.returncode == 0, first.stdout + first.stderr
    # the hint from which the next apply starts its drift scan before these imports
    hints = list((provision.home / "state" / "hints").iterdir())
    assert [h.read_text() for h in hints] == ["e2e-env\n"]
    modules = modules_after(provision, "apply", str(profile), "--verify", "import", "--quiet")
    report = json.loads((provision.home / "reports" / "e2e-env.json").read_text())
    assert report["result"] == "converged"  # it was a no-op, and it wrote its report
    assert loaded(modules, NOOP_NEVER) == []
    # What it needs is loaded: the check that the harness sees what a run imports.
    assert {"provisioner.state", "provisioner.target.fingerprint"} <= modules
    # of the commands, only apply's module (the CLI's table lists the others)
    assert sorted(m for m in modules if m.startswith("provisioner.commands.")) == [
        "provisioner.commands.apply"
    ]
    # and a run that writes JUnit does load the writer the no-op skipped
    junit = tmp_path / "apply.xml"
    with_junit = modules_after(
        provision, "apply", str(profile), "--verify", "import", "--quiet", "--junit", str(junit)
    )
    assert loaded(with_junit, NOOP_NEVER) == [
        "provisioner.apply.junit",
        "provisioner.report.junit",
        "xml.etree.ElementTree",
    ]


def test_help_loads_nothing_of_the_engine(provision: Provision) -> None:
    modules = modules_after(provision, "--help")
    assert loaded(modules, HELP_NEVER) == []
    assert "provisioner.cli" in modules and "argparse" in modules
