"""The exported playbook as Ansible itself evaluates it, for Linux and Windows hosts.

The role's derived variables and the expressions of its tasks (the bootstrap command
line, the not-ready diagnosis, ``changed_when``) are evaluated with ansible-core's own
templar over the exported files, with per-host values a fleet really uses (a home
with spaces, a host Python, extra environment variables). No host is contacted here;
tests/fleet/test_fleet_ssh.py runs the Linux play against real SSH hosts."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.export.ansible import LINUX_HOME, WINDOWS_HOME, Playbook, playbook_files
from provisioner.render import write_files

templating = pytest.importorskip("ansible.template", reason="ansible-core is not installed")
dataloader = pytest.importorskip("ansible.parsing.dataloader", reason="ansible-core missing")

ROLE = Path("roles") / "provision"


def book(platform: str, **changes: str) -> Playbook:
    suffix = ".zip" if platform.startswith("win") else ".tar.gz"
    fields: dict[str, str] = {
        "profile_name": "lab",
        "env_name": "lab-env",
        "platform": platform,
        "bundle_file": f"lab-{platform}{suffix}",
        "bundle_id": "0123456789abcdef",
        "top": f"lab-{platform}",
    }
    fields.update(changes)
    return Playbook(**fields)


def export(tmp_path: Path, playbook: Playbook) -> Path:
    out = tmp_path / "export"
    write_files(out, {p: (t, False) for p, t in playbook_files(playbook).items()})
    return out


def role_vars(out: Path, **host: Any) -> dict[str, Any]:
    """defaults, then host variables, then vars/: Ansible's precedence for this role;
    loaded with Ansible's loader (its strings are trusted templates, as in a play)."""
    loader = dataloader.DataLoader()

    def load(kind: str) -> dict[str, Any]:
        path = str(out / ROLE / kind / "main.yml")
        loaded: dict[str, Any] = loader.load_from_file(path, trusted_as_template=True)
        return loaded

    merged: dict[str, Any] = {**load("defaults"), **host, **load("vars")}
    merged.setdefault("inventory_hostname", "lab-01")
    merged.setdefault("playbook_dir", str(out))
    return merged


def evaluate(expression: str, variables: dict[str, Any]) -> Any:
    templar = templating.Templar(loader=dataloader.DataLoader(), variables=variables)
    return templar.template(templating.trust_as_template(expression))


def tasks(out: Path) -> list[dict[str, Any]]:
    path = str(out / ROLE / "tasks" / "main.yml")
    loaded = dataloader.DataLoader().load_from_file(path, trusted_as_template=True)
    flat: list[dict[str, Any]] = []
    for task in loaded:
        flat.append(task)
        for key in ("block", "always", "rescue"):
            flat += task.get(key, [])
    return flat


def modules(out: Path) -> list[str]:
    keys = {"name", "register", "changed_when", "failed_when", "when", "vars", "environment"}
    keys |= {"tags", "check_mode"}
    keys |= {"block", "always", "rescue"}
    found = []
    for task in tasks(out):
        found += [k for k in task if k not in keys]
    return found


@pytest.mark.parametrize(
    ("platform", "home", "family"),
    [
        ("linux-64", LINUX_HOME, "ansible.builtin."),
        ("linux-aarch64", LINUX_HOME, "ansible.builtin."),
        ("win-64", WINDOWS_HOME, "ansible.windows."),
    ],
)
def test_each_platform_gets_its_own_modules_and_home(
    tmp_path: Path, platform: str, home: str, family: str
) -> None:
    out = export(tmp_path, book(platform))
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    windows = platform.startswith("win")
    assert files == [
        "callback_plugins/provision_fleet.py",
        "collections/requirements.yml",
        "inventory.example.ini",
        "roles/provision/defaults/main.yml",
        *([] if windows else ["roles/provision/library/provision.py"]),
        "roles/provision/tasks/main.yml",
        "roles/provision/vars/main.yml",
        "site.yml",
    ]
    defaults = yaml.safe_load((out / ROLE / "defaults" / "main.yml").read_text())
    assert defaults["provision_home"] == home
    assert defaults["provision_bundle_file"] == book(platform).bundle_file
    used = modules(out)
    # What touches the host is the platform's family, or (Linux) our own module.
    controller = {"fail", "assert", "fetch", "debug", "provision"}
    host_side = [m for m in used if m.split(".")[-1] not in controller]
    assert host_side and all(m.startswith(family) for m in host_side), used
    assert ("provision" in used) is not windows
    site = yaml.safe_load((out / "site.yml").read_text())
    assert site == [
        {
            "name": "Provision lab-env from the offline bundle",
            "hosts": "all",
            "gather_facts": False,
            "serial": "{{ provision_serial | default('100%') }}",
            "max_fail_percentage": "{{ provision_max_fail_percentage | default(100) }}",
            "roles": [{"role": "provision"}],
        }
    ]


def test_the_linux_tool_command_line_is_an_argv_of_the_host_values(tmp_path: Path) -> None:
    out = export(tmp_path, book("linux-64"))
    home = "/data/provision lab"  # a space: an argv needs no quoting, a shell line would
    plain = role_vars(out, provision_home=home)
    bundle = f"{home}/bundles/0123456789abcdef/lab-linux-64"
    assert evaluate("{{ provision_bundle_dir }}", plain) == bundle
    expected = [f"{bundle}/bootstrap.sh", "--home", home, "--tool-only"]
    assert evaluate("{{ provision_tool_argv }}", plain) == expected
    chosen = role_vars(out, provision_home=home, provision_python="/usr/bin/python3.11")
    argv = evaluate("{{ provision_tool_argv }}", chosen)
    assert argv[-2:] == ["--python", "/usr/bin/python3.11"]
    # Hashed in full, not trusted by stat: asked for, or under the verify tag.
    forced = role_vars(out, provision_home=home, provision_force_verify=True)
    assert evaluate("{{ provision_tool_argv }}", forced) == [*expected, "--force"]
    tagged = role_vars(out, provision_home=home, ansible_run_tags=["verify"])
    assert evaluate("{{ provision_tool_argv }}", tagged) == [*expected, "--force"]
    installing = role_vars(out, provision_home=home, ansible_run_tags=["install"])
    assert evaluate("{{ provision_tool_argv }}", installing) == expected


def test_the_module_gets_the_host_values_and_runs_with_the_tools_python(tmp_path: Path) -> None:
    out = export(tmp_path, book("linux-64"))
    task = _task(out, "Install the tool, converge")["block"][1]
    assert task["name"].startswith("Converge this host")
    variables = role_vars(
        out,
        provision_home="/srv/p",
        provision_verify="import",
        provision_run_id="20261129T100000Z-abc123",
        provision_tool={"stdout_lines": ["installed", "/srv/p/tool/abc/venv/bin/python"]},
        ansible_run_tags=["all"],
    )
    args = {k: evaluate(str(v), variables) for k, v in task["provision"].items()}
    assert args["bundle"] == "/srv/p/bundles/0123456789abcdef/lab-linux-64"
    assert args["verify"] == "import" and args["force"] is False
    assert args["run_id"] == "20261129T100000Z-abc123" and args["host_name"] == "lab-01"
    assert args["environment"]["PROVISION_RUN_ID"] == "20261129T100000Z-abc123"
    python = evaluate(task["vars"]["ansible_python_interpreter"], variables)
    assert python == "/srv/p/tool/abc/venv/bin/python"
    forced = {**variables, "provision_force_verify": True}
    assert evaluate(str(task["provision"]["force"]), forced) is True
    tagged = {**variables, "ansible_run_tags": ["verify"]}  # --tags verify: a full re-verify
    assert evaluate(str(task["provision"]["force"]), tagged) is True


def test_the_linux_bootstrap_environment_names_the_host_and_keeps_caches_in_the_home(
    tmp_path: Path,
) -> None:
    out = export(tmp_path, book("linux-64"))
    extra = {"HTTPS_PROXY": "http://proxy:3128", "PROVISION_HOST_NAME": "override"}
    got = evaluate(
        "{{ provision_bootstrap_environment }}",
        role_vars(out, provision_home="/srv/p", provision_environment=extra, provision_run_id="r"),
    )
    assert got == {
        "XDG_CACHE_HOME": "/srv/p/cache",
        "PROVISION_HOST_NAME": "override",  # provision_environment wins
        "PROVISION_RUN_ID": "r",
        "HTTPS_PROXY": "http://proxy:3128",
    }
    default = evaluate("{{ provision_bootstrap_environment }}", role_vars(out, provision_run_id=""))
    assert default == {
        "XDG_CACHE_HOME": f"{LINUX_HOME}/cache",
        "PROVISION_HOST_NAME": "lab-01",
        "PROVISION_RUN_ID": "",
    }


def test_the_windows_bootstrap_command_line_runs_bootstrap_ps1_with_the_host_name(
    tmp_path: Path,
) -> None:
    out = export(tmp_path, book("win-64"))
    home = "D:\\Provision Data"
    argv = evaluate(
        "{{ provision_bootstrap_argv }}",
        role_vars(out, provision_home=home, inventory_hostname="lab-pc-02"),
    )
    bundle = f"{home}\\bundles\\0123456789abcdef\\lab-win-64"
    assert argv == [
        "powershell.exe",
        "-NoProfile",
        "-ExecutionPolicy",
        "Bypass",
        "-File",
        f"{bundle}\\bootstrap.ps1",
        "-ProvisionHome",
        home,
        "-Verify",
        "smoke",
        "-Report",
        f"{home}\\report.json",
        "-HostName",
        "lab-pc-02",
        "-Json",
    ]


def _task(out: Path, starts: str) -> dict[str, Any]:
    return next(t for t in tasks(out) if t["name"].startswith(starts))


@pytest.mark.parametrize(
    ("rc", "result", "check", "changed"),
    [
        (0, "changed", False, True),
        (0, "converged", False, False),
        (1, "not-ready", False, False),
        (0, "planned", True, True),
        (0, "planned", False, False),
    ],
)
def test_the_windows_bootstrap_reports_changed_only_when_apply_changed_something(
    tmp_path: Path, rc: int, result: str, check: bool, changed: bool
) -> None:
    out = export(tmp_path, book("win-64"))
    bootstrap = _task(out, "Bootstrap from the bundle")
    stdout = json.dumps({"result": result, "verify": {"passed": rc == 0, "summary": "s"}})
    variables = role_vars(
        out, provision_bootstrap={"rc": rc, "stdout": stdout}, ansible_check_mode=check
    )
    assert evaluate(f"{{{{ {bootstrap['changed_when']} }}}}", variables) is changed


@pytest.mark.parametrize(
    ("check", "force", "tags", "extra"),
    [
        (False, False, ["all"], []),
        (True, False, ["all"], ["-DryRun"]),
        (False, True, ["all"], ["-Force"]),
        (False, False, ["verify"], ["-Force"]),
    ],
)
def test_the_windows_bootstrap_honours_check_mode_and_a_forced_verify(
    tmp_path: Path, check: bool, force: bool, tags: list[str], extra: list[str]
) -> None:
    out = export(tmp_path, book("win-64"))
    bootstrap = _task(out, "Bootstrap from the bundle")
    variables = role_vars(
        out, ansible_check_mode=check, provision_force_verify=force, ansible_run_tags=tags
    )
    argv = evaluate(bootstrap["ansible.windows.win_command"]["argv"], variables)
    assert argv[15:] == extra


@pytest.mark.parametrize("platform", ["linux-64", "win-64"])
def test_a_hostile_profile_name_stays_inside_its_comments(tmp_path: Path, platform: str) -> None:
    """The profile's name reaches the exported files only in comments and task names:
    it can neither add YAML nor reach Ansible as a template."""
    evil = "lab\n- hosts: all\n  tasks: [{shell: 'id'}]\n{{ lookup('pipe', 'id') }}"
    out = export(tmp_path, book(platform, profile_name=evil, env_name="lab-env"))
    clean = export(tmp_path / "clean", book(platform))
    for rel in ("site.yml", "roles/provision/defaults/main.yml"):
        assert yaml.safe_load((out / rel).read_text()) == yaml.safe_load((clean / rel).read_text())

    def code(root: Path) -> dict[str, list[str]]:
        return {
            str(p.relative_to(root)): [
                line for line in p.read_text().splitlines() if not line.lstrip().startswith("#")
            ]
            for p in root.rglob("*.yml")
        }

    assert code(out) == code(clean)  # outside comments, nothing differs
    callback = (out / "callback_plugins" / "provision_fleet.py").read_text()
    values = {
        t.targets[0].id: ast.literal_eval(t.value)
        for t in ast.parse(callback).body
        if isinstance(t, ast.Assign)
        and isinstance(t.targets[0], ast.Name)
        and t.targets[0].id in ("PROFILE", "ENVIRONMENT")
    }
    assert values == {"PROFILE": evil, "ENVIRONMENT": "lab-env"}  # a string literal, no code


def test_the_example_inventory_matches_the_platform(tmp_path: Path) -> None:
    linux = (export(tmp_path / "l", book("linux-64")) / "inventory.example.ini").read_text()
    windows = (export(tmp_path / "w", book("win-64")) / "inventory.example.ini").read_text()
    assert f"provision_home={LINUX_HOME}" in linux and "ansible_connection" not in linux
    assert f"provision_home={WINDOWS_HOME}" in windows
    assert "ansible_connection=psrp" in windows


@pytest.mark.parametrize(
    ("check_mode", "unarchived", "stat", "looks", "unpacked"),
    [
        # A plain run: the unpack ran for real, so the bundle is there; no stat task.
        (False, {"changed": False}, None, False, True),
        # Check mode: the unpack only said what it would do; the stat decides.
        (True, {"changed": True}, {"exists": False}, True, False),
        (True, {"changed": False}, {"exists": True}, True, True),
        # --tags check or verify: no unpack ran in this run; the stat decides.
        (False, None, {"exists": True}, True, True),
        (False, None, {"exists": False}, True, False),
    ],
)
def test_the_bundle_is_looked_for_only_where_no_unpack_ran_for_real(
    tmp_path: Path,
    check_mode: bool,
    unarchived: dict[str, Any] | None,
    stat: dict[str, Any] | None,
    looks: bool,
    unpacked: bool,
) -> None:
    """Every task costs each host a round trip (about 1.3 s for three hosts here): the
    stat runs only where the play cannot know the bundle is unpacked."""
    out = export(tmp_path, book("linux-64"))
    variables = {**role_vars(out), "ansible_check_mode": check_mode}
    if unarchived is not None:
        variables["provision_unarchived"] = unarchived
    look = _task(out, "Look for the unpacked bundle")
    assert evaluate("{{ " + look["when"] + " }}", variables) is looks
    # What Ansible registers for the stat: its result, or a skipped task's.
    variables["provision_unpacked"] = {"stat": stat} if looks else {"skipped": True}
    assert evaluate("{{ provision_bundle_unpacked | bool }}", variables) is unpacked
    converge = _task(out, "Install the tool, converge")["block"][1]
    assert evaluate("{{ " + converge["when"] + " }}", variables) is unpacked
