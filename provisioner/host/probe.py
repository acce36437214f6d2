"""The single host probe: files under a root directory and commands found on PATH.

Nothing else in provisioner reads the host. Every answer the probe gives is also
recorded, so a whole host can be saved (``provision facts --save host.json``) and
replayed somewhere else (``--facts host.json``) through the very same code path.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from provisioner import process
from provisioner.errors import Position, ProvisionError
from provisioner.host.program_cache import ProgramCache, program_key
from provisioner.inputs import FACTS, Kind, Unreadable, open_regular, read_input
from provisioner.process import Completed

SNAPSHOT_FORMAT = 1
COMMAND_TIMEOUT_S = 10.0  # per command; PROVISION_COMMAND_TIMEOUT overrides it
MAX_FILE_BYTES = 64 << 20  # dpkg status is a few MB; never read a runaway file whole
# The only environment variables that are host facts (WSL_DISTRO_NAME: WSL sets it).
# LOCALAPPDATA and PROGRAMFILES: where a Windows host keeps the python.org installs (and
# the Store's python.exe alias); upper case, as os.environ names them on Windows.
RECORDED_ENV = (
    "PYENV_ROOT",
    "WSL_UTF8",
    "WSL_DISTRO_NAME",
    "LOCALAPPDATA",
    "PROGRAMFILES",
)


def command_timeout() -> float:
    """Seconds a probed command may run: $PROVISION_COMMAND_TIMEOUT, else 10.

    A value that is not a positive number is an error, not a silent 10: a typo would
    otherwise change how long a hung command may stall every check."""
    text = os.environ.get("PROVISION_COMMAND_TIMEOUT")
    if text is None or text.strip() == "":
        return COMMAND_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise ProvisionError(
            f"PROVISION_COMMAND_TIMEOUT={text!r}: not a positive number of seconds",
            hint="set it to seconds per probed command, e.g. PROVISION_COMMAND_TIMEOUT=10, "
            "or unset it",
        )
    return seconds


def command_json(done: Completed) -> dict[str, Any]:
    """A command's result as snapshot data (bytes as base64)."""
    return {
        "argv": list(done.argv),
        "returncode": done.returncode,
        "stdout_b64": base64.b64encode(done.stdout).decode("ascii"),
        "stderr_b64": base64.b64encode(done.stderr).decode("ascii"),
        "timed_out": done.timed_out,
    }


def command_from_json(data: dict[str, Any]) -> Completed:
    return Completed(
        argv=tuple(data["argv"]),
        returncode=int(data["returncode"]),
        stdout=base64.b64decode(data["stdout_b64"]),
        stderr=base64.b64decode(data["stderr_b64"]),
        duration_s=0.0,
        timed_out=bool(data.get("timed_out", False)),
    )


HOST_FILE = Kind("host file", MAX_FILE_BYTES, "", "a regular file")


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
        self.env = {k: source[k] for k in RECORDED_ENV if k in source}
        self.platform = platform or sys.platform
        self.timeout = timeout if timeout is not None else command_timeout()
        self._files: dict[str, str | None] = {}
        self._dirs: dict[str, list[str] | None] = {}
        self._exists: dict[str, bool] = {}
        self._which: dict[str, str | None] = {}
        self._pathdirs: dict[str, list[str] | None] = {}
        self._commands: dict[str, Completed | None] = {}
        self._replay = False
        self._programs: ProgramCache | None = None  # loaded on the first stable command

    # -- files ---------------------------------------------------------------------------
    def _host(self, rel: str) -> Path:
        return self.root / PurePosixPath(rel).relative_to("/")

    def read(self, rel: str, keep: Callable[[str], str] | None = None) -> str | None:
        """The text of host file ``rel`` (an absolute host path), or None if unreadable.

        ``keep`` reduces the text to what the checks read (e.g. the NVIDIA stanzas of a
        700 KB dpkg status); only the reduced text is kept and saved in a snapshot."""
        if rel not in self._files and not self._replay:
            try:
                # A regular file only (``/proc`` and ``/sys`` files are): a FIFO or a
                # device under --root would block or never end.
                fd = open_regular(self._host(rel), HOST_FILE, sized=False)
                with os.fdopen(fd, "rb") as f:
                    text = f.read(MAX_FILE_BYTES).decode("utf-8", "replace")
            except (OSError, Unreadable):
                self._files[rel] = None
            else:
                self._files[rel] = keep(text) if keep is not None else text
        return self._files.get(rel)

    def exists(self, rel: str) -> bool:
        if rel not in self._exists and not self._replay:
            self._exists[rel] = os.path.lexists(self._host(rel))
        return self._exists.get(rel, False)

    def listdir(self, rel: str, keep: Callable[[str], bool] | None = None) -> list[str] | None:
        """Sorted entry names of host directory ``rel``, or None if it is not a directory.

        ``keep`` selects the names the checks read; only those are recorded."""
        if rel not in self._dirs and not self._replay:
            try:
                names = sorted(os.listdir(self._host(rel)))
            except OSError:
                self._dirs[rel] = None
            else:
                self._dirs[rel] = [n for n in names if keep is None or keep(n)]
        return self._dirs.get(rel)

    def executable(self, rel: str) -> bool:
        """Whether host path ``rel`` (under the root) is an executable file."""
        key = f"x:{rel}"
        if key not in self._exists and not self._replay:
            host = self._host(rel)
            self._exists[key] = host.is_file() and os.access(host, os.X_OK)
        return self._exists.get(key, False)

    # -- commands ------------------------------------------------------------------------
    def host_listdir(
        self, folder: str, keep: Callable[[str], bool] | None = None
    ) -> list[str] | None:
        """Sorted entry names of a PATH folder (a real host path, not under the root).

        ``keep`` selects the names the caller reads (``python.exe`` of a Windows PATH
        folder, not System32's thousands); only those are recorded."""
        if folder not in self._pathdirs and not self._replay:
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                self._pathdirs[folder] = None
            else:
                self._pathdirs[folder] = [n for n in names if keep is None or keep(n)]
        return self._pathdirs.get(folder)

    def which(self, name: str) -> str | None:
        """Where ``name`` is first found on PATH, or None."""
        if name not in self._which and not self._replay:
            self._which[name] = shutil.which(name, path=self.path)
        return self._which.get(name)

    def command(
        self,
        *argv: str,
        env: dict[str, str] | None = None,
        keep: Callable[[bytes], bytes] | None = None,
        stable: bool = False,
    ) -> Completed | None:
        """Run ``argv`` (its first word looked up on PATH) with the probe's timeout.

        None means the command is not on PATH. A hung command comes back with
        ``timed_out=True`` rather than hanging the diagnosis. ``keep`` reduces stdout to
        what the checks read before it is recorded. ``stable``: the answer depends only
        on the program file (``python -V``), so an answer kept from an earlier run for
        that very file is used (:mod:`provisioner.host.program_cache`).
        """
        key = " ".join(argv)
        if key not in self._commands and not self._replay:
            exe = self.which(argv[0])
            program = self._program_key(exe, argv) if stable and keep is None and not env else None
            done = self._program_cache().get(program, argv) if program is not None else None
            if done is None:
                done = self._run(exe, argv, env, keep)
                if program is not None and done is not None:
                    self._program_cache().put(program, done)
                    self._program_cache().save()
            self._commands[key] = done
        return self._commands.get(key)

    def _program_cache(self) -> ProgramCache:
        if self._programs is None:
            self._programs = ProgramCache()
        return self._programs

    def _program_key(self, exe: str | None, argv: tuple[str, ...]) -> str | None:
        """The program cache's key for ``argv`` run as ``exe``, taken before it runs (a
        file replaced while it runs is never remembered under the new file's stat);
        None for a replayed or re-rooted host, or a program it does not remember."""
        if exe is None or self.root != Path("/"):
            return None
        return program_key(exe, argv)

    def prefetch(self, argvs: list[tuple[str, ...]], *, stable: bool = False) -> None:
        """Run the commands not asked yet side by side (each interpreter's ``-V`` is
        mostly its start-up), recording them in the given order so a snapshot does not
        depend on which finished first. :meth:`command` then answers from the record.
        ``stable`` as for :meth:`command`: kept answers are used, new ones kept."""
        todo = list(dict.fromkeys(a for a in argvs if " ".join(a) not in self._commands))
        if self._replay:
            return
        programs: dict[tuple[str, ...], str] = {}
        if stable:
            for argv in todo:
                program = self._program_key(self.which(argv[0]), argv)
                known = self._program_cache().get(program, argv) if program is not None else None
                if known is not None:
                    self._commands[" ".join(argv)] = known
                elif program is not None:
                    programs[argv] = program
            todo = [a for a in todo if " ".join(a) not in self._commands]
        if len(todo) < 2:
            return
        from concurrent.futures import ThreadPoolExecutor
        from dataclasses import replace

        # One run per program file and name: /bin/python3 and /usr/bin/python3 are one
        # file where /bin links to /usr/bin (merged /usr), so they answer the same; each
        # argv is still recorded with its answer. A file under two names (python3 ->
        # python3.11) runs under each name, as a program may act on the name it has.
        same: dict[tuple[str, ...], tuple[str, ...]] = {}
        for argv in todo:
            where = self.which(argv[0])
            if where is not None:
                real = os.path.realpath(where)
                same[argv] = (real, os.path.basename(where), *argv[1:])
        runs = list(dict.fromkeys(same.get(a, a) for a in todo))
        first = {key: next(a for a in todo if same.get(a, a) == key) for key in runs}
        with ThreadPoolExecutor(max_workers=min(8, len(runs))) as pool:
            done = dict(
                zip(
                    runs,
                    pool.map(
                        lambda k: self._run(self.which(first[k][0]), first[k], None, None), runs
                    ),
                    strict=True,
                )
            )
        for argv in todo:
            result = done[same.get(argv, argv)]
            answer = replace(result, argv=tuple(argv)) if result is not None else None
            self._commands.setdefault(" ".join(argv), answer)
            if argv in programs and answer is not None:
                self._program_cache().put(programs[argv], answer)
        if programs:
            self._program_cache().save()

    def host_command(
        self, *argv: str, keep: Callable[[bytes], bytes] | None = None
    ) -> Completed | None:
        """Run the executable at host path ``argv[0]`` (under the root, like files), so a
        replayed root's well-known executables (``/mnt/c/Windows/System32/cmd.exe``,
        ``/usr/lib/wsl/lib/nvidia-smi``) run too. None when it is not executable there."""
        key = "@" + " ".join(argv)
        if key not in self._commands and not self._replay:
            exe = str(self._host(argv[0])) if self.executable(argv[0]) else None
            self._commands[key] = self._run(exe, argv, None, keep)
        return self._commands.get(key)

    def _run(
        self,
        exe: str | None,
        argv: tuple[str, ...],
        env: dict[str, str] | None,
        keep: Callable[[bytes], bytes] | None,
    ) -> Completed | None:
        if exe is None:
            return None
        run_env = {**os.environ, "PATH": self.path, **(env or {})}
        try:
            done = process.run([exe, *argv[1:]], timeout=self.timeout, env=run_env, check=False)
        except (FileNotFoundError, PermissionError, OSError):
            return None
        stdout = keep(done.stdout) if keep is not None else done.stdout
        return Completed(
            tuple(argv), done.returncode, stdout, done.stderr, done.duration_s, done.timed_out
        )

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
            "commands": {k: (command_json(v) if v else None) for k, v in self._commands.items()},
        }

    def save(self, target: Path) -> None:
        target.write_text(self.snapshot_text(), "utf-8")

    def snapshot_text(self) -> str:
        """:meth:`snapshot` as the JSON text ``provision facts --save`` writes."""
        return json.dumps(self.snapshot(), indent=1, sort_keys=True) + "\n"

    @classmethod
    def replay(cls, source: Path) -> Probe:
        """A probe that answers only from a saved snapshot; anything not in it is absent."""
        # A regular file of at most FACTS.cap bytes: a FIFO or /dev/zero is exit 2.
        raw = read_input(source, FACTS)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, RecursionError) as e:
            why = "not UTF-8 text" if isinstance(e, UnicodeDecodeError) else "nested too deep"
            raise ProvisionError(
                f"{source}: not a facts file: {why}",
                hint="pass a file written by `provision facts --save FILE`",
            ) from e
        except json.JSONDecodeError as e:
            raise ProvisionError(  # positioned: FILE:LINE:COL starts the line, as a compiler's
                f"not a facts file: {e.msg}",
                position=Position(str(source), e.lineno, e.colno),
                hint="pass a file written by `provision facts --save FILE`",
            ) from e
        problem = snapshot_problem(data)
        if problem is not None:
            raise ProvisionError(
                f"{source}: not a facts snapshot: {problem}",
                hint="pass a file written by `provision facts --save FILE`",
            )
        probe = cls(
            Path("/"),
            path=data["path"],
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
            k: (command_from_json(v) if v else None) for k, v in data.get("commands", {}).items()
        }
        return probe


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_text_or_null(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_names_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(x, str) for x in value))


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool)


def _is_command_or_null(value: Any) -> bool:
    return value is None or _command_problem(value) is None


# What `Probe.save` writes: each table, and what each of its values must be.
_TABLES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "env": (_is_text, "text"),
    "files": (_is_text_or_null, "text or null"),
    "dirs": (_is_names_or_null, "a list of names or null"),
    "exists": (_is_flag, "true or false"),
    "which": (_is_text_or_null, "a path or null"),
    "pathdirs": (_is_names_or_null, "a list of names or null"),
    "commands": (_is_command_or_null, "a command result or null"),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _command_problem(data: Any) -> str | None:
    """Why ``data`` is not a saved command result, or None."""
    if not isinstance(data, dict):
        return "not an object"
    argv = data.get("argv")
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        return "'argv' must be a non-empty list of text"
    if not _is_int(data.get("returncode")):
        return "'returncode' must be an integer"
    if not isinstance(data.get("timed_out", False), bool):
        return "'timed_out' must be true or false"
    for key in ("stdout_b64", "stderr_b64"):
        value = data.get(key)
        if not isinstance(value, str):
            return f"'{key}' must be base64 text"
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return f"'{key}' is not valid base64"
    return None


def snapshot_problem(data: Any) -> str | None:
    """Why ``data`` (parsed JSON) is not a snapshot this version can replay, or None.

    Every key `save` writes must be there with the right type, so a hand-edited or
    truncated file is refused up front instead of crashing a parser later."""
    if not isinstance(data, dict):
        return "the top level is not an object"
    fmt = data.get("format")
    if not _is_int(fmt) or fmt != SNAPSHOT_FORMAT:
        return f"'format' is {json.dumps(fmt)}, not {SNAPSHOT_FORMAT}"
    for key in ("platform", "path"):
        if key not in data:
            return f"'{key}' is missing"
        if not isinstance(data[key], str):
            return f"'{key}' must be text"
    if not data["platform"]:
        return "'platform' is empty"
    for key, (valid, what) in _TABLES.items():
        if key not in data:
            return f"'{key}' is missing"
        table = data[key]
        if not isinstance(table, dict):
            return f"'{key}' must be an object"
        for name, value in table.items():
            if not valid(value):
                detail = _command_problem(value) if key == "commands" else None
                return f"'{key}' entry {json.dumps(name)} must be {what}" + (
                    f" ({detail})" if detail else ""
                )
    return None
