"""Not enough space for a bundle: a real 1 MiB tmpfs, mounted in a private mount
namespace (``unshare -m``) so nothing outside the child process sees it, and nothing
is left mounted when it ends. The bundle write refuses before writing anything, in
one line that says how much it needs and how much is free."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tests.bundle.test_bundle_archive import small_contents
    from provisioner.bundle.archive import write
    from provisioner.errors import ExternalFailure

    work, out = Path(sys.argv[1]), Path(sys.argv[2])
    contents = small_contents(work)
    try:
        write(contents, out)
    except ExternalFailure as e:
        print(e.message)
        print(e.hint)
        sys.exit(7)
    print("written")
    """
)


@pytest.fixture(scope="module")
def mount_namespace() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(
        [unshare, "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if probe.returncode != 0:
        pytest.skip(f"needs root for unshare -m and a tmpfs mount: {probe.stderr.strip()[:200]}")
    return [unshare, "-m"]


@pytest.mark.parametrize("name", ["b.tar.gz", "b.zip", "folder"])
def test_a_bundle_that_does_not_fit_is_refused_before_writing(
    tmp_path: Path, mount_namespace: list[str], name: str
) -> None:
    small = tmp_path / "small"
    small.mkdir()
    script = (
        f"mount -t tmpfs -o size=1m tmpfs {small} && "
        f'"{sys.executable}" -c "$CHILD" {tmp_path / "work"} {small / name}; '
        f"code=$?; ls -A {small}; exit $code"
    )
    env = {**os.environ, "CHILD": CHILD, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [*mount_namespace, "sh", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 7, done.stdout + done.stderr
    message, hint, *left = done.stdout.splitlines()
    # small_contents is a few KiB; a bundle needs its size plus 1 MiB of room, and a
    # 1 MiB tmpfs has less than that free.
    assert message.startswith(f"not enough space in {small} for the bundle: it needs 1 MiB")
    assert message.endswith("MiB are free") and "\n" not in message
    assert "larger disk" in hint
    assert left == []  # nothing was written there, not even a temp file
    assert not any(small.iterdir())  # and the mount was private to the child
