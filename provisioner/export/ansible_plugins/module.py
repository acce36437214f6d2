#!/usr/bin/python
"""Ansible module ``provision``: converge this host from its unpacked bundle with
provision's engine. Run with the Python of the bundle's tool venv (``bootstrap.sh
--tool-only`` prints it), which imports ``provisioner``."""

from __future__ import annotations

DOCUMENTATION = r"""
module: provision
short_description: Converge this host to the bundle's verified environment
description:
  - Runs provision's engine (provisioner.bundle.host) on the unpacked offline bundle.
  - Check mode is C(provision plan) (nothing changes); --diff shows the package diff.
  - Sets the fact provision_facts (the host checks' verdict and the run's result).
options:
  bundle: {description: The unpacked bundle's top folder., type: path, required: true}
  home: {description: PROVISION_HOME on the host., type: path, required: true}
  state:
    description: apply (converge), check (host checks only), verify (hash every file, smoke test again).
    type: str
    choices: [apply, check, verify]
    default: apply
  verify: {description: smoke or import., type: str, choices: [smoke, import], default: smoke}
  force: {description: Hash every installed file and verify again (apply --force)., type: bool, default: false}
  skip_checks: {description: Skip the host checks., type: bool, default: false}
  host_name: {description: The host's name in its report., type: str}
  run_id: {description: The fleet run's id, recorded in the report., type: str, default: ""}
  report: {description: Also write the report here., type: path}
  environment: {description: Extra environment variables., type: dict, default: {}}
  keep_bundles: {description: Previous bundles kept for a rollback., type: int, default: 1}
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            bundle=dict(type="path", required=True),
            home=dict(type="path", required=True),
            state=dict(type="str", choices=["apply", "check", "verify"], default="apply"),
            verify=dict(type="str", choices=["smoke", "import"], default="smoke"),
            force=dict(type="bool", default=False),
            skip_checks=dict(type="bool", default=False),
            host_name=dict(type="str"),
            run_id=dict(type="str", default=""),
            report=dict(type="path"),
            environment=dict(type="dict", default={}),
            keep_bundles=dict(type="int", default=1),
        ),
        supports_check_mode=True,
    )
    try:
        from provisioner.bundle.host import HostRun, Mode, run_on_host
    except ImportError as e:
        module.fail_json(
            msg=f"cannot import provisioner ({e}): run this module with the bundle's tool "
            "Python (bootstrap.sh --tool-only prints it)"
        )
    p = module.params
    state = p["state"]
    modes: dict[str, Mode] = {"apply": "apply", "check": "check", "verify": "verify"}
    mode: Mode = "check" if state == "check" else ("plan" if module.check_mode else modes[state])
    run = HostRun(
        bundle=Path(p["bundle"]),
        home=Path(p["home"]),
        mode=mode,
        verify=p["verify"],
        force=p["force"],
        skip_checks=p["skip_checks"],
        host_name=p["host_name"],
        run_id=p["run_id"] or "",
        report=Path(p["report"]) if p["report"] and not module.check_mode else None,
        environment={str(k): str(v) for k, v in (p["environment"] or {}).items()},
        keep_bundles=p["keep_bundles"],
    )
    result = run_on_host(run)
    out = result.module_result(diff=module._diff)
    if result.failed:
        module.fail_json(**out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
