#!/usr/bin/env python3
"""Derive the ImageNet-1k class hierarchy from WordNet 3.0.

Writes ``models/data/imagenet_hierarchy.json``: for each of the 1000
ImageNet-1k classes, its primary hypernym chain up to ``entity``, plus every
WordNet noun synset reachable upwards from those classes (lemmas, parents,
gloss). Python 3.11 standard library only.

Usage::

    python3 scripts/imagenet_hierarchy.py \\
        --synsets /tmp/timm/timm/data/_info/imagenet_synsets.txt \\
        --lemmas /tmp/timm/timm/data/_info/imagenet_synset_to_lemma.txt \\
        --wordnet-data-noun /usr/share/wordnet/data.noun \\
        --wordnet-version "$(dpkg-query -W -f='${Version}' wordnet-base)" \\
        --out models/data/imagenet_hierarchy.json

Inputs
------
``--synsets``: timm's ``timm/data/_info/imagenet_synsets.txt`` (inside the
timm wheel): exactly 1000 WordNet ids (``n`` + 8 digits), one per line, in
class-index order.

``--lemmas``: timm's ``timm/data/_info/imagenet_synset_to_lemma.txt``:
``wnid<TAB>lemma, lemma, ...`` for ~21k synsets. A class's display ``name``
is the first lemma (the text before the first ``", "``).

``--wordnet-data-noun``: WordNet 3.0 ``data.noun`` (Debian package
``wordnet-base``: ``/usr/share/wordnet/data.noun``). A wnid ``nXXXXXXXX`` is
the noun synset whose 8-digit ``synset_offset`` is ``XXXXXXXX`` (the offset is
also the byte position of its line in the file). Lines starting with two
spaces are the licence header and are skipped. Every other line is::

    synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id...]
        p_cnt [pointer_symbol synset_offset pos source/target...] | gloss

* ``w_cnt`` is a 2-digit hexadecimal count of (word, lex_id) pairs; words
  use ``_`` for spaces and may carry a syntactic marker such as ``(a)``,
  ``(p)`` or ``(ip)`` (adjectives only in practice), which is stripped;
* ``p_cnt`` is a 3-digit decimal count of 4-field pointers;
  ``@`` is a hypernym and ``@i`` an instance hypernym: both are followed
  (noun targets only) to go upwards; every other pointer is ignored;
* the gloss follows ``" | "`` (definition, then ``; "examples"``).

Output (JSON, ``indent=1``, deterministic, trailing newline)
------------------------------------------------------------
::

    {
     "format": 1,
     "source": {"wordnet": "WordNet 3.0 data.noun from Debian wordnet-base V",
                "classes": "timm 1.0.31 timm/data/_info/imagenet_synsets.txt"},
     "classes": [
      {"index": 0, "wnid": "n01440764", "name": "tench",
       "chain": ["n01439121", ..., "n00001740"]},
      ...                                   # all 1000, in index order
     ],
     "synsets": {
      "n01440764": {"lemmas": ["tench", "Tinca tinca"],
                    "parents": ["n01439121"], "gloss": "..."},
      ...                                   # sorted by wnid
     }
    }

* ``chain``: the primary hypernym chain, from the class's direct parent up to
  the root ``n00001740`` (entity), taking the FIRST hypernym / instance
  hypernym pointer (in data.noun order) at each step. The class itself is not
  in its chain.
* ``synsets``: the 1000 classes and ALL their ancestors through all hypernym
  and instance hypernym pointers. ``lemmas`` come from data.noun
  (underscores turned into spaces, markers stripped), ``parents`` are all
  hypernym + instance hypernym wnids in data.noun order (empty for the
  root), ``gloss`` is the trimmed gloss. If the file would exceed
  ``MAX_BYTES``, every gloss is cut to its first clause (text before ``;``).

Bad input (wrong class count, duplicate or malformed wnids, a wnid missing
from data.noun or from the lemma file, a chain that does not reach entity)
exits with status 1 and a message on stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = "n00001740"  # entity
NUM_CLASSES = 1000
MAX_BYTES = 400 * 1024
HYPERNYM_POINTERS = ("@", "@i")
WNID_RE = re.compile(r"^n[0-9]{8}$")
MARKER_RE = re.compile(r"\((?:a|p|ip)\)$")


class InputError(Exception):
    """Bad input: reported on stderr, exit status 1."""


class Synset:
    __slots__ = ("wnid", "lemmas", "parents", "gloss")

    def __init__(self, wnid: str, lemmas: list[str], parents: list[str], gloss: str):
        self.wnid = wnid
        self.lemmas = lemmas
        self.parents = parents
        self.gloss = gloss


def read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e}") from e
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not UTF-8: {e}") from e


def load_data_noun(path: Path) -> dict[str, str]:
    """Map wnid -> raw data.noun line (parsed lazily: only ~2k are needed)."""
    lines: dict[str, str] = {}
    saw_wn30 = False
    for lineno, line in enumerate(read_lines(path), 1):
        if line.startswith("  "):
            saw_wn30 = saw_wn30 or "WordNet 3.0" in line
            continue
        if not line.strip():
            continue
        offset = line[:8]
        if len(offset) != 8 or not offset.isdigit() or line[8:9] != " ":
            raise InputError(f"{path}:{lineno}: line does not start with an 8-digit synset offset")
        lines["n" + offset] = line
    if not lines:
        raise InputError(f"{path}: no synset lines found; is this WordNet data.noun?")
    if not saw_wn30:
        raise InputError(f"{path}: licence header does not name WordNet 3.0")
    if ROOT not in lines:
        raise InputError(f"{path}: root synset {ROOT} (entity) not found")
    return lines


def parse_synset(wnid: str, line: str, path: Path) -> Synset:
    head, sep, gloss = line.partition(" | ")
    if not sep:
        raise InputError(f"{path}: synset {wnid}: no ' | ' gloss separator")
    fields = head.split()
    try:
        if fields[2] != "n":
            raise InputError(f"{path}: synset {wnid}: ss_type {fields[2]!r}, expected 'n'")
        w_cnt = int(fields[3], 16)
        words = fields[4 : 4 + 2 * w_cnt : 2]
        p_cnt = int(fields[4 + 2 * w_cnt])
        pointers = fields[5 + 2 * w_cnt :]
    except (IndexError, ValueError) as e:
        raise InputError(f"{path}: synset {wnid}: malformed line ({e})") from e
    if len(words) != w_cnt or len(pointers) != 4 * p_cnt:
        raise InputError(
            f"{path}: synset {wnid}: expected {w_cnt} words and {p_cnt} pointers, "
            f"got {len(words)} words and {len(pointers) / 4:g} pointers"
        )
    lemmas = [MARKER_RE.sub("", w).replace("_", " ") for w in words]
    parents: list[str] = []
    for i in range(0, len(pointers), 4):
        symbol, offset, pos = pointers[i], pointers[i + 1], pointers[i + 2]
        if symbol in HYPERNYM_POINTERS and pos == "n":
            parent = "n" + offset
            if parent not in parents:
                parents.append(parent)
    return Synset(wnid, lemmas, parents, " ".join(gloss.split()))


def load_class_wnids(path: Path) -> list[str]:
    wnids = [line.strip() for line in read_lines(path) if line.strip()]
    bad = [w for w in wnids if not WNID_RE.match(w)]
    if bad:
        raise InputError(f"{path}: malformed wnids (want n + 8 digits): {bad[:5]}")
    if len(wnids) != NUM_CLASSES:
        raise InputError(f"{path}: {len(wnids)} classes, expected {NUM_CLASSES}")
    seen: set[str] = set()
    dups = sorted({w for w in wnids if w in seen or seen.add(w)})
    if dups:
        raise InputError(f"{path}: duplicate wnids: {dups[:10]}")
    return wnids


def load_display_names(path: Path) -> dict[str, str]:
    names: dict[str, str] = {}
    for lineno, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        wnid, tab, lemmas = line.partition("\t")
        wnid = wnid.strip()
        if not tab or not WNID_RE.match(wnid):
            raise InputError(f"{path}:{lineno}: expected 'wnid<TAB>lemmas'")
        name = lemmas.split(", ")[0].strip()
        if not name:
            raise InputError(f"{path}:{lineno}: empty lemma for {wnid}")
        if wnid in names:
            raise InputError(f"{path}:{lineno}: duplicate wnid {wnid}")
        names[wnid] = name
    return names


def build(args: argparse.Namespace) -> dict:
    class_wnids = load_class_wnids(args.synsets)
    names = load_display_names(args.lemmas)
    raw = load_data_noun(args.wordnet_data_noun)

    missing = [w for w in class_wnids if w not in raw]
    if missing:
        raise InputError(f"{args.wordnet_data_noun}: class wnids not found: {missing[:10]}")
    no_name = [w for w in class_wnids if w not in names]
    if no_name:
        raise InputError(f"{args.lemmas}: no lemma for class wnids: {no_name[:10]}")

    synsets: dict[str, Synset] = {}

    def get(wnid: str, child: str | None) -> Synset:
        if wnid not in synsets:
            if wnid not in raw:
                raise InputError(
                    f"{args.wordnet_data_noun}: synset {wnid} (hypernym of {child}) not found"
                )
            synsets[wnid] = parse_synset(wnid, raw[wnid], args.wordnet_data_noun)
        return synsets[wnid]

    # All ancestors via all hypernym pointers.
    stack = list(class_wnids)
    for w in stack:
        get(w, None)
    while stack:
        s = synsets[stack.pop()]
        for p in s.parents:
            if p not in synsets:
                get(p, s.wnid)
                stack.append(p)

    classes = []
    for index, wnid in enumerate(class_wnids):
        chain: list[str] = []
        cur = synsets[wnid]
        while cur.parents:
            nxt = cur.parents[0]
            if nxt == wnid or nxt in chain:
                raise InputError(f"hypernym cycle in chain of {wnid} at {nxt}")
            chain.append(nxt)
            cur = synsets[nxt]
        if not chain or chain[-1] != ROOT:
            raise InputError(f"chain of class {index} {wnid} ends at {cur.wnid}, not {ROOT}")
        classes.append({"index": index, "wnid": wnid, "name": names[wnid], "chain": chain})

    return {
        "format": 1,
        "source": {
            "wordnet": f"WordNet 3.0 data.noun from Debian wordnet-base {args.wordnet_version}",
            "classes": f"timm {args.timm_version} timm/data/_info/imagenet_synsets.txt",
        },
        "classes": classes,
        "synsets": synsets,
    }


def render(doc: dict, short_glosses: bool) -> str:
    def gloss(g: str) -> str:
        return g.split(";", 1)[0].strip() if short_glosses else g

    out = dict(doc)
    out["synsets"] = {
        w: {"lemmas": s.lemmas, "parents": s.parents, "gloss": gloss(s.gloss)}
        for w, s in sorted(doc["synsets"].items())
    }
    return json.dumps(out, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--synsets", type=Path, required=True, help="timm imagenet_synsets.txt")
    ap.add_argument("--lemmas", type=Path, required=True, help="timm imagenet_synset_to_lemma.txt")
    ap.add_argument("--wordnet-data-noun", type=Path, required=True, help="WordNet 3.0 data.noun")
    ap.add_argument("--wordnet-version", required=True, help="Debian wordnet-base package version")
    ap.add_argument("--timm-version", default="1.0.31", help="timm version the class list came from")
    ap.add_argument("--out", type=Path, required=True, help="output JSON path")
    args = ap.parse_args(argv)
    if not args.wordnet_version.strip():
        ap.error("--wordnet-version must not be empty")

    try:
        doc = build(args)
    except InputError as e:
        print(f"imagenet_hierarchy: error: {e}", file=sys.stderr)
        return 1

    text = render(doc, short_glosses=False)
    short = len(text.encode("utf-8")) > MAX_BYTES
    if short:
        text = render(doc, short_glosses=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    size = len(text.encode("utf-8"))
    print(
        f"wrote {args.out}: {len(doc['classes'])} classes, {len(doc['synsets'])} synsets, "
        f"{size} bytes" + (" (glosses cut to first clause)" if short else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
