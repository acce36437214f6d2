"""The artifact registry lists every ``render/artifacts_*.py`` module explicitly."""

from __future__ import annotations

from pathlib import Path

from provisioner.render import registry


def test_every_artifacts_module_is_listed() -> None:
    """An artifacts module left out of (or renamed away from) the registry fails here;
    the registry imports its modules by name, so a rename is an ImportError at start-up."""
    folder = Path(registry.__file__).parent
    on_disk = {p.stem for p in folder.glob("artifacts_*.py")}
    listed = [m.__name__.rsplit(".", 1)[1] for m in registry.ARTIFACT_MODULES]
    assert sorted(listed) == sorted(on_disk)
    for module in registry.ARTIFACT_MODULES:
        assert module.ARTIFACTS, module.__name__
