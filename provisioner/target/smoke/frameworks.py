"""The framework paths: TensorFlow in graph mode and PyTorch (CUDA, CPU, DirectML).

Each path imports its framework, lists the devices of the requested kind, proves a
tensor round trip, and trains the workload, returning what the stages judge."""

from __future__ import annotations

import math
import os
import re
from typing import Any

from provisioner.target.smoke.decisions import (
    Device,
    Placement,
    parse_dml_log,
    parse_placement_log,
)
from provisioner.target.smoke.plumbing import (
    StageFailed,
    StderrTee,
    dist_version,
    timed_loop,
    training_run,
)
from provisioner.target.smoke.profile import DEVICE, DISTRIBUTIONS
from provisioner.target.smoke.workload import (
    BATCH,
    DML_FALLBACK_RE,
    FEATURES,
    LEARNING_RATE,
    NOISE,
    OUTPUTS,
    SEED,
)


class TensorFlowGraph:
    """TF 1.15 graph mode through ``tensorflow.compat.v1``: the same code runs on
    tensorflow-directml 1.15, TF 2 with CUDA, the TF 2 DirectML plugin and TF 2's CPU build."""

    device_types = ("DML", "GPU")
    tf: Any
    tf1: Any

    def __init__(self, tee: StderrTee) -> None:
        self.tee = tee
        self.no_device_reason = "TensorFlow lists no DML or GPU device"
        self.adapters: list[dict[str, Any]] = []
        self.device_libraries: dict[str, str] = {}

    def import_framework(self) -> tuple[str, dict[str, str]]:
        # Placement and DirectML adapter lines are INFO logs: keep them.
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        import tensorflow as tf

        self.tf = tf
        self.tf1 = tf.compat.v1
        self.tf1.disable_eager_execution()
        libs = {}
        try:
            info = tf.sysconfig.get_build_info()
            for key in ("cuda_version", "cudnn_version"):
                if info.get(key):
                    libs[key.replace("_version", "")] = str(info[key])
        except Exception:
            pass
        for dist in DISTRIBUTIONS:
            version = dist_version(dist)
            if version:
                libs[dist] = version
        directml = self.directml_library()
        if directml:
            libs["directml"] = directml
        return str(tf.__version__), libs

    def directml_library(self) -> str | None:
        """The DirectML library shipped with the package (its file name carries its build)."""
        roots = [os.path.dirname(os.path.dirname(self.tf.__file__))]
        found: list[str] = []
        for root in roots:
            for folder in ("tensorflow_core", "tensorflow", "tensorflow-plugins"):
                path = os.path.join(root, folder)
                if os.path.isdir(path):
                    found.extend(
                        n
                        for n in os.listdir(path)
                        if re.match(r"(lib)?directml.*\.(so|dll)$", n, re.I)
                    )
        return sorted(found)[0] if found else None

    def config(self, log_placement: bool) -> Any:
        config = self.tf1.ConfigProto(log_device_placement=log_placement, allow_soft_placement=True)
        config.gpu_options.allow_growth = True
        return config

    def list_devices(self, requested: str) -> list[Device]:
        from tensorflow.python.client import device_lib

        mark = len(self.tee.text())
        local = device_lib.list_local_devices(self.config(False))
        dml = parse_dml_log(self.tee.text()[mark:])
        names = {a["index"]: a["name"] for a in dml["adapters"]}
        devices = []
        for d in local:
            if d.device_type not in self.device_types:
                continue
            index = int(d.name.rsplit(":", 1)[1])
            m = re.search(r"name: ([^,]+)", d.physical_device_desc or "")
            name = names.get(index) or (
                m.group(1).strip() if m else d.physical_device_desc or d.name
            )
            devices.append(
                {
                    "index": index,
                    "name": name,
                    "kind": requested,
                    "id": "/device:%s:%d" % (d.device_type, index),
                }
            )
        self.adapters = dml["adapters"] or [dict(d) for d in devices]
        if dml["found"] is not None:
            self.no_device_reason = (
                "DirectML device enumeration: found %d compatible adapters" % dml["found"]
            )
        elif requested == "cuda":
            self.no_device_reason = "TensorFlow lists no GPU device (CUDA %s)" % (
                "build" if self.tf.test.is_built_with_cuda() else "not in this build"
            )
        return devices

    def round_trip(self, device: Device | None) -> str | None:
        return None  # the first loss is checked against the known answer instead

    def train(self, device: Device | None, steps: int, capture_placement: bool) -> dict[str, Any]:
        import numpy as np

        tf1 = self.tf1
        rng = np.random.RandomState(SEED)
        x = rng.standard_normal((BATCH, FEATURES)).astype(np.float32)
        w_true = (rng.standard_normal((FEATURES, OUTPUTS)) / math.sqrt(FEATURES)).astype(np.float32)
        y = (x.dot(w_true) + NOISE * rng.standard_normal((BATCH, OUTPUTS))).astype(np.float32)
        expected_first = float(np.mean(np.sum(y.astype(np.float64) ** 2, axis=1)))
        graph = tf1.Graph()
        with graph.as_default():
            tf1.set_random_seed(SEED)
            with tf1.device(device["id"] if device else "/device:CPU:0"):
                xt = tf1.constant(x, name="x")
                yt = tf1.constant(y, name="y")
                w = tf1.Variable(tf1.zeros([FEATURES, OUTPUTS]), name="w")
                loss = tf1.reduce_mean(tf1.reduce_sum(tf1.square(tf1.matmul(xt, w) - yt), axis=1))
                train_op = tf1.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss)
            init = tf1.global_variables_initializer()
        mark = len(self.tee.text()) if capture_placement else 0
        session = tf1.Session(graph=graph, config=self.config(capture_placement))
        try:
            session.run(init)

            def step(fetch: bool) -> float | None:
                if fetch:
                    return float(session.run([loss, train_op])[0])
                session.run(train_op)
                return None

            timing = timed_loop(step, lambda: None, steps)
            w_final = session.run(w)
        finally:
            session.close()
        log = self.tee.text()[mark:] if capture_placement else ""
        error = float(np.linalg.norm(w_final - w_true) / np.linalg.norm(w_true))
        return training_run(timing, expected_first, error, parse_placement_log(log), [])


class TorchEager:
    """PyTorch on CUDA or the CPU, and torch-directml (the ``privateuseone`` device)."""

    torch: Any

    def __init__(self, tee: StderrTee) -> None:
        self.tee = tee
        self.no_device_reason = "no device"
        self.adapters: list[dict[str, Any]] = []
        self.directml: Any = None
        self.device_libraries: dict[str, str] = {}

    def import_framework(self) -> tuple[str, dict[str, str]]:
        import torch

        self.torch = torch
        libs = {}
        if getattr(torch.version, "cuda", None):
            libs["cuda"] = str(torch.version.cuda)
        if "torch-directml" in DISTRIBUTIONS or DEVICE == "dml":
            import torch_directml

            self.directml = torch_directml
            libs["torch-directml"] = dist_version("torch-directml") or str(
                getattr(torch_directml, "__version__", "?")
            )
        return str(torch.__version__), libs

    def list_devices(self, requested: str) -> list[Device]:
        torch = self.torch
        devices: list[Device] = []
        if requested == "cuda":
            if not torch.cuda.is_available():
                self.no_device_reason = "torch.cuda.is_available() is False (torch %s, CUDA %s)" % (
                    torch.__version__,
                    torch.version.cuda or "not in this build",
                )
                return []
            for i in range(torch.cuda.device_count()):
                name = torch.cuda.get_device_name(i)
                devices.append({"index": i, "name": name, "kind": "cuda", "id": "cuda:%d" % i})
            try:
                cudnn = torch.backends.cudnn.version()
            except Exception:
                cudnn = None
            if cudnn:
                self.device_libraries["cudnn"] = str(cudnn)
        elif requested == "dml":
            dml = self.directml
            if dml is None:
                self.no_device_reason = (
                    "torch-directml is not installed (stock torch has no dml device)"
                )
                return []
            if not dml.is_available():
                self.no_device_reason = "torch_directml.is_available() is False"
                return []
            for i in range(dml.device_count()):
                name = dml.device_name(i)
                devices.append({"index": i, "name": name, "kind": "dml", "id": str(dml.device(i))})
            if not devices:
                self.no_device_reason = "torch_directml.device_count() is 0"
        self.adapters = [dict(d) for d in devices]
        return devices

    def device_object(self, device: Device | None) -> Any:
        if device is None:
            return self.torch.device("cpu")
        if device["kind"] == "dml":
            return self.directml.device(device["index"])
        return self.torch.device("cuda", device["index"])

    def sync(self, dev: Any, tensor: Any) -> None:
        if dev.type == "cuda":
            self.torch.cuda.synchronize(dev)
        elif dev.type != "cpu":
            tensor.detach().sum().item()  # reading a value waits for the device's queue

    def data(self) -> tuple[Any, Any, Any]:
        torch = self.torch
        g = torch.Generator().manual_seed(SEED)
        x = torch.randn(BATCH, FEATURES, generator=g)
        w_true = torch.randn(FEATURES, OUTPUTS, generator=g) / math.sqrt(FEATURES)
        y = x.matmul(w_true) + NOISE * torch.randn(BATCH, OUTPUTS, generator=g)
        return x, w_true, y

    def round_trip(self, device: Device | None) -> str | None:
        """Move a tensor to the device, compute, bring it back: is_available() is not proof."""
        torch = self.torch
        dev = self.device_object(device)
        x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
        back = (x.to(dev) * 2 + 1).to("cpu")
        if not torch.equal(back, x * 2 + 1):
            raise StageFailed("a tensor moved to %s and back came back wrong" % dev)
        return str(dev)

    def train(self, device: Device | None, steps: int, capture_placement: bool) -> dict[str, Any]:
        torch = self.torch
        dev = self.device_object(device)
        torch.manual_seed(SEED)
        x, w_true, y = self.data()
        expected_first = float((y.double() ** 2).sum(1).mean())
        xd, yd = x.to(dev), y.to(dev)
        w = torch.zeros(FEATURES, OUTPUTS, device=dev, requires_grad=True)
        optimizer = torch.optim.SGD([w], lr=LEARNING_RATE)
        seen: dict[str, Any] = {}
        mark = len(self.tee.text()) if capture_placement else 0

        def step(fetch: bool) -> float | None:
            optimizer.zero_grad()
            pred = xd.matmul(w)
            loss = ((pred - yd) ** 2).sum(1).mean()
            loss.backward()
            optimizer.step()
            if fetch:
                seen["pred"], seen["loss"] = pred, loss
                return float(loss.item())
            return None

        timing = timed_loop(step, lambda: self.sync(dev, w), steps)
        placed: list[Placement] = []
        fallback: list[str] = []
        if capture_placement:
            for name, kind, tensor in (
                ("pred = x @ w", "MatMul", seen["pred"]),
                ("w after the SGD step", "ApplyGradientDescent", w),
                ("loss", "Mean", seen["loss"]),
            ):
                device_type = placement_type(tensor.device.type)
                placed.append((name, kind, device_type, tensor.device.index or 0))
            fallback = sorted(set(DML_FALLBACK_RE.findall(self.tee.text()[mark:])))
        w_final = w.detach().to("cpu")
        error = float((w_final - w_true).norm() / w_true.norm())
        return training_run(timing, expected_first, error, placed, fallback)


def placement_type(torch_type: str) -> str:
    """torch device types in the placement vocabulary (TF's device types)."""
    return {"cpu": "CPU", "cuda": "GPU", "privateuseone": "DML"}.get(torch_type, torch_type.upper())


# The drivers by the name the framework table gives them (provisioner/frameworks.py).
DRIVERS: dict[str, type[TensorFlowGraph] | type[TorchEager]] = {
    "tf-graph": TensorFlowGraph,
    "torch-eager": TorchEager,
}
