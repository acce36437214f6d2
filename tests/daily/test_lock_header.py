"""The lockfile's header names commands that work on it (conda-lock's own header named
conda-lock commands that cannot read a provision profile): each is run in the
lockfile's folder, except apply, which is parsed (the smoke test needs real torch)."""

from __future__ import annotations

import shlex

from provisioner.cli import build_parser
from tests.daily.conftest import Team

FILL = {"NAME": "six", "SPEC": "six"}


def test_every_command_in_the_lockfile_header_works(team: Team) -> None:
    assert team("add", "-p", "team.yaml", "six").returncode == 0
    assert team("lock", "team.yaml").returncode == 0
    text = (team.folder / "team.conda-lock.yml").read_text()
    header = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert header[0].startswith("# This lockfile was made by provision (provisioner-gpu)")
    commands = [ln.split("  ")[-1].strip() for ln in header if "provision " in ln.split(":")[-1]]
    commands = [c for c in commands if c.startswith("provision ")]
    assert len(commands) == 6, header
    for line in commands:
        argv = [FILL.get(w, w) for w in shlex.split(line)[1:]]
        build_parser().parse_args(argv)  # every line is a valid command line
        if argv[0] == "apply":
            continue
        done = team(*argv)
        assert done.returncode == 0, (line, done.stderr)
