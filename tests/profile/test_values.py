"""Values the model refuses wherever they appear: control characters, dangerous
environment variable names, non-finite numbers; all at validate, with a position."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provisioner.commands.validate import validate
from provisioner.errors import ValidationFailed
from provisioner.profile import load_profile
from provisioner.profile.values import (
    REFUSED_NAMES,
    REFUSED_PREFIXES,
    WARNED_NAMES,
    WARNED_PREFIXES,
    WARNED_SUFFIXES,
    refused_reason,
    warned_reason,
)

REPO = Path(__file__).resolve().parents[2]
DOCS = (REPO / "docs" / "profiles.md").read_text(encoding="utf-8")


def profile(folder: Path, *, os_: str = "linux", variables: str = "{}", extra: str = "") -> Path:
    path = folder / "p.yaml"
    path.write_text(
        f"""name: t
target: {{os: {os_}}}
environment:
  manager: venv
  name: t
  python: "3.11"
  pip: [numpy]
  variables: {variables}
smoke_test: {{framework: pytorch, device: cpu, require_accelerator: false{extra}}}
""",
        encoding="utf-8",
    )
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        load_profile(path)
    return [str(d) for d in info.value.diagnostics if d.severity == "error"]


def docs_table(heading: str) -> dict[str, str]:
    """The ``| `NAME` | why |`` rows of the docs table under the header row ``heading``."""
    section = DOCS.split(heading, 1)[1].split("\n\n", 1)[0]
    return dict(re.findall(r"^\| `(\*?[A-Z0-9_]+\*?)` \| (.+) \|$", section, flags=re.M))


def test_docs_list_every_refused_name_with_its_reason() -> None:
    table = docs_table("| name | why it is refused |")
    expected = {**REFUSED_NAMES, **{f"{p}*": why for p, why in REFUSED_PREFIXES.items()}}
    assert table == dict(expected)


def test_docs_list_every_warned_name_with_its_reason() -> None:
    table = docs_table("| name | why it is a warning |")
    expected = {
        **WARNED_NAMES,
        **{f"{p}*": why for p, why in WARNED_PREFIXES.items()},
        **{f"*{s}": why for s, why in WARNED_SUFFIXES.items()},
    }
    assert table == expected


@pytest.mark.parametrize(
    "name",
    [
        "PIP_INDEX_URL",
        "pip_trusted_host",
        "UV_CACHE_DIR",
        "UV_NO_VERIFY_HASHES",
        "CONDA_PKGS_DIRS",
        "CONDA_SAFETY_CHECKS",
        "MAMBA_ROOT_PREFIX",
    ],
)
def test_the_installers_own_variables_are_refused(tmp_path: Path, name: str) -> None:
    """The bootstrap scripts export the variables before they run the installer."""
    (line,) = errors(profile(tmp_path, variables=f"{{{name}: x}}"))
    assert ":8:15: error: " in line and "may not be set by a profile" in line
    assert "bootstrap" in line or "bundle" in line


@pytest.mark.parametrize(
    "name",
    [
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NODE_OPTIONS",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "PYTHONWARNINGS",
        "BROWSER",
        "PERL5OPT",
        "https_proxy",
    ],
)
@pytest.mark.parametrize("os_", ["linux", "windows"])
def test_names_that_redirect_trust_or_load_code_are_warnings_with_a_position(
    tmp_path: Path, name: str, os_: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = profile(tmp_path, os_=os_, variables=f"{{{name}: '1'}}")
    resolved = load_profile(path)
    (warning,) = resolved.warnings
    assert str(warning).startswith(f"{path}:8:15: warning: environment.variables.{name}: ")
    why = warned_reason(name)
    assert why is not None and why in warning.message
    assert validate(profiles=[path]) == 0
    assert capsys.readouterr().err.splitlines() == [str(warning)]


@pytest.mark.parametrize(
    ("value", "module"),
    [
        ("all:0:antigravity.x:0:0", "antigravity"),
        ("ignore::DeprecationWarning,error::a.b.C", "a.b"),
    ],
)
def test_warning_filters_that_import_a_module_are_refused(
    tmp_path: Path, value: str, module: str
) -> None:
    path = profile(tmp_path, variables=f"{{PYTHONWARNINGS: '{value}'}}")
    (line,) = errors(path)
    assert line.startswith(f"{path}:8:31: error: environment.variables.PYTHONWARNINGS: ")
    assert f'category in module "{module}"' in line


def test_plain_warning_filters_are_only_a_warning(tmp_path: Path) -> None:
    path = profile(tmp_path, variables="{PYTHONWARNINGS: 'ignore::DeprecationWarning'}")
    assert [d.severity for d in load_profile(path).warnings] == ["warning"]


@pytest.mark.parametrize(
    "name",
    [*REFUSED_NAMES, "bash_env", "Ld_Preload", "BASH_XTRACEFD", "LD_AUDIT", "PROVISION_HOME"],
)
@pytest.mark.parametrize("os_", ["linux", "windows"])
def test_refused_names_are_errors_at_the_key(tmp_path: Path, name: str, os_: str) -> None:
    if os_ == "linux" and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        pytest.skip("not a POSIX name: refused for its shape")
    (line,) = errors(profile(tmp_path, os_=os_, variables=f"{{{name}: x}}"))
    assert line.startswith(f"{tmp_path / 'p.yaml'}:8:15: error: environment.variables.{name}: ")
    assert "may not be set by a profile" in line


@pytest.mark.parametrize("name", ["A=B", "1X", "A B", "A-B", "$(x)", "é"])
def test_names_a_posix_shell_cannot_export_are_refused_at_validate(
    tmp_path: Path, name: str
) -> None:
    (line,) = errors(profile(tmp_path, variables=f"{{'{name}': x}}"))
    assert ":8:15: error: " in line and "is not a valid environment variable name" in line


def test_windows_allows_its_own_name_shapes(tmp_path: Path) -> None:
    assert load_profile(profile(tmp_path, os_="windows", variables="{'ProgramFiles(x86).a-b': x}"))


def test_everyday_names_pass(tmp_path: Path) -> None:
    names = ["TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "ENVIRONMENT"]
    variables = "{" + ", ".join(f"{n}: '1'" for n in names) + "}"
    assert load_profile(profile(tmp_path, variables=variables))
    assert refused_reason("LD_LIBRARY_PATH") is not None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('"a\\rb"', "'\\r'"),
        ('"a\\u2028b"', "'\\u2028'"),
        ('"a\\u202eb"', "bidirectional control U+202E"),
        ('"a\\x7fb"', "'\\x7f'"),
        ('"a\\x1b[2Jb"', "'\\x1b'"),
    ],
)
def test_control_characters_in_structured_values_are_refused(
    tmp_path: Path, value: str, shown: str
) -> None:
    path = profile(tmp_path)
    path.write_text(path.read_text().replace("  pip:", f"  channels: [{value}]\n  pip:"), "utf-8")
    (line,) = errors(path)
    assert line.startswith(f"{tmp_path / 'p.yaml'}:7:14: error: environment.channels[0]: ")
    assert shown in line


@pytest.mark.parametrize("where", ["name", "variable"])
def test_nul_is_refused_even_in_free_text(tmp_path: Path, where: str) -> None:
    path = profile(tmp_path, variables='{TF_X: "a\\0b"}' if where == "variable" else "{}")
    if where == "name":
        path.write_text(path.read_text().replace("name: t\n", 'name: "t\\0"\n', 1), "utf-8")
    (line,) = errors(path)
    assert "contains a NUL byte" in line
    assert line.startswith(f"{tmp_path / 'p.yaml'}:{'8:21' if where == 'variable' else '1:7'}: ")


@pytest.mark.parametrize(
    ("escaped", "shown"),
    [
        ("\\r\\ncalc.exe\\r\\nrem ", "'\\r'"),
        ("\\ncalc.exe", "'\\n'"),
        ("\\tx", "'\\t'"),
        ("\\x1b[2J", "'\\x1b'"),
        ("\\u2028x", "'\\u2028'"),
        ("\\x85x", "'\\x85'"),
        ("\\u202ex", "bidirectional control U+202E"),
    ],
)
@pytest.mark.parametrize(
    ("field", "at"),
    [("name", "1:7"), ("description", "2:14"), ("variable", "9:21")],
)
@pytest.mark.parametrize("os_", ["linux", "wsl2", "windows"])
def test_control_characters_in_names_descriptions_and_values_are_refused_on_every_target(
    tmp_path: Path, escaped: str, shown: str, field: str, at: str, os_: str
) -> None:
    """conda's activate.d/*.bat file would run what follows a line break (a .bat file
    exists wherever conda runs on Windows, whatever the target says)."""
    value = f"a{escaped}b"
    path = profile(
        tmp_path, os_=os_, variables=f'{{TF_X: "{value}"}}' if field == "variable" else "{}"
    )
    text = path.read_text().replace("name: t\n", "name: t\ndescription: d\n", 1)
    if field == "name":
        text = text.replace("name: t\n", f'name: "{value}"\n', 1)
    elif field == "description":
        text = text.replace("description: d\n", f'description: "{value}"\n', 1)
    path.write_text(text, "utf-8")
    lines = [line for line in errors(path) if "control" in line or "NUL" in line]
    assert lines and lines[0].startswith(f"{path}:{at}: error: "), lines
    assert shown in lines[0] and "\n" not in lines[0]


def test_requires_gpu_notes_stay_free_text(tmp_path: Path) -> None:
    path = profile(tmp_path)
    text = path.read_text().replace(
        "target: {os: linux}", 'target: {os: linux}\nrequires: {gpu: {notes: {amd: "a\\nb"}}}'
    )
    path.write_text(text, "utf-8")
    assert load_profile(path).profile.requires.gpu.notes == {"amd": "a\nb"}


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (".inf", "finite number"),
        ("-.inf", "finite number"),
        (".nan", "finite number"),
        ("1e300", "less than or equal to 1000000"),
    ],
)
def test_min_loss_drop_is_finite_and_bounded(tmp_path: Path, value: str, fragment: str) -> None:
    (line,) = errors(profile(tmp_path, extra=f", min_loss_drop: {value}"))
    assert "smoke_test.min_loss_drop: " in line and fragment in line


@pytest.mark.parametrize("field", ["steps", "timeout_s"])
@pytest.mark.parametrize("value", [".inf", ".nan", "1e400", "99999999999999999999999"])
def test_integer_fields_refuse_non_finite_and_huge_numbers(
    tmp_path: Path, field: str, value: str
) -> None:
    (line,) = errors(profile(tmp_path, extra=f", {field}: {value}"))
    assert f"smoke_test.{field}: " in line


@pytest.mark.parametrize("name", ["a\rb.yaml", "a\u2028b.yaml", "a\nb.yaml"])
def test_file_name_a_lockfile_cannot_carry_is_refused_clearly(tmp_path: Path, name: str) -> None:
    # conda-lock writes the file name into the lockfile's header comment, where a CR or
    # U+2028 ends the comment: the lockfile it wrote could not be read back.
    path = tmp_path / name
    path.write_text(profile(tmp_path).read_text(), encoding="utf-8")
    (line,) = errors(path)
    assert ":1:1: error: the file name contains the control character" in line
    assert "\r" not in line and "\u2028" not in line and "\n" not in line


@pytest.mark.parametrize(
    ("field", "value", "meant"),
    [
        ("device", "gpu", '(did you mean "cuda" or "dml"?)'),
        ("device", "nvidia", '(did you mean "cuda"?)'),
        ("framework", "torch", '(did you mean "pytorch"?)'),
        ("device", "cpus", '(did you mean "cpu"?)'),  # spelling still helps
    ],
)
def test_did_you_mean_goes_by_meaning(tmp_path: Path, field: str, value: str, meant: str) -> None:
    path = profile(tmp_path)
    text = path.read_text().replace(
        "framework: pytorch, device: cpu",
        "framework: pytorch, device: cpu".replace(
            f"{field}: {'pytorch' if field == 'framework' else 'cpu'}", f"{field}: {value}"
        ),
    )
    path.write_text(text, encoding="utf-8")
    (line,) = errors(path)
    assert f"smoke_test.{field}: " in line and line.endswith(meant)
    assert '"cpu"' not in line or value == "cpus"
