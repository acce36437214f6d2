"""Download locations in a profile: real-world URLs and folders load; the broken ones are
in tests/data/invalid/url-*.yaml (with their line, column and message)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from provisioner.errors import ValidationFailed
from provisioner.profile import load_profile

REPO = Path(__file__).resolve().parents[2]


def profile_with(tmp_path: Path, **environment: object) -> Path:
    data = yaml.safe_load((REPO / "profiles" / "cpu.yaml").read_text(encoding="utf-8"))
    data["environment"].update(environment)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_real_download_locations_load(tmp_path: Path) -> None:
    resolved = load_profile(
        profile_with(
            tmp_path,
            index_url="https://user:p%40ss@pypi.example:8443/simple/",
            extra_index_urls=["file:///opt/pypi/simple", "http://127.0.0.1:9/simple"],
            find_links=[
                "/opt/wheels",
                "./wheels",
                "C:\\wheels",
                "https://download.pytorch.org/whl/torch_stable.html",
                "file:///opt/wheels",
            ],
            proxy="http://proxy.example:3128",
        )
    )
    env = resolved.profile.environment
    assert env.index_url == "https://user:p%40ss@pypi.example:8443/simple/"
    assert env.find_links[2] == "C:\\wheels" and env.proxy == "http://proxy.example:3128"


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("index_url", 'https://y.invalid/s"$(touch /tmp/PWNED)', "contains '\"'"),
        ("index_url", "https://x.example/simple\n--trusted-host evil", "'\\n' (U+000A)"),
        ("index_url", "https://x.example/simple --trusted-host evil", "contains ' '"),
        ("index_url", "javascript:alert(1)", "is not an http(s) or file:// URL"),
        ("index_url", "", "is empty"),
        ("proxy", "socks4://proxy:1080", "is not an http(s) URL"),
        ("proxy", "http://proxy:port", "Port could not be cast"),
        ("find_links", "/opt/wheels\u2028x", "'\\u2028' (U+2028)"),
        ("find_links", "/opt/it\u2019s", "contains '\\u2019'"),
    ],
)
def test_unsafe_download_locations_are_refused(
    tmp_path: Path, field: str, value: str, fragment: str
) -> None:
    given: object = [value] if field == "find_links" else value
    with pytest.raises(ValidationFailed) as info:
        load_profile(profile_with(tmp_path, **{field: given}))
    (diag,) = info.value.diagnostics
    assert diag.path.startswith(f"environment.{field}") and fragment in diag.message
    assert "\n" not in str(diag)
