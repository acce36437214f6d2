"""The check records: the public ids exist, are documented, and use known rule kinds."""

from __future__ import annotations

from pathlib import Path

from provisioner.checks.records import RULE_KINDS, load_checks

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"
PUBLIC_IDS = {
    "os.wsl2", "wsl.kernel", "windows.build", "windows.edition", "gpu.dxg", "gpu.wsl-libs",
    "gpu.adapter", "gpu.driver", "nvidia.smi", "nvidia.no-linux-driver", "nvidia.wddm",
    "wsl.interop", "python.available",
}  # fmt: skip


def test_public_ids_exist_and_every_id_is_documented() -> None:
    ids = [r.id for r in load_checks()]
    assert len(ids) == len(set(ids))
    assert set(ids) >= PUBLIC_IDS
    docs = DOCS.read_text("utf-8")
    for cid in ids:
        assert f"| `{cid}` |" in docs, f"{cid} is missing from docs/checks.md"


def test_records_are_complete() -> None:
    for r in load_checks():
        assert r.rule.kind in RULE_KINDS
        assert r.severity in ("fail", "warn")
        assert r.title and r.label and r.fix.endswith(".")
        assert len(r.fix) < 300, f"{r.id}: a fix is one or two sentences"
