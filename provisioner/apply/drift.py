"""Drift: are the files of a verified environment still the files that were verified?

When apply verifies an environment it records, per installed file, the hash its
package's record gives (``conda-meta`` ``paths_data``, a wheel's ``RECORD``: the
expectations of :mod:`provisioner.env.integrity`) and the file's stat at that moment
(size, mtime, ctime, inode) in ``state/<env>.files`` and ``<env>.hashes``. Every later plain apply
stats each recorded file: one whose stat is unchanged is trusted, any other is hashed
against the recorded hash (a ``touch`` is not drift; an edit, a replacement or a
deletion is). The hashes come from the ledger, not from the prefix, so a record edited
along with its file is still found. The ``RECORD`` and ``conda-meta`` files themselves
are recorded with the hash they had when verified.

Found drift is named per package and repaired by apply (the package reinstalled past
any cache entry, then the smoke test). ``apply --force`` and ``provision verify``
re-hash every file instead (:mod:`provisioner.env.integrity`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner.atomic import write_atomic
from provisioner.errors import ProvisionError
from provisioner.paths import state_dir

if TYPE_CHECKING:
    from provisioner.env.integrity import AlteredFile, Expected
    from provisioner.process import Running

LEDGER_VERSION = 3
Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


@dataclass(frozen=True)
class Row:
    """One recorded file: prefix-relative path, owner, expected digest and stat."""

    path: str
    package: str  # manager:name
    recorded: str  # the path as its record names it (for messages)
    digest: str  # hex sha256, or "b64:" + urlsafe base64 (a RECORD's form)
    stat: Stat


@dataclass(frozen=True, eq=False)
class Ledger:
    """The files recorded for one environment: their paths and stats (what every check
    reads), and their owners and hashes (read only when a stat changed).

    On disk (``state/<env>.files``) a header line (version, prefix, lock, the hashes'
    sha256, the number of files) and a body line (paths and stats): a check that the
    stat scan answered reads the header only (the scan parsed the body, these very
    bytes); the body is parsed on first use."""

    env: str
    prefix: str
    lock_sha256: str
    count: int  # recorded files
    hashes_sha256: str = ""
    file_sha256: str = ""  # of the ledger file's bytes, as read (a scan's answer must match)
    table: tuple[tuple[str, ...], tuple[int, ...]] | None = None  # paths, stats
    body: bytes = b""  # the body line as read, when ``table`` is not given

    @cached_property
    def _table(self) -> tuple[tuple[str, ...], tuple[int, ...]]:
        if self.table is not None:
            return self.table
        table = _parse_body(self.body, self.count)
        if table is None:  # unreachable: read_ledger or the scan parsed these very bytes
            raise ValueError(f"the ledger body of {self.env} did not parse again")
        return table

    @property
    def paths(self) -> tuple[str, ...]:
        return self._table[0]

    @property
    def stats(self) -> tuple[int, ...]:
        """size, mtime_ns, ctime_ns, inode per path."""
        return self._table[1]

    def stat_of(self, n: int) -> Stat:
        size, mtime, ctime, inode = self.stats[4 * n : 4 * n + 4]
        return (size, mtime, ctime, inode)

    @cached_property
    def rows(self) -> tuple[Row, ...]:
        """Every recorded file with its owner and hash (``()`` when the hashes are gone
        or are not the ones this ledger was written with)."""
        try:
            raw = hashes_path(self.env).read_bytes()
            if hashlib.sha256(raw).hexdigest() != self.hashes_sha256:
                return ()
            data = json.loads(raw)
            packages, meta = data["packages"], data["meta"]
            return tuple(
                Row(path, packages[k], r or path, d, self.stat_of(n))
                for n, (path, (k, r, d)) in enumerate(zip(self.paths, meta, strict=True))
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError):
            return ()


def _parse_body(body: bytes, count: int) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
    """The paths and stats of a ledger's body line; ``None`` when it is not one."""
    try:
        data = json.loads(body)
        paths, stats = tuple(data["paths"]), tuple(data["stats"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if len(paths) != count or len(stats) != 4 * count:
        return None
    return paths, stats


@dataclass(frozen=True)
class Drift:
    """What a drift check found: the altered files, how many files were checked, how
    many had to be hashed, and the rows whose stat changed with the bytes intact (to be
    recorded again)."""

    altered: tuple[AlteredFile, ...] = ()
    checked: int = 0
    hashed: int = 0
    refreshed: tuple[Row, ...] = field(default=())

    @property
    def packages(self) -> dict[str, list[AlteredFile]]:
        """``manager:name`` -> its altered files, in order."""
        out: dict[str, list[AlteredFile]] = {}
        for a in self.altered:
            out.setdefault(f"{a.manager}:{a.package}", []).append(a)
        return out

    def repairs(self) -> list[dict[str, object]]:
        """Per package: what a report says was (or will be) repaired."""
        return [
            {
                "manager": key.split(":", 1)[0],
                "package": key.split(":", 1)[1],
                "files": [{"path": a.path, "problem": a.problem} for a in items],
            }
            for key, items in self.packages.items()
        ]

    def summary(self) -> str:
        """``1 file of torch (torch/nn/functional.py missing)``; several packages joined."""
        from provisioner.report.model import Repair

        return "; ".join(Repair.model_validate(r).text() for r in self.repairs())


def ledger_path(env: str) -> Path:
    """``state/<env>.files`` (not ``*.json``: those are the environments' states)."""
    return state_dir() / f"{env}.files"


def hashes_path(env: str) -> Path:
    return state_dir() / f"{env}.hashes"


def _stat(path: str) -> Stat | None:
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def read_ledger(env: str, scan: Scan | None = None) -> Ledger | None:
    """The recorded files of ``env``; ``None`` when there is none or it is unreadable.
    When ``scan`` read these very bytes (it parsed them), the body is left for first use."""
    try:
        raw = ledger_path(env).read_bytes()
        head, sep, body = raw.partition(b"\n")
        data = json.loads(head)
        if not sep or not isinstance(data, dict) or data.get("version") != LEDGER_VERSION:
            return None
        count = data["count"]
        if not isinstance(count, int) or count < 0:
            return None
        file_sha256 = hashlib.sha256(raw).hexdigest()
        table = None
        if scan is None or scan.read_sha256 != file_sha256:
            table = _parse_body(body, count)
            if table is None:
                return None
        return Ledger(
            env,
            str(data["prefix"]),
            str(data["lock_sha256"]),
            count,
            str(data["hashes"]),
            file_sha256,
            table,
            body if table is None else b"",
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None  # unreadable: the next check hashes every file again


def write_ledger(env: str, prefix: str, lock_sha256: str, rows: Sequence[Row]) -> Ledger:
    """Write the hashes, then the paths and stats naming them by their sha256 (a run
    stopped in between leaves a ledger whose hashes do not match: it is not used)."""
    packages = sorted({r.package for r in rows})
    index = {k: i for i, k in enumerate(packages)}
    meta = [[index[r.package], "" if r.recorded == r.path else r.recorded, r.digest] for r in rows]
    raw = json.dumps({"packages": packages, "meta": meta}, separators=(",", ":")).encode()
    write_atomic(hashes_path(env), raw)
    paths = tuple(r.path for r in rows)
    stats = tuple(n for r in rows for n in r.stat)
    hashes = hashlib.sha256(raw).hexdigest()
    head = {
        "version": LEDGER_VERSION,
        "prefix": prefix,
        "lock_sha256": lock_sha256,
        "hashes": hashes,
        "count": len(paths),
    }
    text = (
        json.dumps(head, separators=(",", ":"))
        + "\n"
        + json.dumps({"paths": paths, "stats": stats}, separators=(",", ":"))
    )
    write_atomic(ledger_path(env), text)
    return Ledger(env, prefix, lock_sha256, len(paths), hashes, table=(paths, stats))


def _expected(row: Row, prefix: Path) -> Expected:
    from provisioner.env.integrity import Expected

    manager, name = row.package.split(":", 1)
    b64 = row.digest.startswith("b64:")
    digest = row.digest[4:] if b64 else row.digest
    return Expected(manager, name, row.recorded, prefix / row.path, digest, row.stat[0], b64)


def check(ledger: Ledger, prefix: Path, scan: Scan | None = None) -> Drift:
    """Stat every recorded file (or take the stats ``scan`` took of this very ledger's
    files); hash those whose stat changed. Never writes."""
    found = scan.suspects(ledger) if scan is not None else None
    suspects = found if found is not None else stat_suspects(ledger, prefix)
    if not suspects:
        return Drift(checked=ledger.count)
    from provisioner.env.integrity import AlteredFile, altered_files

    rows = ledger.rows
    if not rows:  # the hashes are gone: nothing to compare with, every suspect is drift
        gone = tuple(
            AlteredFile("pip", "?", ledger.paths[n], "changed" if now else "missing")
            for n, now in suspects
        )
        return Drift(gone, len(ledger.paths), len(suspects))
    _, altered = altered_files(_expected(rows[n], prefix) for n, _ in suspects)
    bad = {(a.manager, a.package, a.path) for a in altered}
    refreshed = tuple(
        Row(rows[n].path, rows[n].package, rows[n].recorded, rows[n].digest, now)
        for n, now in suspects
        if now is not None and (*rows[n].package.split(":", 1), rows[n].recorded) not in bad
    )
    return Drift(altered, len(ledger.paths), len(suspects), refreshed)


def stat_suspects(ledger: Ledger, prefix: Path) -> list[tuple[int, Stat | None]]:
    """The recorded files whose stat changed (``None``: gone), stat'ed here."""
    from provisioner.apply.statscan import suspects

    return suspects(ledger.paths, ledger.stats, str(prefix))


SCAN_TIMEOUT_S = 120.0  # a stat per file: seconds on the slowest disk; then stat here


@dataclass(frozen=True, eq=False)
class Scan:
    """The stat half of :func:`check` running in a child Python (started by
    :func:`start_scan`, or by :func:`start_early_scan` before provision's own imports),
    and its answer once asked for."""

    env: str
    running: Running

    @cached_property
    def answer(self) -> tuple[str, str, list[tuple[int, Stat | None]]] | None:
        """(sha256 of the ledger bytes it read, the prefix they name, its suspects), or
        ``None`` when it did not answer as it should (the check then stats every file)."""
        try:
            done = self.running.finish(timeout=SCAN_TIMEOUT_S, check=False)
            if done.timed_out or done.returncode != 0:
                return None
            data = json.loads(done.stdout)
            found = [
                (
                    int(n),
                    None if now is None else (int(now[0]), int(now[1]), int(now[2]), int(now[3])),
                )
                for n, now in data["suspects"]
            ]
            return str(data["sha256"]), str(data["prefix"]), found
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None

    @property
    def read_sha256(self) -> str | None:
        """The sha256 of the ledger bytes the child read and parsed (``None``: no answer)."""
        answer = self.answer
        return answer[0] if answer is not None else None

    def suspects(self, ledger: Ledger) -> list[tuple[int, Stat | None]] | None:
        """The scan's suspects if it read exactly ``ledger`` (the same bytes: the same
        prefix, paths and stats)."""
        answer = self.answer
        if answer is None or ledger.env != self.env or not ledger.file_sha256:
            return None
        sha256, prefix, found = answer
        if sha256 != ledger.file_sha256 or prefix != ledger.prefix:
            return None
        if any(not 0 <= n < ledger.count for n, _ in found):
            return None
        return found

    def close(self) -> None:
        """Stop the child if nobody asked for its answer (a run that ended early)."""
        if "answer" not in self.__dict__:
            self.running.stop()


def start_scan(env: str) -> Scan | None:
    """Start the stat scan of ``env``'s recorded files (under the prefix its ledger
    names) in a child Python (isolated, no site: stdlib only), or ``None`` when there
    is no ledger or no child can be started. Its answer is used only for the ledger
    the check reads itself (:meth:`Scan.suspects`)."""
    import sys

    from provisioner import process

    path = ledger_path(env)
    if not sys.executable or not path.is_file():
        return None
    script = Path(__file__).with_name("statscan.py")
    try:
        running = process.start([sys.executable, "-I", "-S", script, path])
    except OSError:
        return None
    return Scan(env, running)


def idle_core() -> bool:
    """Whether a core is free for the scan now: on a busy machine the child only adds
    its start-up to the run, so the check stats the files itself.

    On Linux, the processes running at this moment (``/proc/loadavg``'s fourth field,
    this one included) leave a core; the 1-minute load average would still count the
    apply that just ended (or the previous run of a loop of applies) for a minute.
    Elsewhere, the load average; none at all (Windows): no core is assumed free."""
    cores = os.cpu_count() or 1
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
        return cores - running >= 1
    except (OSError, ValueError, IndexError):
        pass
    try:
        return cores - os.getloadavg()[0] >= 1.0
    except (AttributeError, OSError):
        return False


# Which environment a profile file converged last: apply names the environment only
# once the profile is loaded (provision's heaviest imports), so the stat scan of a
# no-op starts from this hint before them. A wrong or stale hint costs only that scan:
# its answer is used only for the ledger the check itself reads, of the profile's env.
def hint_path(profile: Path) -> Path:
    """``state/hints/<sha256 of the profile's real path>``: that profile's env name."""
    key = hashlib.sha256(os.path.realpath(profile).encode("utf-8", "surrogateescape"))
    return state_dir() / "hints" / key.hexdigest()


def read_hint(profile: Path) -> str | None:
    try:
        with open(hint_path(profile), "rb") as f:
            name = f.read(256).decode("utf-8").strip()
    except (OSError, ValueError):
        return None
    return name if name and "/" not in name and name not in (".", "..") else None


def keep_hint(profile: Path, env: str) -> None:
    """Record that ``profile`` converged ``env`` (when the hint says otherwise)."""
    if read_hint(profile) != env:
        path = hint_path(profile)
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, env + "\n")


def start_early_scan(profile: Path) -> Scan | None:
    """The stat scan of the environment ``profile`` converged last (its hint), started
    before the profile is read, when a core is free; ``None`` otherwise."""
    try:
        env = read_hint(profile)
        if env is None or not idle_core():
            return None
        return start_scan(env)
    except (ProvisionError, OSError, ValueError):  # an unsafe home: apply itself says so
        return None


def _own_files(prefix: Path, infos: Iterable[tuple[str, Path]]) -> Iterator[Expected]:
    """The records themselves (``conda-meta/*.json``, each ``RECORD``), expected to stay
    the bytes they are now."""
    from provisioner.env.integrity import Expected

    records = [("conda", p.stem, p) for p in sorted((prefix / "conda-meta").glob("*.json"))]
    records += [("pip", name, info / "RECORD") for name, info in infos]
    for manager, name, path in records:
        with contextlib.suppress(OSError):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            rel = path.relative_to(prefix).as_posix()
            yield Expected(manager, name, rel, path, digest, None)


def expectations(prefix: Path, site: Path | None, pip_names: Iterable[str]) -> list[Expected]:
    """Every file the environment's records describe: the conda part's, the locked pip
    distributions' (``pip_names``) and the records themselves."""
    from packaging.utils import canonicalize_name

    from provisioner.env.integrity import conda_expectations, pip_expectations

    items = list(conda_expectations(prefix)) if (prefix / "conda-meta").is_dir() else []
    infos: list[tuple[str, Path]] = []
    if site is not None:
        wanted = {canonicalize_name(n) for n in pip_names}
        for info in sorted(site.glob("*.dist-info")):
            stem = info.name[: -len(".dist-info")]
            name = canonicalize_name(stem.split("-", 1)[0])
            if name in wanted:
                infos.append((name, info))
        items += pip_expectations(site, infos)
    items += _own_files(prefix, infos)
    return items


def record(
    env: str,
    prefix: Path,
    lock_sha256: str,
    items: Iterable[Expected],
    old: Ledger | None = None,
) -> Ledger:
    """Write the ledger for a just-verified environment: each expected file's stat,
    taken before it is hashed; files whose stat is the one ``old`` recorded for the
    same digest are not hashed again. A file that does not match its record now is
    left out (it is no drift of this environment's; verify passed with it)."""
    from provisioner.env.integrity import altered_files

    same = old is not None and old.prefix == str(prefix)
    known = {r.path: r for r in old.rows} if old is not None and same else {}
    rows: list[Row] = []
    fresh: list[tuple[Expected, Row]] = []
    for item in items:
        rel = item.path.relative_to(prefix).as_posix()
        digest = ("b64:" + item.digest) if item.b64 else item.digest
        now = _stat(str(item.path))
        if now is None:
            continue
        row = Row(rel, f"{item.manager}:{item.package}", item.recorded, digest, now)
        was = known.get(rel)
        if was is not None and was.stat == now and was.digest == digest:
            rows.append(row)
        else:
            fresh.append((item, row))
    _, altered = altered_files(e for e, _ in fresh)
    bad = {(a.manager, a.package, a.path) for a in altered}
    rows += [r for e, r in fresh if (e.manager, e.package, e.recorded) not in bad]
    rows.sort(key=lambda r: r.path)
    return write_ledger(env, str(prefix), lock_sha256, rows)


def refresh(ledger: Ledger, drift: Drift) -> None:
    """Record the new stat of files that were hashed and found intact (best effort)."""
    if not drift.refreshed or not ledger.rows:
        return
    new = {r.path: r for r in drift.refreshed}
    rows = [new.get(r.path, r) for r in ledger.rows]
    with contextlib.suppress(OSError):
        write_ledger(ledger.env, ledger.prefix, ledger.lock_sha256, rows)
