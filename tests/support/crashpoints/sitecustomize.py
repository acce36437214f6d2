"""Pause points for the crash tests, kept out of the product.

A crash test starts ``python -m provisioner`` with this folder first on ``PYTHONPATH``
and ``PROVISION_TEST_PAUSE_AT=<point>``; Python imports this ``sitecustomize`` at
start-up, and it wraps the product's functions at the points the tests kill a run at,
as each module is first imported (the import order of the run is not changed). At the
point, the run says ``provision: paused at <point>`` on stderr and sleeps, and the test
SIGKILLs it there (``tests/apply/apply_e2e.py``, ``tests/apply/test_apply_crash.py``):

- ``environment:journal-written``: apply wrote the ``building`` state, nothing installed;
- ``environment:conda-linking``: one locked conda package linked, the rest not yet;
- ``environment:pip-installing``: one locked pip package installed, the rest not yet;
- ``environment:installed``: the backend's install returned, nothing recorded after it;
- ``verify:start``: built and recorded, the verification not started;
- ``verify:passed``: the verification passed, not yet recorded.

Without the variable (every other run) this module does nothing.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

POINT = os.environ.get("PROVISION_TEST_PAUSE_AT", "")


def pause(point: str) -> None:
    """Announce the point and wait there for the test's SIGKILL."""
    print(f"provision: paused at {point}", file=sys.stderr, flush=True)
    time.sleep(3600)


def _steps(module: ModuleType) -> None:
    write_state: Callable[[Any], None] = module.write_state

    @functools.wraps(write_state)
    def written(state: Any) -> None:
        write_state(state)
        if POINT == "environment:journal-written" and state.phase == "building":
            pause(POINT)

    setattr(module, "write_state", written)  # noqa: B010


def _backend(module: ModuleType, name: str) -> None:
    cls = getattr(module, name)
    install: Callable[..., None] = cls.install

    @functools.wraps(install)
    def installed(self: Any, *args: Any, **kwargs: Any) -> None:
        install(self, *args, **kwargs)
        if POINT == "environment:installed":
            pause(POINT)

    cls.install = installed


def _verify(module: ModuleType) -> None:
    verify: Callable[..., Any] = module.verify_environment

    @functools.wraps(verify)
    def verified(*args: Any, **kwargs: Any) -> Any:
        if POINT == "verify:start":
            pause(POINT)
        result = verify(*args, **kwargs)
        if POINT == "verify:passed" and result.passed:
            pause(POINT)
        return result

    setattr(module, "verify_environment", verified)  # noqa: B010


def _rattler(module: ModuleType) -> None:
    install: Callable[..., Any] = module.install

    @functools.wraps(install)
    async def linked(records: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        if POINT == "environment:conda-linking" and len(records) > 1:
            await install(records[:1], *args, **kwargs)  # one package in, the rest missing
            pause(POINT)
        return await install(records, *args, **kwargs)

    setattr(module, "install", linked)  # noqa: B010


def _pip_part(module: ModuleType) -> None:
    run: Callable[[list[str], dict[str, str]], None] = module._run_installer

    @functools.wraps(run)
    def installing(argv: list[str], env: dict[str, str]) -> None:
        if POINT == "environment:pip-installing" and argv[1:3] == ["pip", "install"]:
            requirements = Path(argv[argv.index("-r") + 1])
            lines = requirements.read_text(encoding="utf-8").splitlines()
            if len(lines) > 1:  # one locked package in, the rest missing
                first = requirements.with_name("first.txt")
                first.write_text(lines[0] + "\n", encoding="utf-8")
                head = argv[: argv.index("-r")]
                run([*head, "-r", str(first)], env)
                pause(POINT)
        run(argv, env)

    setattr(module, "_run_installer", installing)  # noqa: B010


PATCHES: dict[str, Callable[[ModuleType], None]] = {
    "provisioner.apply.steps": _steps,
    "provisioner.verify.run": _verify,
    "provisioner.env.conda": lambda m: _backend(m, "CondaBackend"),
    "provisioner.env.venv": lambda m: _backend(m, "VenvBackend"),
    "provisioner.env.pip_part": _pip_part,
    "rattler": _rattler,
}


class _Patched(importlib.abc.Loader):
    """The module's own loader, then its patch."""

    def __init__(self, loader: importlib.abc.Loader, patch: Callable[[ModuleType], None]):
        self.loader = loader
        self.patch = patch

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        self.patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the patched modules with the finders after it, and wraps their loader."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        patch = PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Patched(spec.loader, patch)
                return spec
        return None


if POINT:
    sys.meta_path.insert(0, _Finder())
