"""validate / show / schema through ``provisioner.cli.main``: exit codes and output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.cli import main
from provisioner.commands.schema import schema_text

REPO = Path(__file__).resolve().parents[2]
INVALID = REPO / "tests" / "data" / "invalid"
NOT_A_FILE = "name a profile YAML file, not a folder, pipe or device"
SHIPPED = [str(p) for p in sorted((REPO / "profiles").glob("*.yaml"))] + [
    str(p) for p in sorted((REPO / "profiles" / "examples").glob("*.yaml"))
]


def test_validate_all_shipped_profiles_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", *SHIPPED]) == 0
    out = capsys.readouterr().out
    assert out.count("ok: ") == len(SHIPPED)


def test_validate_reports_every_error_of_every_file_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = [str(INVALID / "many-errors.yaml"), str(INVALID / "tab-indent.yaml"), SHIPPED[0]]
    assert main(["validate", *files]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if ": error: " in line]
    assert len(lines) == 5  # 4 in many-errors, 1 in tab-indent
    assert any("many-errors.yaml:7:7: error: target.os: " in line for line in lines)
    assert captured.err.rstrip().endswith("5 error(s)")
    assert "ok: " in captured.out  # the valid one is still reported


@pytest.mark.parametrize("command", ["validate", "show", "render"])
@pytest.mark.parametrize(
    ("kind", "reason", "fix"),
    [
        ("missing", "No such file or directory", "pass an existing profile file"),
        ("folder", "not a regular file (a folder)", NOT_A_FILE),
        ("latin1", "not UTF-8 text (byte 9)", "save it as UTF-8"),
    ],
)
def test_unreadable_profile_is_one_positioned_line_with_a_fix(
    command: str,
    kind: str,
    reason: str,
    fix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / kind
    if kind == "folder":
        path.mkdir()
    elif kind == "latin1":
        path.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    argv = [command, str(path)] + (["-o", str(tmp_path / "out")] if command == "render" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if not ln.endswith(" error(s)")]
    # One style on every command: "FILE:L:C: error: ... (fix: ...)", as gcc prints it
    assert lines == [f"{path}:1:1: error: cannot read profile: {reason} (fix: {fix})"]


def test_validate_json_lists_file_line_col_path_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = INVALID / "tfdml-python.yaml"
    assert main(["validate", "--json", str(case)]) == 2
    (item,) = json.loads(capsys.readouterr().out)
    assert Path(item["file"]).resolve() == case
    assert (item["line"], item["col"], item["path"]) == (13, 11, "environment.python")
    assert item["message"] == (
        'tensorflow-directml 1.15.8 publishes wheels for Python 3.6–3.7 only, got "3.10"'
    )


def test_validate_json_is_an_empty_list_when_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--json", *SHIPPED]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_validate_without_a_profile_validates_the_embedded_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_show_prints_the_resolved_profile_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--json", str(REPO / "profiles/examples/vision-team.yaml")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "vision-team"
    assert data["target"]["os"] == "wsl2"  # inherited from cuda-wsl2.yaml
    assert data["environment"]["conda"] == ["numpy>=1.26,<2", "pillow"]


def test_show_origin_names_the_file_that_set_each_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["show", "--origin", str(REPO / "profiles/examples/vision-team.yaml")]) == 0
    rows = {line.split(":")[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "profiles/cuda-wsl2.yaml:" in rows["target.os"]
    assert "profiles/examples/vision-team.yaml:11:" in rows["environment.conda[numpy]"]
    assert rows["environment.proxy"].endswith("# (default)")


def test_show_origin_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--json", "--origin", str(REPO / "profiles/cpu.yaml")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["origins"]["environment.pip[torch]"].endswith("profiles/cpu.yaml:16:9")
    assert doc["profile"]["name"] == "cpu"


def test_show_yaml_round_trips(capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    assert main(["show", str(REPO / "profiles/directml-wsl2.yaml")]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["environment"]["python"] == "3.7"  # stays a string, not 3.7 the float


def test_show_invalid_profile_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(INVALID / "enum-manager.yaml")]) == 2
    assert '"pip" is not one of: conda, venv' in capsys.readouterr().err


def test_committed_schema_is_current() -> None:
    committed = (REPO / "schema" / "profile.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), (
        "schema/profile.schema.json is stale: run `provision schema -o schema/profile.schema.json`"
    )


def test_schema_command_writes_then_reports_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.json"
    assert main(["schema", "-o", str(out)]) == 0
    assert main(["schema", "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("create") and lines[1].startswith("identical")
    schema = json.loads(out.read_text(encoding="utf-8"))
    assert schema["additionalProperties"] is False
    assert "extends" in schema["properties"]
    env = schema["$defs"]["Environment"]["properties"]
    assert all("description" in field for field in env.values())


@pytest.mark.parametrize("where", ["/proc/provision-test/schema.json", "/proc/x", "folder"])
def test_schema_to_an_unwritable_path_is_exit_2(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /proc takes no new files; "folder" is an existing directory, not a file.
    (tmp_path / "folder").mkdir()
    out = tmp_path / where if where == "folder" else Path(where)
    assert main(["schema", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err
    if where == "folder":  # refused before anything is written, naming what it is
        assert err == f"provision: error: -o {out}: is a folder (fix: give -o a file path)\n"
    else:
        assert err.startswith(f"provision: error: cannot write {out}: ")
        assert err.rstrip().endswith("(fix: choose a writable path)")


def test_schema_accepts_every_shipped_profile() -> None:
    """The committed schema (what editors use) agrees with the loader on shipped files."""
    import jsonschema  # dev dependency
    import yaml

    schema = json.loads((REPO / "schema" / "profile.schema.json").read_text(encoding="utf-8"))
    for path in SHIPPED:
        jsonschema.validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")), schema)


def test_schema_requires_fields_only_without_extends() -> None:
    import jsonschema
    import yaml

    schema = json.loads((REPO / "schema" / "profile.schema.json").read_text(encoding="utf-8"))
    standalone = yaml.safe_load((REPO / "profiles" / "cpu.yaml").read_text(encoding="utf-8"))
    del standalone["environment"]["python"]
    with pytest.raises(jsonschema.ValidationError, match="'python' is a required property"):
        jsonschema.validate(standalone, schema)
    jsonschema.validate({"extends": "cpu.yaml", "environment": {"pip": ["x"]}}, schema)
    with pytest.raises(jsonschema.ValidationError, match="Additional properties"):
        jsonschema.validate({"extends": "cpu.yaml", "enviroment": {}}, schema)
