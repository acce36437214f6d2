"""The diagnosis families read the log's own facts, and the streamed scan that feeds them.

Log lines here are shapes taken from the real captures in tests/data/corpus (where the
whole posted logs are scored); each test changes one fact (a soname, a kernel string,
a build number) to show the diagnosis follows that fact, not the thread.
"""

from __future__ import annotations

import io

import pytest

from provisioner.diagnosis import diagnose, diagnose_text, wheels
from provisioner.diagnosis.libraries import cuda_version, debian_package, missing_library
from provisioner.logscan import MAX_LINE, NotText, Prefilter, scan


def _cause(text: str) -> tuple[str | None, str]:
    cause = diagnose_text(text).cause
    return (None, "") if cause is None else (cause.signature.id, cause.signature.fix)


# --- libraries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lib", "cuda"),
    [
        ("libcudart.so.11.0", "11.x"),
        ("libcudart.so.10.1", "10.1"),
        ("libcublas.so.12", "12"),
        ("libcufft.so.10", "10.1–11.x"),
        ("cudart64_101.dll", "10.1"),
        ("cudart64_110.dll", "11.x"),
        ("cublas64_11.dll", "11"),
    ],
)
def test_the_cuda_version_comes_from_the_library_name(lib: str, cuda: str) -> None:
    assert cuda_version(lib) == cuda


@pytest.mark.parametrize(
    ("line", "lib"),
    [
        (
            "Could not load library libcudnn_cnn_infer.so.8. Error: libcuda.so: cannot open "
            "shared object file: No such file or directory",
            "libcuda.so",  # what is really missing, not what needed it
        ),
        (
            "W dso_loader.cc:60] Could not load dynamic library 'libcusolver.so.11'; dlerror: "
            "libnvJitLink.so.12: cannot open shared object file: No such file or directory",
            "libnvJitLink.so.12",
        ),
        ("ImportError: libGL.so.1: cannot open shared object file: No such file", "libGL.so.1"),
        (
            "Could not load dynamic library 'cudnn64_8.dll'; dlerror: cudnn64_8.dll not found",
            "cudnn64_8.dll",
        ),
    ],
)
def test_the_missing_library_is_the_one_the_loader_names(line: str, lib: str) -> None:
    assert missing_library(line) == lib


@pytest.mark.parametrize(
    ("line", "cause", "fix"),
    [
        (
            "OSError: libcuda.so.1: cannot open shared object file",
            "lib.nvidia-driver",
            "--gpus all",
        ),
        (
            "ImportError: libcudart.so.12: cannot open shared object file",
            "lib.cuda-runtime",
            "CUDA 12",
        ),
        (
            "ImportError: libcudart.so.10.0: cannot open shared object file",
            "lib.cuda-runtime",
            "CUDA 10.0",
        ),
        (
            "Could not load library libcudnn_ops_infer.so.9. Error: "
            "libcudnn_ops_infer.so.9: cannot open shared object file",
            "lib.cudnn",
            "cuDNN 9",
        ),
        ("ImportError: libgomp.so.1: cannot open shared object file", "lib.system", "libgomp1"),
        (
            "ImportError: libglib-2.0.so.0: cannot open shared object file",
            "lib.system",
            "libglib-2.0-0",
        ),
        ("ImportError: libd3d12.so: cannot open shared object file", "lib.wsl-gpu", "wsl --update"),
        ("OSError: libtorch_cuda.so: cannot open shared object file", "lib.framework", "Reinstall"),
        (
            "./app: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not "
            "found (required by ./app)",
            "lib.glibc-too-old",
            "2.34",
        ),
        (
            "ImportError: /usr/lib/libstdc++.so.6: version `GLIBCXX_3.4.32' not "
            "found (required by x.so)",
            "lib.libstdcxx-too-old",
            "3.4.32",
        ),
        (
            "OSError: [WinError 1114] A dynamic link library (DLL) initialization routine "
            'failed. Error loading "C:\\x\\torch\\lib\\c10.dll" or one of its dependencies.',
            "win.msvc-runtime",
            "Visual C++",
        ),
    ],
)
def test_a_library_line_gets_its_provider_and_version(line: str, cause: str, fix: str) -> None:
    got, text = _cause(line + "\n")
    assert got == cause and fix in text, (got, text)


def test_debian_names_a_library_package_by_name_and_soversion() -> None:
    assert debian_package("liblapack.so.3") == "liblapack3"
    assert debian_package("libglib-2.0.so.0") == "libglib-2.0-0"


def test_tensorrt_missing_is_benign() -> None:
    log = (
        "W dso_loader.cc:64] Could not load dynamic library 'libnvinfer.so.7'; dlerror: "
        "libnvinfer.so.7: cannot open shared object file: No such file or directory\n"
    )
    result = diagnose_text(log)
    assert result.cause is not None and result.cause.signature.severity == "benign"


# --- facts the log states ------------------------------------------------------------

DRIVER = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"


@pytest.mark.parametrize(
    ("facts", "cause", "fix"),
    [
        (
            "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com)\n",
            "wsl.wsl1",
            "--set-version",
        ),
        (
            "Linux version 4.19.104-microsoft-standard #1 SMP\n",
            "wsl.kernel-too-old",
            "wsl --update",
        ),
        ("Microsoft Windows [Version 10.0.18363.1556]\n", "windows.build-too-old", "19044"),
        (
            "Linux version 5.15.90.1-microsoft-standard-WSL2\nMicrosoft Windows "
            "[Version 10.0.22621.900]\n",
            "nvidia.driver-unreachable",
            "WSL",
        ),
    ],
)
def test_facts_the_log_states_explain_the_symptom(facts: str, cause: str, fix: str) -> None:
    """The same nvidia-smi failure: WSL 1, an old kernel and an old Windows build each
    get their own cause; current versions leave the symptom as the cause."""
    got, text = _cause(facts + DRIVER)
    assert got == cause and fix in text


# --- pip -------------------------------------------------------------------------------


def test_no_matching_distribution_says_what_the_release_publishes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    published = {
        "2.6.0": wheels.Release(
            "2.6.0",
            ("3.9", "3.10", "3.11", "3.12", "3.13"),
            ("linux-64", "linux-aarch64", "osx-arm64", "win-64"),
            "https://pypi.org/project/torch/2.6.0/#files",
        )
    }
    monkeypatch.setattr(wheels, "releases", lambda package: published if package == "torch" else {})
    log = (
        "ERROR: Could not find a version that satisfies the requirement torch==2.6.0 "
        "(from versions: 2.0.0, 2.2.2)\n"
        "ERROR: No matching distribution found for torch==2.6.0\n"
        "/Library/Frameworks/Python.framework/Versions/3.11/bin/pip\n"
    )
    result = diagnose_text(log)
    assert result.cause is not None and result.cause.signature.id == "pip.no-wheel"
    assert "macOS arm64" in result.cause.signature.fix
    assert "platform is what differs" in result.cause.signature.meaning
    assert result.cause.signature.sources == ("https://pypi.org/project/torch/2.6.0/#files",)


def test_no_matching_distribution_without_data_uses_what_pip_offered() -> None:
    log = (
        "ERROR: Could not find a version that satisfies the requirement jaxlib~=0.1.75 "
        "(from versions: 0.3.0, 0.3.10)\n"
    )
    got, fix = _cause(log)
    assert got == "pip.no-wheel" and "0.3.0 to 0.3.10" in fix


# --- runtime ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("log", "cause", "fix"),
    [
        (
            "A module that was compiled using NumPy 1.x cannot be run in\nNumPy "
            "2.0.0 as it may crash.\n",
            "numpy.abi",
            "numpy<2",
        ),
        (
            "RuntimeError: module compiled against API version 0x10 but this "
            "version of numpy is 0xf\n",
            "numpy.abi",
            "pip install -U numpy",
        ),
        (
            "- nothing provides __cuda needed by tensorflow-2.10.0-cuda112py310he87a039_0\n",
            "conda.cuda-virtual",
            "CONDA_OVERRIDE_CUDA",
        ),
        (
            "W gpu_device.cc:1956] Cannot dlopen some GPU libraries. Please make "
            "sure the missing libraries mentioned above are installed properly\n",
            "tf.gpu-libs-missing",
            "LD_LIBRARY_PATH",
        ),
        (
            "ImportError: DLL load failed: The specified module could not be found.\n",
            "win.dll-load-failed",
            "Visual C++",
        ),
    ],
)
def test_runtime_families(log: str, cause: str, fix: str) -> None:
    got, text = _cause(log)
    assert got == cause and fix in text


def test_tensorflow_cannot_dlopen_is_a_failure() -> None:
    log = "W gpu_device.cc:1956] Cannot dlopen some GPU libraries. Please make sure\n"
    assert [m.signature.severity for m in diagnose_text(log).matches] == ["fail"]


def test_conda_listing_only_the_machine_s_own_cuda_is_no_cause() -> None:
    log = (
        "UnsatisfiableError: The following specifications were found to be incompatible "
        "with your CUDA driver:\n\n  - feature:/linux-64::__cuda==10.2=0\n\n"
        "Your installed CUDA driver is: 10.2\n"
    )
    assert diagnose_text(log).matches == ()


# --- the streamed scan -----------------------------------------------------------------


def test_line_numbers_survive_chunks_crlf_and_lone_cr() -> None:
    text = "a\r\nb\rprogress 1%\rcannot open shared object file x\r\nz\n" * 50
    numbered = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    expected = [i + 1 for i, line in enumerate(numbered) if "cannot open" in line]
    pre = Prefilter(["cannot open"])
    for chunk in (7, 64, 1 << 20):
        hits = list(scan(io.BytesIO(text.encode()), pre, chunk))
        assert [h.number for h in hits] == expected, chunk
        assert all(h.text.startswith("cannot open") for h in hits)


def test_context_lines_cross_chunk_boundaries() -> None:
    text = (
        "".join(f"line {i}\n" for i in range(20))
        + "HIT\n"
        + "".join(f"after {i}\n" for i in range(6))
    )
    [hit] = list(scan(io.BytesIO(text.encode()), Prefilter(["hit"]), chunk=9))
    assert hit.before == ("line 16", "line 17", "line 18", "line 19")
    assert hit.after == ["after 0", "after 1", "after 2", "after 3"]


def test_an_endless_line_is_cut_so_memory_stays_bounded() -> None:
    data = b"x" * (MAX_LINE * 3) + b" cannot open shared object file\n"
    hits = list(scan(io.BytesIO(data), Prefilter(["cannot open"]), chunk=MAX_LINE // 2))
    assert len(hits) == 1 and len(hits[0].text) <= MAX_LINE * 2


def test_nul_bytes_mean_not_text() -> None:
    with pytest.raises(NotText):
        diagnose(io.BytesIO(b"ok\n" * 10 + b"\x00\x01\x02"))


def test_without_ahocorasick_the_plain_search_finds_the_same_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An environment installed before the dependency was added falls back to one
    bytes.find per anchor; the lines and anchors found must be the same."""
    import sys

    text = (
        "step 1 loss 0.1\r" * 30 + "ImportError: libGL.so.1: cannot open shared object file\n"
    ) * 20
    anchors = ["cannot open shared object file", "libgl", "open"]

    def lines(pre: Prefilter) -> list[tuple[int, set[int]]]:
        return [(h.number, h.anchors) for h in scan(io.BytesIO(text.encode()), pre, chunk=333)]

    fast = Prefilter(anchors)
    monkeypatch.setitem(sys.modules, "ahocorasick_rs", None)  # import now fails
    plain = Prefilter(anchors)
    assert fast._ac is not None and plain._ac is None
    assert lines(plain) == lines(fast) and len(lines(fast)) == 20
