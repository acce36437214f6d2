"""Every shipped profile is embedded in the package and extendable by name from a team
profile anywhere (``extends: cuda-wsl2``), as the README's example does."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.cli import main
from provisioner.errors import ValidationFailed
from provisioner.profile import load_profile
from provisioner.profile.shipped import SHIPPED_DIR, shipped_names

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.stem for p in (REPO / "profiles").glob("*.yaml"))


def test_every_shipped_profile_is_embedded_byte_for_byte() -> None:
    assert shipped_names() == SHIPPED
    for name in SHIPPED:
        embedded = (SHIPPED_DIR / f"{name}.yaml").read_bytes()
        assert embedded == (REPO / "profiles" / f"{name}.yaml").read_bytes(), (
            f"provisioner/data/profiles/{name}.yaml differs from profiles/{name}.yaml "
            f"(fix: cp profiles/{name}.yaml provisioner/data/profiles/)"
        )


@pytest.mark.parametrize("name", SHIPPED)
def test_a_team_profile_extends_each_shipped_profile_by_name(tmp_path: Path, name: str) -> None:
    team = tmp_path / "team.yaml"
    team.write_text(f"extends: {name}\nname: team\nenvironment:\n  name: team\n", encoding="utf-8")
    resolved = load_profile(team)
    shipped = load_profile(REPO / "profiles" / f"{name}.yaml").profile
    assert resolved.profile.name == "team" and resolved.profile.environment.name == "team"
    assert resolved.profile.target == shipped.target
    assert resolved.profile.environment.pip == shipped.environment.pip


def test_a_file_beside_the_profile_wins_over_a_shipped_name(tmp_path: Path) -> None:
    (tmp_path / "cpu").write_text((REPO / "profiles" / "cpu.yaml").read_text("utf-8"))
    mine = (tmp_path / "cpu").read_text("utf-8").replace('"numpy"', '"numpy<2"')
    (tmp_path / "cpu").write_text(mine, encoding="utf-8")
    team = tmp_path / "team.yaml"
    team.write_text("extends: cpu\nname: team\n", encoding="utf-8")
    assert "numpy<2" in load_profile(team).profile.environment.pip


def test_an_unknown_name_lists_the_shipped_ones_and_the_closest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    team = tmp_path / "team.yaml"
    team.write_text("extends: cuda-wsl\nname: team\n", encoding="utf-8")
    with pytest.raises(ValidationFailed):
        load_profile(team)
    assert main(["validate", str(team)]) == 2
    err = capsys.readouterr().err
    assert 'did you mean "cuda-wsl2"?' in err and "cpu, cuda-linux, cuda-wsl2" in err
