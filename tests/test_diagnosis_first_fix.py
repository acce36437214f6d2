"""A fix leads with what the log's own facts point to.

Each test changes one fact of a line shaped like the real captures (tests/data/corpus)
and checks that the start of the fix follows it: the soname's CUDA and the wheel that
ships it, the Python the log shows against the release it pins, the CUDA version the
driver reports, the framework a library belongs to.
"""

from __future__ import annotations

import pytest

from provisioner.diagnosis import diagnose_text, wheels
from provisioner.signatures import Signature

RELEASES = {
    "1.13.1": wheels.Release(
        "1.13.1",
        ("3.7", "3.8", "3.9", "3.10", "3.11"),
        ("linux-64", "win-64"),
        "https://pypi.org/project/torch/1.13.1/#files",
        {"win-64": ("3.7", "3.8", "3.9", "3.10")},
    )
}


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """A release the compatibility data does not know: only the log's facts remain."""
    monkeypatch.setattr(wheels, "releases", lambda package: {})


@pytest.fixture
def torch_1_13_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wheels, "releases", lambda p: RELEASES if p == "torch" else {})


def _cause(text: str) -> Signature:
    cause = diagnose_text(text).cause
    assert cause is not None, text
    return cause.signature


def _so(lib: str) -> str:
    return f"ImportError: {lib}: cannot open shared object file: No such file or directory\n"


# --- pip -------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_data")
def test_a_quote_around_the_requirement_is_not_part_of_it() -> None:
    """A post that quotes the message: `tensorflow==1.15.3"` is not the requirement."""
    sig = _cause('"Could not find a version that satisfies the requirement tensorflow==1.15.3"\n')
    assert sig.id == "pip.no-wheel"
    assert "'tensorflow==1.15.3'" in sig.fix and '1.15.3"' not in sig.fix


PINNED = (
    "ERROR: Could not find a version that satisfies the requirement torch==1.13.1+cu117 "
    "(from versions: 2.0.0, 2.0.0+cu117)\n"
    "ERROR: No matching distribution found for torch==1.13.1+cu117\n"
)


@pytest.mark.parametrize(
    ("python", "start"),
    [
        (
            "Python 3.11.2 (tags/v3.11.2:878ead1) [MSC v.1934 64 bit (AMD64)]\n",
            "Use Python 3.10 or older for torch 1.13.1",
        ),
        ("Python 3.9.7 (default)\n", "Use Python 3.8 or older for torch 1.13.1"),
        ("", "Use torch 2.0.0 or newer"),
    ],
)
@pytest.mark.usefixtures("no_data")
def test_a_pin_older_than_everything_pip_offers_predates_this_python(
    python: str, start: str
) -> None:
    """The Python the log shows says which older one the pin needs; without it, the
    release pip does offer is the concrete suggestion."""
    sig = _cause(python + PINNED)
    assert sig.id == "pip.no-wheel" and sig.fix.startswith(start), sig.fix


@pytest.mark.usefixtures("no_data")
def test_a_pin_newer_than_something_pip_offers_is_not_called_too_old() -> None:
    sig = _cause(
        "ERROR: Could not find a version that satisfies the requirement jaxlib==0.3.5 "
        "(from versions: 0.3.0, 0.3.10)\n"
    )
    assert "predates" not in sig.meaning


@pytest.mark.usefixtures("torch_1_13_1")
@pytest.mark.parametrize(
    ("python", "start"),
    [
        # Windows: 1.13.1 has no 3.11 wheel there, so the nearest published Python
        ("Python 3.11.2 (tags/v3.11.2:878ead1) [MSC v.1934 64 bit (AMD64)]\n", "Use Python 3.10 "),
        # Linux: 3.11 is published there, so the platform is not it either: another release
        ('  File "/usr/lib/python3.11/site-packages/pip/x.py"\nPython 3.11.4\n', "Use one of"),
        ("Python 3.12.1 (tags/v3.12.1) [MSC v.1937 64 bit (AMD64)]\n", "Use Python 3.10 "),
    ],
)
def test_a_known_release_is_read_for_the_log_s_platform(python: str, start: str) -> None:
    """torch 1.13.1 publishes CPython 3.11 for Linux x86_64 only (``pythons_on``)."""
    sig = _cause(python + PINNED)
    assert sig.fix.startswith(start), sig.fix


@pytest.mark.usefixtures("torch_1_13_1")
def test_a_known_release_without_the_log_s_python_leads_with_what_pip_offers() -> None:
    sig = _cause(PINNED)
    assert sig.fix.startswith("Use torch 2.0.0 or newer"), sig.fix
    assert "CPython 3.7, 3.8, 3.9, 3.10, 3.11" in sig.fix


# --- libraries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lib", "wants", "not_wanted"),
    [
        ("libcusolver.so.11", ["nvidia-cusolver-cu11", "nvidia-cusolver-cu12"], []),
        ("libcublasLt.so.12", ["nvidia-cublas-cu12"], ["-cu11"]),
        ("libcufft.so.12", ["`nvidia-cufft`"], ["-cu1"]),  # cuFFT 12 is CUDA 13: no suffix
        ("libcudart.so.10.0", ["CUDA 10.0 toolkit"], ["pip:"]),  # CUDA 10 has no wheels
        ("libcusolver.so.10", ["toolkit"], ["pip:"]),  # CUDA 10.1-11.0: before the wheels
    ],
)
def test_a_cuda_library_names_the_wheel_that_ships_it(
    lib: str, wants: list[str], not_wanted: list[str]
) -> None:
    sig = _cause(_so(lib))
    first = sig.fix.split(";")[0]
    assert sig.id == "lib.cuda-runtime"
    assert all(w in first for w in wants), first
    assert not any(n in first for n in not_wanted), first


def test_a_dll_gets_the_windows_fix_without_a_target() -> None:
    sig = _cause(
        "Could not load dynamic library 'cudart64_101.dll'; dlerror: cudart64_101.dll not found\n"
    )
    assert sig.fix.startswith("Install CUDA 10.1") and "bin folder on PATH" in sig.fix
    assert "LD_LIBRARY_PATH" not in sig.fix
    linux = _cause(_so("libcudart.so.10.1"))
    assert "LD_LIBRARY_PATH" in linux.fix and "bin folder on PATH" not in linux.fix


@pytest.mark.parametrize(
    ("lib", "start"),
    [
        ("libtorch_cuda.so", "Reinstall torch "),
        ("libtensorflow_framework.so.2", "Reinstall tensorflow "),
    ],
)
def test_a_framework_library_names_its_framework(lib: str, start: str) -> None:
    sig = _cause(_so(lib))
    assert sig.id == "lib.framework" and sig.fix.startswith(start), sig.fix


def test_tensorrt_is_optional_and_its_version_is_the_soname_s() -> None:
    sig = _cause(
        "I dso_loader.cc:70] Could not load dynamic library 'libnvinfer.so.8.6.1'; dlerror: "
        "libnvinfer.so.8.6.1: cannot open shared object file: No such file or directory\n"
    )
    assert sig.severity == "benign" and sig.fix.startswith("Nothing to do")
    assert "TensorRT 8.6.1" in sig.fix


def test_a_missing_wsl_gpu_library_leads_with_wsl_update() -> None:
    sig = _cause(_so("libd3d12.so"))
    assert sig.fix_for("wsl2").startswith("Run `wsl --update`")
    assert "19044" in sig.fix_for("wsl2")


# --- the driver ------------------------------------------------------------------------

TOO_OLD = (
    "RuntimeError: The NVIDIA driver on your system is too old (found version {n}). Please "
    "update your GPU driver by downloading and installing a new version from the URL: "
    "http://www.nvidia.com/Download/index.aspx\n"
)


@pytest.mark.parametrize(
    ("n", "cuda", "floors", "not_floors"),
    [
        ("10010", "10.1", ["450.80.02+", "525.60.13+", "580+"], []),
        ("11040", "11.4", ["525.60.13+", "580+"], ["450.80.02"]),
        ("12080", "12.8", ["580+"], ["525.60.13"]),
    ],
)
def test_the_driver_s_cuda_version_is_read_from_the_log(
    n: str, cuda: str, floors: list[str], not_floors: list[str]
) -> None:
    result = diagnose_text(TOO_OLD.format(n=n))
    ids = [m.signature.id for m in result.matches]
    assert ids == ["cuda.insufficient-driver"]  # the catalogue entry gives way to the fact
    assert result.cause is not None
    sig = result.cause.signature
    linux = sig.fix_for("linux")
    assert linux.startswith(f"Update the NVIDIA driver: it supports CUDA {cuda} at most")
    assert all(f in linux for f in floors) and not any(f in linux for f in not_floors)
    assert "527.41" not in linux
    assert sig.fix_for("wsl2").startswith("Update the NVIDIA driver in Windows")


def test_a_driver_message_without_a_version_keeps_the_catalogue_fix() -> None:
    sig = _cause("CUDA driver version is insufficient for CUDA runtime version\n")
    assert sig.id == "cuda.insufficient-driver" and "at most" not in sig.fix


# --- TensorFlow ------------------------------------------------------------------------


def test_tensorflow_s_missing_gpu_libraries_get_the_target_s_path() -> None:
    sig = _cause(
        "W gpu_device.cc:1956] Cannot dlopen some GPU libraries. Please make sure the "
        "missing libraries mentioned above are installed properly\n"
    )
    assert "LD_LIBRARY_PATH" in sig.fix_for("linux").split(";")[0]
    windows = sig.fix_for("windows")
    assert "PATH" in windows and "2.10" in windows and "LD_LIBRARY_PATH" not in windows


# --- the TensorFlow version a log states ------------------------------------------------

CUDART_110 = (
    "W dso_loader.cc:64] Could not load dynamic library 'cudart64_110.dll'; dlerror: "
    "cudart64_110.dll not found\n"
)


@pytest.mark.parametrize(
    ("stated", "start"),
    [
        ("TensorFlow version: 2.9.1\n", "Install CUDA 11.2 "),
        ("tensorflow==2.4.0\n", "Install CUDA 11.0 "),
        ("", "Install CUDA 11.x "),  # no version stated: what the soname says
        ("TensorFlow version: 2.1.0\n", "Install CUDA 11.x "),  # 2.1 is CUDA 10.1: not this
    ],
)
def test_the_tensorflow_version_a_log_states_names_its_tested_cuda(stated: str, start: str) -> None:
    sig = _cause(CUDART_110 + stated)
    assert sig.id == "lib.cuda-runtime" and sig.fix.startswith(start), sig.fix


def test_the_tensorflow_version_a_log_states_names_its_tested_cudnn() -> None:
    sig = _cause(
        "tensorflow-gpu==2.4.1\nCould not load dynamic library 'cudnn64_8.dll'; dlerror: "
        "cudnn64_8.dll not found\n"
    )
    assert sig.id == "lib.cudnn" and sig.fix.startswith("Install cuDNN 8.0 "), sig.fix
    assert "https://www.tensorflow.org/install/source#gpu" in " ".join(sig.sources)


# --- conda's __cuda, against the driver the log shows ----------------------------------

NOTHING_PROVIDES = (
    "Could not solve for environment specs\n"
    "- nothing provides __cuda needed by tensorflow-2.10.0-cuda112py310he87a039_0\n"
)


@pytest.mark.parametrize(
    ("smi", "start"),
    [
        ("Driver Version : 527.56\nCUDA Version : 12.0\n", "Set CONDA_OVERRIDE_CUDA=12.0 "),
        ("| NVIDIA-SMI 460.32   Driver Version: 460.32   CUDA Version: 11.2 |\n", "Set CONDA"),
        (
            "| NVIDIA-SMI 418.67   Driver Version: 418.67   CUDA Version: 10.1 |\n",
            "Update the NVIDIA driver to one that supports CUDA 11.2",
        ),
        ("", "Update the NVIDIA driver if it is too old"),  # the log shows no driver
    ],
)
def test_conda_s_missing_cuda_is_read_against_the_driver_the_log_shows(
    smi: str, start: str
) -> None:
    sig = _cause(smi + NOTHING_PROVIDES)
    assert sig.id == "conda.cuda-virtual" and sig.fix.startswith(start), sig.fix
