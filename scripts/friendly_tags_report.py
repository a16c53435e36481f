#!/usr/bin/env python3
"""Validate models/data/friendly_tags.toml and regenerate docs/FRIENDLY_TAGS.md.

The friendly-tag map turns the classifier's 1000 ImageNet classes into a small
business vocabulary through the WordNet hierarchy in
models/data/imagenet_hierarchy.json. A tag covers a class when the class's
ancestor set (its own synset plus every transitive parent, following all
parents) contains one of the tag's `synsets` and none of its `exclude`
synsets; its score is the summed probability of the classes it covers. This
script applies exactly that rule (the same one models/src/friendly.rs uses) and
writes, for reviewers:

- per tag: its names (the Simplified Chinese `zh` name and the aliases in both
  languages), its synsets and exclusions with lemmas, and every class it covers;
- the classes that no tag covers, and the coverage;
- simulated tag scores for a few probability distributions (the sample photos'
  classifier output and some hypothetical ones).

Usage:
    python3 scripts/friendly_tags_report.py            # validate, write the report
    python3 scripts/friendly_tags_report.py --check    # validate, fail if the report is stale

Python 3.11+ standard library only. Exits 1 on a validation error (all errors
are listed) or, with --check, when docs/FRIENDLY_TAGS.md is out of date.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HIERARCHY = ROOT / "models/data/imagenet_hierarchy.json"
TAGS = ROOT / "models/data/friendly_tags.toml"
REPORT = ROOT / "docs/FRIENDLY_TAGS.md"

# Same rule as models/src/friendly.rs `valid_tag_name`.
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
WNID_RE = re.compile(r"^n[0-9]{8}$")
TOP_KEYS = {"format", "default_threshold", "tag"}
TAG_KEYS = {"synsets", "exclude", "threshold", "description", "zh", "zh_aliases", "en_aliases"}

# Simulated distributions: {class index: probability}. The first five are the
# top-10 softmax output of EfficientNet-Lite0 (.imgtag/models/
# efficientnet-lite0-imagenet1k.onnx, preprocessing as in
# shared/facts/MODELS.md) on the sample photos of scripts/samples.toml; the
# rest are hypothetical. Probability not listed is spread over other classes
# and counts for no tag.
SIMULATIONS: list[tuple[str, dict[int, float]]] = [
    ("chelsea.png (cat), measured", {
        282: 0.386, 285: 0.356, 281: 0.169, 287: 0.019, 904: 0.001,
        728: 0.001, 335: 0.001, 284: 0.001, 567: 0.001, 782: 0.001}),
    ("coffee.png, measured", {
        967: 0.951, 968: 0.015, 925: 0.008, 960: 0.004, 504: 0.003,
        809: 0.002, 868: 0.001, 969: 0.001}),
    ("motorcycle_left.png, measured", {
        665: 0.475, 670: 0.163, 535: 0.063, 518: 0.053, 671: 0.010,
        866: 0.005, 479: 0.004, 865: 0.003, 444: 0.002, 870: 0.002}),
    ("rocket.jpg, measured", {
        657: 0.296, 744: 0.200, 540: 0.088, 812: 0.052, 668: 0.018,
        900: 0.011, 682: 0.011, 733: 0.011, 644: 0.008, 536: 0.008}),
    ("astronaut.png, measured", {
        560: 0.162, 450: 0.110, 573: 0.064, 422: 0.046, 747: 0.030,
        746: 0.024, 768: 0.020, 518: 0.017, 795: 0.014, 625: 0.014}),
    ("hypothetical: eagle photo (kite the bird, bald eagle)", {
        21: 0.48, 22: 0.23, 23: 0.05}),
    ("hypothetical: uncertain dog (three breeds, none above 0.2)", {
        207: 0.18, 208: 0.17, 222: 0.12, 257: 0.08}),
    ("hypothetical: screenshot of a web page", {
        916: 0.62, 664: 0.10, 782: 0.06, 917: 0.03}),
    ("hypothetical: pizza on a plate", {
        963: 0.55, 923: 0.15, 965: 0.05, 809: 0.04}),
    ("hypothetical: city street (sign, traffic light, cab)", {
        919: 0.30, 920: 0.25, 468: 0.15, 817: 0.08}),
    ("hypothetical: diver on a reef", {
        983: 0.45, 973: 0.25, 108: 0.05, 393: 0.05}),
    ("hypothetical: rifle on a table (WordNet puts missile under weapon too)", {
        764: 0.40, 413: 0.25, 657: 0.05, 532: 0.05}),
]


@dataclass
class Tag:
    name: str
    synsets: list[str]
    exclude: list[str]
    threshold: float
    threshold_is_default: bool
    zh: str = ""
    zh_aliases: list[str] = field(default_factory=list)
    en_aliases: list[str] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)


def load_hierarchy(path: Path) -> tuple[list[dict], dict[str, dict]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != 1:
        raise SystemExit(f"{path}: unknown format {data.get('format')!r}")
    classes = data["classes"]
    for position, cls in enumerate(classes):
        if cls["index"] != position:
            raise SystemExit(f"{path}: class {position} has index {cls['index']}")
    return classes, data["synsets"]


def ancestor_sets(classes: list[dict], synsets: dict[str, dict]) -> list[frozenset[str]]:
    """Each class's synset plus all transitive parents (every parent)."""
    memo: dict[str, frozenset[str]] = {}

    def ancestors(wnid: str) -> frozenset[str]:
        if wnid not in memo:
            found = {wnid}
            stack = [wnid]
            while stack:
                for parent in synsets[stack.pop()]["parents"]:
                    if parent not in found:
                        found.add(parent)
                        stack.append(parent)
            memo[wnid] = frozenset(found)
        return memo[wnid]

    return [ancestors(cls["wnid"]) for cls in classes]


def is_cjk(c: str) -> bool:
    """Same ranges as models/src/friendly.rs `is_cjk` (Han, kana, compatibility ideographs)."""
    o = ord(c)
    return (0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0x3400 <= o <= 0x4DBF
            or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F)


def fold(text: str) -> str:
    """Same as models/src/friendly.rs `fold`: NFKC, lower case, runs of spaces, `-`
    and `_` as one space, none at either end."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(w for w in re.split(r"[\s\-_]+", text) if w)


def plurals(name: str) -> list[str]:
    """Same as models/src/friendly.rs `plurals`: the regular English plurals of a
    folded name."""
    if not name or not ("a" <= name[-1] <= "z"):
        return []
    stem, last = name[:-1], name[-1]
    if last == "s" and not (stem.endswith("s") or stem.endswith("u")):
        return []
    if last in "sxz" or name.endswith("ch") or name.endswith("sh"):
        return [name + "es"]
    if last == "y" and stem and "a" <= stem[-1] <= "z" and stem[-1] not in "aeiou":
        return [stem + "ies"]
    if last == "o":
        return [name + "s", name + "es"]
    return [name + "s"]


def name_problem(name: object, chinese: bool) -> str | None:
    """Same checks as models/src/friendly.rs `check_name`."""
    if not isinstance(name, str) or not name.strip():
        return "is empty" if isinstance(name, str) else "must be a string"
    if name.strip() != name:
        return "has spaces at an end"
    cjk = any(is_cjk(c) for c in name)
    if chinese and not cjk:
        return "has no Chinese character"
    if not chinese and (cjk or not any(c.isalpha() for c in name)):
        return "must be English words"
    return None


def check_names(tags: list[Tag], classes: list[dict], errors: list[str],
                warnings: list[str]) -> None:
    """Names unique across tags and languages after folding, regular English plurals
    included (the rule models/src/friendly.rs `name_table` applies)."""
    owner: dict[str, tuple[str, str]] = {}
    english: list[tuple[str, str, str]] = []
    for tag in tags:
        listed = ([(tag.name, False), (tag.zh, True)] + [(a, True) for a in tag.zh_aliases]
                  + [(a, False) for a in tag.en_aliases])
        for written, chinese in listed:
            if not written:
                continue
            key = fold(written)
            if key in owner:
                other, other_written = owner[key]
                errors.append(f"tag {tag.name}: {written!r} is the same name as "
                              f"{other_written!r} of tag {other}")
                continue
            owner[key] = (tag.name, written)
            if not chinese:
                english.append((key, tag.name, written))
    plural_owner: dict[str, str] = {}
    for key, name, written in english:
        for plural in plurals(key):
            other = owner.get(plural, (None, None))[0] or plural_owner.get(plural)
            if other is None:
                plural_owner[plural] = name
            elif other != name:
                errors.append(f"tag {name}: {plural!r}, the plural of {written!r}, "
                              f"is also a name of tag {other}")
    class_names = {fold(c["name"]): c for c in classes}
    for tag in tags:
        for alias in tag.en_aliases:
            cls = class_names.get(fold(alias))
            if cls is not None:
                warnings.append(f"tag {tag.name}: English alias {alias!r} is also the name of "
                                f"class {cls['index']} ({cls['wnid']}): a search for it resolves "
                                "to this tag")


def valid_threshold(value: object) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0.0 < float(value) <= 1.0)


def load_tags(path: Path, synsets: dict[str, dict], sets: list[frozenset[str]],
              errors: list[str], warnings: list[str]) -> tuple[float, list[Tag]]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        errors.append(f"{path.name}: not valid TOML: {e}")
        return 0.0, []
    for key in sorted(set(doc) - TOP_KEYS):
        errors.append(f"unknown top-level key {key!r}")
    if doc.get("format") != 1:
        errors.append(f"format must be 1, found {doc.get('format')!r}")
    default = doc.get("default_threshold")
    if not valid_threshold(default):
        errors.append(f"default_threshold {default!r} is not a number in (0, 1]")
        default = 1.0
    table = doc.get("tag")
    if not isinstance(table, dict) or not table:
        errors.append("no [tag.NAME] tables")
        return float(default), []

    tags: list[Tag] = []
    for name, entry in table.items():
        where = f"tag {name}"
        if not NAME_RE.match(name):
            errors.append(f"{where}: names are 1-64 lowercase ASCII letters, digits and `_`, "
                          "starting with a letter")
        if not isinstance(entry, dict):
            errors.append(f"{where}: must be a table")
            continue
        for key in sorted(set(entry) - TAG_KEYS):
            errors.append(f"{where}: unknown key {key!r}")
        if "description" in entry and not isinstance(entry["description"], str):
            errors.append(f"{where}: description must be a string")
        lists = {}
        for key in ("synsets", "exclude"):
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors.append(f"{where}: {key} must be a list of synset ids")
                value = []
            for wnid in value:
                if not WNID_RE.match(wnid):
                    errors.append(f"{where}: {key} id {wnid!r} is not a WordNet noun id (n + 8 digits)")
                elif wnid not in synsets:
                    errors.append(f"{where}: {key} id {wnid} is not in the hierarchy's synsets")
            duplicates = sorted({w for w in value if value.count(w) > 1})
            if duplicates:
                errors.append(f"{where}: {key} lists {', '.join(duplicates)} more than once")
            lists[key] = [w for w in value if w in synsets]
        if not entry.get("synsets"):
            errors.append(f"{where}: lists no synsets")
        both = sorted(set(lists["synsets"]) & set(lists["exclude"]))
        if both:
            errors.append(f"{where}: {', '.join(both)} both included and excluded")
        threshold = entry.get("threshold", default)
        if not valid_threshold(threshold):
            errors.append(f"{where}: threshold {threshold!r} is not a number in (0, 1]")
            threshold = 1.0
        zh = entry.get("zh")
        if zh is None:
            errors.append(f"{where}: has no `zh` (Simplified Chinese) name")
        elif (problem := name_problem(zh, True)) is not None:
            errors.append(f"{where}: zh {zh!r} {problem}")
        aliases = {}
        for key, chinese in (("zh_aliases", True), ("en_aliases", False)):
            value = entry.get(key, [])
            if not isinstance(value, list):
                errors.append(f"{where}: {key} must be a list of strings")
                value = []
            for alias in value:
                if (problem := name_problem(alias, chinese)) is not None:
                    errors.append(f"{where}: {key} {alias!r} {problem}")
            aliases[key] = [a for a in value if isinstance(a, str) and a.strip()]
        tag = Tag(name, lists["synsets"], lists["exclude"], float(threshold),
                  "threshold" not in entry, zh if isinstance(zh, str) else "",
                  aliases["zh_aliases"], aliases["en_aliases"])
        include = set(tag.synsets)
        exclude = set(tag.exclude)
        tag.classes = [i for i, s in enumerate(sets) if s & include and not s & exclude]
        if entry.get("synsets") and not tag.classes:
            errors.append(f"{where}: covers no class")
        # Review aids: entries that change nothing.
        for wnid in tag.synsets:
            others = include - {wnid}
            own = [i for i, s in enumerate(sets) if wnid in s]
            if own and all(s & others for s in (sets[i] for i in own)):
                warnings.append(f"{where}: synset {wnid} adds no class the others do not cover")
        for wnid in tag.exclude:
            if not any(wnid in s and s & include for s in sets):
                warnings.append(f"{where}: exclude {wnid} removes no class")
        tags.append(tag)
    return float(default), tags


def lemmas(synsets: dict[str, dict], wnid: str) -> str:
    return ", ".join(synsets[wnid]["lemmas"])


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "es" if noun.endswith("s") else "s")


def class_label(classes: list[dict], index: int) -> str:
    return f"{index} {classes[index]['name']}"


def scores(tags: list[Tag], probs: dict[int, float]) -> list[tuple[Tag, float]]:
    return [(t, sum(probs.get(i, 0.0) for i in t.classes)) for t in tags]


def render(classes: list[dict], synsets: dict[str, dict], sets: list[frozenset[str]],
           default: float, tags: list[Tag], warnings: list[str]) -> str:
    n = len(classes)
    covered_by: list[list[str]] = [[] for _ in range(n)]
    for tag in tags:
        for i in tag.classes:
            covered_by[i].append(tag.name)
    uncovered = [i for i in range(n) if not covered_by[i]]
    covered = n - len(uncovered)

    out: list[str] = []
    w = out.append
    w("# Friendly tags")
    w("")
    w("<!-- Generated by scripts/friendly_tags_report.py from models/data/friendly_tags.toml")
    w("     and models/data/imagenet_hierarchy.json. Do not edit; edit the TOML and rerun. -->")
    w("")
    w("The classifier scores ImageNet-1k's 1000 classes; `models/data/friendly_tags.toml` maps")
    w("them onto a business vocabulary through WordNet. A tag covers a class when the class's")
    w("ancestor set (its synset plus all transitive hypernyms, following every parent) contains")
    w("one of the tag's synsets and none of its exclusions. An image's tag score is the summed")
    w("probability of the classes the tag covers; the tag is emitted when the score reaches the")
    w(f"tag's threshold (default {default:g}).")
    w("")
    w("Each tag also has a Simplified Chinese name (`zh`, in the summary) that fits every class")
    w("it covers, and optional aliases in both languages: the words search resolves to the tag")
    w("(`FriendlyTags::resolve`, `mentioned_in`). Names are not part of the rules' version, so")
    w("editing them does not make stored images stale.")
    w("")
    w(f"- Tags: **{len(tags)}**")
    w(f"- Classes covered by at least one tag: **{covered} / {n} ({100.0 * covered / n:.1f}%)**")
    w(f"- Classes covered by no tag: **{len(uncovered)}** ([list](#classes-covered-by-no-tag))")
    w("")
    w("To review or extend: edit the TOML (every id carries a comment with its lemmas, every")
    w("exclusion a reason), run `python3 scripts/friendly_tags_report.py`, read the class")
    w("lists below, and commit both files. `--check` fails when this report is stale.")
    w("")
    if warnings:
        w("Review notes from the validator:")
        w("")
        for message in warnings:
            w(f"- {message}")
        w("")

    w("## Summary")
    w("")
    w("| Tag | 中文 | Classes | Threshold | Synsets | Exclusions |")
    w("|---|---|---:|---:|---:|---:|")
    for tag in tags:
        thr = f"{tag.threshold:g}" + ("" if tag.threshold_is_default else " (own)")
        w(f"| [`{tag.name}`](#tag-{tag.name}) | {tag.zh} | {len(tag.classes)} | {thr} "
          f"| {len(tag.synsets)} | {len(tag.exclude)} |")
    w("")

    w("## Simulated scores")
    w("")
    w("Each row: a probability distribution over classes (only the listed classes carry")
    w("probability), the tags it emits with their scores, and the strongest tags that stay")
    w("below their threshold. The first five are the classifier's measured top-10 on the")
    w("sample photos (scripts/samples.toml); the others are hypothetical.")
    w("")
    for title, probs in SIMULATIONS:
        ranked = sorted(scores(tags, probs), key=lambda ts: (-ts[1], ts[0].name))
        emitted = [(t, s) for t, s in ranked if s >= t.threshold]
        missed = [(t, s) for t, s in ranked if 0.0 < s < t.threshold][:4]
        top = ", ".join(f"{class_label(classes, i)} {p:.3f}"
                        for i, p in sorted(probs.items(), key=lambda ip: -ip[1])[:5])
        w(f"### {title}")
        w("")
        shown = f"top 5 of {len(probs)}" if len(probs) > 5 else "all listed"
        w(f"- Input ({shown}): {top}")
        w("- Emitted: " + (", ".join(f"**{t.name}** {s:.3f}" for t, s in emitted) or "none"))
        w("- Below threshold: " + (", ".join(f"{t.name} {s:.3f}" for t, s in missed) or "none"))
        w("")

    w("## Tags")
    w("")
    for tag in tags:
        w(f"### tag {tag.name}")
        w("")
        thr = f"{tag.threshold:g}" + (" (default)" if tag.threshold_is_default else "")
        w(f"Threshold {thr}; covers {plural(len(tag.classes), 'class')}.")
        w("")
        w(f"Names: {tag.name.replace('_', ' ')} / **{tag.zh}**; Chinese aliases: "
          + (", ".join(tag.zh_aliases) or "none") + "; English aliases: "
          + (", ".join(tag.en_aliases) or "none") + ".")
        w("")
        w("Synsets:")
        w("")
        for wnid in tag.synsets:
            count = sum(1 for i in tag.classes if wnid in sets[i])
            w(f"- `{wnid}` {lemmas(synsets, wnid)} ({plural(count, 'class')}): "
              f"_{synsets[wnid]['gloss']}_")
        if tag.exclude:
            w("")
            w("Excluded:")
            w("")
            include = set(tag.synsets)
            for wnid in tag.exclude:
                removed = [i for i, s in enumerate(sets) if wnid in s and s & include]
                names = ", ".join(class_label(classes, i) for i in removed) or "nothing"
                w(f"- `{wnid}` {lemmas(synsets, wnid)}: removes {names}")
        w("")
        w("Classes: " + ", ".join(class_label(classes, i) for i in tag.classes) + ".")
        w("")

    w("## Classes covered by no tag")
    w("")
    w(f"{len(uncovered)} classes. Their first-parent hypernym chain (three levels) is shown to")
    w("help find a tag that could take them.")
    w("")
    for i in uncovered:
        chain = " < ".join(synsets[h]["lemmas"][0] for h in classes[i]["chain"][:3])
        w(f"- {class_label(classes, i)} ({classes[i]['wnid']}): {chain}")
    w("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tags", type=Path, default=TAGS)
    parser.add_argument("--hierarchy", type=Path, default=HIERARCHY)
    parser.add_argument("--out", type=Path, default=REPORT)
    parser.add_argument("--check", action="store_true",
                        help="do not write; fail if the report differs from the generated one")
    args = parser.parse_args()

    classes, synsets = load_hierarchy(args.hierarchy)
    sets = ancestor_sets(classes, synsets)
    errors: list[str] = []
    warnings: list[str] = []
    default, tags = load_tags(args.tags, synsets, sets, errors, warnings)
    check_names(tags, classes, errors, warnings)
    for message in warnings:
        print(f"note: {message}", file=sys.stderr)
    if errors:
        for message in errors:
            print(f"error: {message}", file=sys.stderr)
        print(f"{args.tags}: {len(errors)} error(s)", file=sys.stderr)
        return 1

    text = render(classes, synsets, sets, default, tags, warnings)
    covered = sum(1 for s in sets if any(s & set(t.synsets) and not s & set(t.exclude)
                                         for t in tags))
    summary = (f"{len(tags)} tags, {covered}/{len(classes)} classes covered "
               f"({100.0 * covered / len(classes):.1f}%)")
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run scripts/friendly_tags_report.py", file=sys.stderr)
            return 1
        print(f"ok: {summary}; {args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
