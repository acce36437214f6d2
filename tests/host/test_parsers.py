"""Parsers read captured outputs (tests/data/fixtures, hosts' outputs) by structure and
number shapes, including the localized and UTF-16LE ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.host import parse_linux, parse_nvidia, parse_windows, parse_wsl

DATA = Path(__file__).resolve().parents[1] / "data"
FIX = DATA / "fixtures"
HOSTS = DATA / "hosts"


def fixture(name: str) -> str:
    return (FIX / name).read_text("utf-8")


def output(host: str, name: str) -> bytes:
    return (HOSTS / host / "outputs" / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "build", "ubr"),
    [
        ("cmd_ver_win10_17763.292.txt", 17763, 292),
        ("cmd_ver_win11_22000.778.txt", 22000, 778),
        ("cmd_ver_zh_18362.207.txt", 18362, 207),  # [版本 10.0.18362.207]
        ("cmd_ver_win10_19045.3803.txt", 19045, 3803),
    ],
)
def test_cmd_ver_by_numbers_not_labels(name: str, build: int, ubr: int) -> None:
    assert parse_windows.windows_version(fixture(name)) == (build, ubr)


def test_cmd_ver_without_version_is_none() -> None:
    assert parse_windows.windows_version("The system cannot find the path specified.") is None


def test_wsl_version_utf16le_is_decoded() -> None:
    raw = output("wsl2-win11-nvidia-555", "wsl.exe.0.txt")
    assert raw.startswith(b"\xff\xfe") and b"\x00" in raw  # really UTF-16LE
    text = parse_wsl.decode_wsl_output(raw)
    assert parse_wsl.package_version(text) == "1.2.2.0"
    assert parse_wsl.kernel_from_version_table(text) == "5.15.90.1"


def test_wsl_version_utf8_when_wsl_utf8_is_set() -> None:
    text = parse_wsl.decode_wsl_output(output("wsl2-win10-19045-amd-intel", "wsl.exe.0.txt"))
    assert parse_wsl.package_version(text) == "2.1.5.0"
    assert parse_wsl.kernel_from_version_table(text) == "5.15.146.1"


def test_wsl_version_positions_survive_translated_labels() -> None:
    """Labels are translated; values are read by row and number shape."""
    english = parse_wsl.decode_wsl_output(output("wsl2-win11-nvidia-555", "wsl.exe.0.txt"))
    translated = "\n".join(
        "Etiqueta traducida: " + line.split(": ", 1)[1] for line in english.splitlines() if line
    )
    assert parse_wsl.package_version(translated) == "1.2.2.0"
    assert parse_wsl.kernel_from_version_table(translated) == "5.15.90.1"


@pytest.mark.parametrize(
    "text",
    [
        fixture("wsl_invalid_option_zh_inbox_18362.txt"),
        parse_wsl.decode_wsl_output(output("wsl2-inbox-wsl-win10-19045", "wsl.exe.0.txt")),
    ],
)
def test_inbox_wsl_rejection_has_no_package_version(text: str) -> None:
    assert parse_wsl.package_version(text) is None


def test_wsl_status_kernel() -> None:
    assert (
        parse_wsl.kernel_from_status(fixture("wsl_status_custom_kernel_5.10.102.1.txt"))
        == "5.10.102.1"
    )


@pytest.mark.parametrize(
    ("windows", "familiar"),
    [("31.0.15.2686", "526.86"), ("32.0.15.5599", "555.99"), ("31.0.15.2727", "527.27")],
)
def test_nvidia_windows_driver_maps_to_familiar_number(windows: str, familiar: str) -> None:
    assert parse_windows.nvidia_driver_number(windows) == familiar


def test_inventory_from_dxdiag_values_skips_software_adapter() -> None:
    text = output("windows-11-22000-nvidia", "powershell.exe.0.txt").decode()
    inv = parse_windows.parse_inventory(text)
    assert inv.caption == "Microsoft Windows 11 Home" and inv.server is False
    assert [(a.vendor, a.name, a.driver) for a in inv.adapters] == [
        ("intel", "Intel(R) Arc(TM) Graphics", "32.0.101.5768"),  # Intel: compared as 4 parts
        ("nvidia", "NVIDIA GeForce RTX 3050 4GB Laptop GPU", "555.99"),
    ]


def test_server_sku_is_flagged() -> None:
    inv = parse_windows.parse_inventory(
        "os\tMicrosoft Windows Server 2022 Datacenter\t3\t20348\r\n"
    )
    assert inv.server is True and inv.adapters == ()


def test_nvidia_smi_wsl_header_shows_windows_driver() -> None:
    text = fixture("nvidia-smi_wsl_ok_555.99_rtx4070_truncated.txt")
    report = parse_nvidia.parse_smi(text)
    assert report is not None
    assert (report.smi_version, report.driver, report.cuda) == ("555.52.01", "555.99", "12.5")
    assert report.gpus == ("NVIDIA GeForce RTX 4070 ...",)
    assert report.driver_model is None  # WSL shows Persistence-M, not TCC/WDDM


def test_nvidia_smi_older_table_layout() -> None:
    report = parse_nvidia.parse_smi(fixture("wsl_version_en_1.2.2_and_docker_nvidia-smi.txt"))
    assert report is not None and report.driver == "527.27" and report.gpus == ("Quadro RTX 4000",)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "nvidia-smi_wsl_couldnt_communicate_after_apt_nvidia-driver-440.txt",
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
        ),
        (
            "nvidia-smi_wsl_nvml_blocked_after_nvidia-utils-510.txt",
            "Failed to initialize NVML: GPU access blocked by the operating system",
        ),
    ],
)
def test_nvidia_smi_failures(name: str, message: str) -> None:
    text = fixture(name)
    assert parse_nvidia.parse_smi(text) is None
    assert parse_nvidia.failure_message(text).startswith(message)


@pytest.mark.parametrize(
    ("text", "kind", "kernel"),
    [
        (
            fixture("proc_version_wsl1_4.4.0-20236_issue_env.txt").split("WSL 1: ")[1],
            "wsl1",
            "4.4.0",
        ),
        (
            fixture("proc_version_wsl2_5.10.16.3_nvidia_doc.txt").split("/proc/version ")[1],
            "wsl2",
            "5.10.16.3",
        ),
        (fixture("proc_version_wsl2_custom_5.19.0.txt"), "wsl2", "5.19.0"),
        (
            fixture("wsl2_gpu_pv_ok_uname_lspci_wsllib_4.19.121.txt").splitlines()[1],
            "wsl2",
            "4.19.121",
        ),
        (fixture("wsl2_old_kernel_4.19.104_no_dev_dxg.txt").splitlines()[0], "wsl2", "4.19.104"),
        (fixture("proc_version_linux_this_container.txt"), "linux", None),
    ],
)
def test_proc_version(text: str, kind: str, kernel: str | None) -> None:
    assert parse_linux.os_kind_from_proc_version(text) == kind
    if kernel:
        assert parse_linux.kernel_from_proc_version(text) == kernel


def test_dpkg_status_linux_driver_packages() -> None:
    status = (HOSTS / "wsl2-linux-driver-440-in-distro" / "root/var/lib/dpkg/status").read_text()
    assert parse_linux.linux_nvidia_driver_packages(status) == [
        "libnvidia-compute-440",
        "nvidia-driver-440",
        "nvidia-utils-440",
    ]
    assert (
        parse_linux.linux_nvidia_driver_packages(fixture("dpkg_status_debian_bash_python3.11.txt"))
        == []
    )
    assert "bash" in parse_linux.installed_packages(
        fixture("dpkg_status_debian_bash_python3.11.txt")
    )


def test_wsl_conf_is_read_leniently() -> None:
    conf = parse_linux.parse_ini(
        "# c\n[GPU]\n enabled = False # off\n[interop]\nenabled='true'\nstray\n"
    )
    assert conf == {"gpu": {"enabled": "false"}, "interop": {"enabled": "true"}}


def test_the_dpkg_cut_skips_only_stanzas_no_driver_name_could_match() -> None:
    """nvidia_dpkg_stanzas parses only stanzas with "nvidia" or "cuda" in them: every
    name the driver pattern takes must contain one of the two."""
    from provisioner.host import parse_linux, patterns

    body = patterns.LINUX_NVIDIA_PACKAGES.removeprefix("^(").removesuffix(")$")
    alternatives = body.split("|")
    assert len(alternatives) > 10
    for alternative in alternatives:
        assert "nvidia" in alternative or "cuda" in alternative, alternative
    status = (
        "Package: libc6\nStatus: install ok installed\nDescription: not nvidia's\n\n"
        "Package: nvidia-driver-550\nStatus: install ok installed\n\n"
        "Package: libcuda1\nStatus: install ok installed\n"
    )
    assert parse_linux.linux_nvidia_driver_packages(parse_linux.nvidia_dpkg_stanzas(status)) == [
        "libcuda1",
        "nvidia-driver-550",
    ]
