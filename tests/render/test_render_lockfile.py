"""``provision render`` with a lockfile: it is validated by the lock reader and must match
the profile; a malformed, stale or foreign lockfile is exit 2 before anything is written.

The lockfiles are real: ``provision lock`` over a file:// index built by the tests.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from provisioner.cli import main
from tests.pypi_index import small_index
from tests.support.profiles import profile_document, write_profile


def pip_profile(folder: Path, name: str, pip: list[str]) -> Path:
    environment = {
        "manager": "venv",
        "python": "3.11",
        "pip": pip,
        "index_url": small_index().as_uri(),
    }
    return write_profile(folder / f"{name}.yaml", profile_document(name, environment))


@pytest.fixture
def locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A profile with a fresh lockfile beside it (``<stem>.conda-lock.yml``).

    Locking reads only the profile's local index (file://): the offline guard's
    PIP_NO_INDEX is set aside for the lock (pip's own configuration stays hidden)."""
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    profile = pip_profile(tmp_path / "p", "team", ["six==1.17.0"])
    assert main(["lock", str(profile)]) == 0
    return profile


def lockfile_of(profile: Path) -> Path:
    return profile.with_name(f"{profile.stem}.conda-lock.yml")


def test_fresh_lockfile_goes_into_the_scripts(
    locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(locked), "-o", str(out)]) == 0
    lock_text = lockfile_of(locked).read_text(encoding="utf-8")
    assert (out / "conda-lock.yml").read_text(encoding="utf-8") == lock_text
    script = (out / "bootstrap.sh").read_text(encoding="utf-8")
    (pkg,) = yaml.safe_load(lock_text)["package"]
    assert pkg["name"] == "six" and pkg["url"].startswith(small_index().parent.as_uri())
    requirement = f"{pkg['name']} @ {pkg['url']} --hash=sha256:{pkg['hash']['sha256']}"
    assert f"  '{requirement}'\n" in script
    assert f"LOCK_SHA256='{hashlib.sha256(lock_text.encode()).hexdigest()}'" in script


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("unclosed-flow", "not a valid conda-lock file"),
        ("package-not-a-list", "package: expected list"),
        ("no-metadata", "metadata: missing"),
        ("not-a-mapping", "the document: expected a mapping"),
        ("bad-manager", "package[0].manager: 'npm' is neither conda nor pip"),
    ],
)
def test_malformed_lockfile_is_exit_2_and_writes_nothing(
    locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, fragment: str
) -> None:
    path = lockfile_of(locked)
    text = path.read_text(encoding="utf-8")
    broken = {
        "unclosed-flow": text.replace("metadata:", "metadata: [", 1),
        "package-not-a-list": text[: text.index("package:")] + "package: 5\n",
        "no-metadata": "version: 1\n",
        "not-a-mapping": "- 1\n- 2\n",
        "bad-manager": text.replace("manager: pip", "manager: npm", 1),
    }[case]
    assert broken != text
    path.write_text(broken, encoding="utf-8")
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["render", str(locked), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "internal error" not in err
    assert str(path) in err and fragment in err and "fix: re-create it with `provision lock`" in err
    assert not out.exists()


def test_pip_entry_without_sha256_is_refused(
    locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A valid conda-lock file may omit a pip hash; `pip --require-hashes` cannot install it.
    path = lockfile_of(locked)
    text = path.read_text(encoding="utf-8")
    lines = [
        ln.split("sha256:")[0] + "md5: " + "a" * 32 + "\n"
        if ln.strip().startswith("sha256:")
        else ln
        for ln in text.splitlines(keepends=True)
    ]
    assert lines != text.splitlines(keepends=True)
    path.write_text("".join(lines), encoding="utf-8")
    capsys.readouterr()
    assert main(["render", str(locked), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "pip package six 1.17.0 (linux-64) has no sha256" in err
    assert "fix: re-create the lockfile with `provision lock PROFILE`" in err
    assert not (tmp_path / "out").exists()


def test_stale_lockfile_is_exit_2_with_the_lock_command(
    locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = locked.read_text(encoding="utf-8")
    locked.write_text(text.replace("six==1.17.0", "six==1.16.0"), encoding="utf-8")
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["render", str(locked), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "lockfile is stale" in err and f"(fix: provision lock {locked})" in err
    assert not out.exists()


def test_lockfile_of_another_profile_is_refused(
    locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = pip_profile(tmp_path / "q", "other", ["six==1.16.0"])  # other lock inputs
    foreign = lockfile_of(locked)
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["render", str(other), "-o", str(out), "--lockfile", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert "lockfile is stale for" in err and "(environment.pip changed)" in err
    # The fix must not overwrite the other profile's lockfile (it used to say -o FOREIGN).
    assert f"(fix: provision lock {other}, then render without --lockfile)" in err
    assert f"-o {foreign}" not in err
    assert not out.exists()
    # The same lockfile is accepted for the profile it was made from.
    assert main(["render", str(locked), "-o", str(out), "--lockfile", str(foreign)]) == 0
    assert (out / "conda-lock.yml").read_bytes() == foreign.read_bytes()


def test_file_name_with_line_breaks_is_refused_on_one_line_before_its_lockfile(
    locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Such a name is refused at load: conda-lock writes it into the lockfile's header.
    odd = locked.with_name("a\nb.yaml")
    odd.write_text(locked.read_text(encoding="utf-8").replace("1.17.0", "1.16.0"), "utf-8")
    lockfile_of(odd).write_bytes(lockfile_of(locked).read_bytes())
    capsys.readouterr()
    assert main(["render", str(odd), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a\\nb.yaml:1:1: error: the file name contains" in err
