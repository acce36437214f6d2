"""The single host probe: files under a root directory and commands found on PATH.

Nothing else in provisioner reads the host. Every answer the probe gives is also
recorded, so a whole host can be saved (``provision facts --save host.json``) and
replayed somewhere else (``--facts host.json``) through the very same code path.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from provisioner import process
from provisioner.errors import ProvisionError

SNAPSHOT_FORMAT = 1
COMMAND_TIMEOUT_S = 10.0  # per command; PROVISION_COMMAND_TIMEOUT overrides it
MAX_FILE_BYTES = 64 << 20  # dpkg status is a few MB; never read a runaway file whole


def command_timeout() -> float:
    """Seconds a probed command may run: $PROVISION_COMMAND_TIMEOUT, else 10."""
    try:
        return float(os.environ.get("PROVISION_COMMAND_TIMEOUT", COMMAND_TIMEOUT_S))
    except ValueError:
        return COMMAND_TIMEOUT_S


@dataclass(frozen=True)
class CommandOutput:
    """One command's raw result: stdout/stderr bytes, exit status, or that it timed out."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "argv": list(self.argv),
            "returncode": self.returncode,
            "stdout_b64": base64.b64encode(self.stdout).decode("ascii"),
            "stderr_b64": base64.b64encode(self.stderr).decode("ascii"),
            "timed_out": self.timed_out,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CommandOutput:
        return cls(
            argv=tuple(data["argv"]),
            returncode=int(data["returncode"]),
            stdout=base64.b64decode(data["stdout_b64"]),
            stderr=base64.b64decode(data["stderr_b64"]),
            timed_out=bool(data.get("timed_out", False)),
        )


class Probe:
    """Reads files under ``root`` and runs commands found on ``path``; records every answer.

    ``root`` maps host paths: ``/proc/version`` is read as ``<root>/proc/version`` and
    ``/dev/dxg`` is "present" when ``<root>/dev/dxg`` exists (a device node, or a plain
    marker file in a replayed root).
    """

    def __init__(
        self,
        root: Path = Path("/"),
        *,
        path: str | None = None,
        env: dict[str, str] | None = None,
        platform: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.root = Path(root)
        self.path = path if path is not None else os.environ.get("PATH", os.defpath)
        source = env if env is not None else dict(os.environ)
        # Only these variables are facts; the rest of the environment is not recorded.
        self.env = {k: source[k] for k in ("PYENV_ROOT", "WSL_UTF8") if k in source}
        self.platform = platform or sys.platform
        self.timeout = timeout if timeout is not None else command_timeout()
        self._files: dict[str, str | None] = {}
        self._dirs: dict[str, list[str] | None] = {}
        self._exists: dict[str, bool] = {}
        self._which: dict[str, str | None] = {}
        self._pathdirs: dict[str, list[str] | None] = {}
        self._commands: dict[str, CommandOutput | None] = {}
        self._replay = False

    # -- files ---------------------------------------------------------------------------
    def _host(self, rel: str) -> Path:
        return self.root / PurePosixPath(rel).relative_to("/")

    def read(self, rel: str) -> str | None:
        """The text of host file ``rel`` (an absolute host path), or None if unreadable."""
        if rel not in self._files and not self._replay:
            try:
                with self._host(rel).open("rb") as f:
                    self._files[rel] = f.read(MAX_FILE_BYTES).decode("utf-8", "replace")
            except OSError:
                self._files[rel] = None
        return self._files.get(rel)

    def exists(self, rel: str) -> bool:
        if rel not in self._exists and not self._replay:
            self._exists[rel] = os.path.lexists(self._host(rel))
        return self._exists.get(rel, False)

    def listdir(self, rel: str) -> list[str] | None:
        """Sorted entry names of host directory ``rel``, or None if it is not a directory."""
        if rel not in self._dirs and not self._replay:
            try:
                self._dirs[rel] = sorted(os.listdir(self._host(rel)))
            except OSError:
                self._dirs[rel] = None
        return self._dirs.get(rel)

    # -- commands ------------------------------------------------------------------------
    def host_listdir(self, folder: str) -> list[str] | None:
        """Entry names of a PATH folder (a real host path, not under the root)."""
        if folder not in self._pathdirs and not self._replay:
            try:
                self._pathdirs[folder] = sorted(os.listdir(folder))
            except OSError:
                self._pathdirs[folder] = None
        return self._pathdirs.get(folder)

    def which(self, name: str) -> str | None:
        """Where ``name`` is first found on PATH, or None."""
        if name not in self._which and not self._replay:
            self._which[name] = shutil.which(name, path=self.path)
        return self._which.get(name)

    def command(self, *argv: str, env: dict[str, str] | None = None) -> CommandOutput | None:
        """Run ``argv`` (its first word looked up on PATH) with the probe's timeout.

        None means the command is not on PATH. A hung command comes back with
        ``timed_out=True`` rather than hanging the diagnosis.
        """
        key = " ".join(argv)
        if key not in self._commands and not self._replay:
            exe = self.which(argv[0])
            if exe is None:
                self._commands[key] = None
            else:
                run_env = {**os.environ, "PATH": self.path, **(env or {})}
                try:
                    done = process.run(
                        [exe, *argv[1:]], timeout=self.timeout, env=run_env, check=False
                    )
                except (FileNotFoundError, PermissionError, OSError):
                    self._commands[key] = None
                else:
                    self._commands[key] = CommandOutput(
                        tuple(argv), done.returncode, done.stdout, done.stderr, done.timed_out
                    )
        return self._commands.get(key)

    # -- record / replay -----------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Every raw answer given so far, as JSON-ready data."""
        return {
            "format": SNAPSHOT_FORMAT,
            "platform": self.platform,
            "env": self.env,
            "files": self._files,
            "dirs": self._dirs,
            "exists": self._exists,
            "which": self._which,
            "path": self.path,
            "pathdirs": self._pathdirs,
            "commands": {k: (v.as_json() if v else None) for k, v in self._commands.items()},
        }

    def save(self, target: Path) -> None:
        target.write_text(json.dumps(self.snapshot(), indent=1, sort_keys=True) + "\n", "utf-8")

    @classmethod
    def replay(cls, source: Path) -> Probe:
        """A probe that answers only from a saved snapshot; anything not in it is absent."""
        try:
            data = json.loads(source.read_text("utf-8"))
        except OSError as e:
            raise ProvisionError(
                f"{source}: cannot read facts file: {e.strerror}",
                hint="pass a file written by `provision facts --save FILE`",
            ) from e
        except json.JSONDecodeError as e:
            raise ProvisionError(
                f"{source}:{e.lineno}:{e.colno}: not a facts file: {e.msg}",
                hint="pass a file written by `provision facts --save FILE`",
            ) from e
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise ProvisionError(
                f"{source}: not a facts snapshot (format {SNAPSHOT_FORMAT} expected)",
                hint="pass a file written by `provision facts --save FILE`",
            )
        probe = cls(
            Path("/"),
            path=str(data.get("path", "")),
            env=data.get("env", {}),
            platform=data["platform"],
        )
        probe._replay = True
        probe._files = dict(data.get("files", {}))
        probe._dirs = dict(data.get("dirs", {}))
        probe._exists = dict(data.get("exists", {}))
        probe._which = dict(data.get("which", {}))
        probe._pathdirs = dict(data.get("pathdirs", {}))
        probe._commands = {
            k: (CommandOutput.from_json(v) if v else None)
            for k, v in data.get("commands", {}).items()
        }
        return probe
