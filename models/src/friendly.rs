//! Friendly tags: general words (`cat`, `animal`, `vehicle`, `food`, ...)
//! derived from the classifier's probabilities through the WordNet hierarchy.
//!
//! Two checked-in data files, compiled into the binary:
//! - `models/data/imagenet_hierarchy.json` (from `scripts/imagenet_hierarchy.py`):
//!   every ImageNet class's WordNet synset and all of its ancestors, with
//!   every parent (WordNet is a graph: 38 classes have two parents).
//! - `models/data/friendly_tags.toml`: each friendly tag names the synsets
//!   whose descendants it covers, minus any `exclude` synsets, and its names
//!   for people: a Simplified Chinese name (`zh`) and optional aliases in
//!   both languages; reviewed with `docs/FRIENDLY_TAGS.md`
//!   (`scripts/friendly_tags_report.py`).
//!
//! A tag's score is the probability mass of the classes it covers (each class
//! counted once, however many paths lead to it); the tag is emitted when the
//! score reaches its threshold.
//!
//! The names serve display and search: [`FriendlyTags::display_name`] shows a
//! tag in a [`Lang`], [`FriendlyTags::resolve`] finds the tag a user named and
//! [`FriendlyTags::mentioned_in`] the tags a search query mentions, in either
//! language. Names are compared folded: NFKC (full-width forms become
//! ordinary ones), lower case, and spaces, `-` and `_` alike; an English name
//! also matches its regular plural. The names are not part of
//! [`FriendlyTags::version`], which covers only what decides the scores.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ModelError;
use crate::labels::Labels;

const HIERARCHY_JSON: &str = include_str!("../data/imagenet_hierarchy.json");
const FRIENDLY_TOML: &str = include_str!("../data/friendly_tags.toml");
const HIERARCHY_PATH: &str = "models/data/imagenet_hierarchy.json";
const FRIENDLY_PATH: &str = "models/data/friendly_tags.toml";
/// Names the layout of the digested rules; change it when [`RulesDigest`]
/// changes shape.
const RULES_DIGEST_SCHEME: &str = "imgtag-friendly-rules/1";

#[derive(Debug, Deserialize)]
struct HierarchyFile {
    format: u32,
    classes: Vec<HierarchyClass>,
    synsets: HashMap<String, Synset>,
}

#[derive(Debug, Deserialize)]
struct HierarchyClass {
    index: usize,
    wnid: String,
}

#[derive(Debug, Deserialize)]
struct Synset {
    lemmas: Vec<String>,
    parents: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FriendlyFile {
    format: u32,
    default_threshold: f32,
    tag: BTreeMap<String, FriendlyEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FriendlyEntry {
    #[serde(default)]
    description: Option<String>,
    /// Optional only so that a missing name is reported for every tag at
    /// once; [`FriendlyTags::parse`] refuses a tag without one.
    #[serde(default)]
    zh: Option<String>,
    #[serde(default)]
    zh_aliases: Vec<String>,
    #[serde(default)]
    en_aliases: Vec<String>,
    synsets: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    threshold: Option<f32>,
}

/// What decides the scores, in a canonical form: the version is a digest of
/// its JSON. Names, descriptions, comments and the order of ids in the file
/// are left out, so editing them keeps the version.
#[derive(Serialize)]
struct RulesDigest {
    scheme: &'static str,
    /// sha256 of the hierarchy file's text.
    hierarchy_sha256: String,
    default_threshold: f32,
    /// By name.
    tags: Vec<TagRules>,
}

#[derive(Serialize)]
struct TagRules {
    name: String,
    synsets: BTreeSet<String>,
    exclude: BTreeSet<String>,
    /// The threshold in force (the tag's own or the default).
    threshold: f32,
}

/// One friendly tag with the classes it covers and its names.
#[derive(Debug, Clone, PartialEq)]
pub struct FriendlyTag {
    /// Tag name (lowercase, `_` allowed).
    pub name: String,
    /// Score needed to emit the tag.
    pub threshold: f32,
    /// Indices of the classes the tag covers, ascending.
    pub classes: Vec<usize>,
    /// Simplified Chinese name, e.g. `猫`.
    pub zh: String,
    /// Other Chinese names users type for the tag, e.g. `猫咪`.
    pub zh_aliases: Vec<String>,
    /// Other English names users type for the tag, e.g. `kitten`.
    pub en_aliases: Vec<String>,
}

/// A friendly tag emitted for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct FriendlyScore {
    /// Tag name.
    pub name: String,
    /// Probability mass of the covered classes.
    pub score: f32,
}

/// A language tags are shown in (`en` or `zh` in JSON and on the command
/// line; English by default).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English: the tag name with `_` as a space (`musical instrument`).
    #[default]
    En,
    /// Simplified Chinese: the tag's `zh` name (`乐器`).
    Zh,
}

impl Lang {
    /// Its code: `en` or `zh`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The language of a language tag: `en` and any `en-*` (`en-US`,
    /// `en-GB`), `zh` and any `zh-*` (`zh-CN`, `zh-Hans`; also `zh-TW` and
    /// `zh-Hant`, shown in Simplified Chinese, the only Chinese there is).
    /// Case-insensitive; `_` is accepted for `-`. `None` for any other
    /// language and for `*`.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("zh") {
            Some(Lang::Zh)
        } else {
            None
        }
    }

    /// The preferred supported language of an HTTP `Accept-Language` header
    /// (`zh-CN,zh;q=0.9,en;q=0.8`): the one with the highest q-value (1 when
    /// absent), the first listed among equals. Languages with `q=0` or a
    /// malformed q-value are not acceptable; `None` when no listed language
    /// is supported (the caller picks its default).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for entry in header.split(',') {
            let mut parts = entry.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let mut quality = 1.0_f32;
            for parameter in parts {
                if let Some((key, value)) = parameter.split_once('=')
                    && key.trim().eq_ignore_ascii_case("q")
                {
                    quality = value
                        .trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .unwrap_or(0.0);
                }
            }
            if quality > 0.0 && best.is_none_or(|(top, _)| quality > top) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }
}

/// A tag a search query mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMention {
    /// The tag's name.
    pub tag: String,
    /// The words of the query that name it, folded (NFKC, lower case,
    /// separators as one space): `cars`, `sports car`, `猫`.
    pub matched: String,
}

/// The friendly vocabulary, resolved against the classifier's classes.
#[derive(Debug, Clone)]
pub struct FriendlyTags {
    /// By name (the binary searches rely on it).
    tags: Vec<FriendlyTag>,
    /// English display name of each tag, parallel to `tags`.
    english: Vec<String>,
    /// Every folded name, `zh`, alias and regular English plural -> index
    /// into `tags`; each belongs to one tag.
    names: BTreeMap<String, usize>,
    /// For each class, the indices into `tags` that cover it.
    by_class: Vec<Vec<usize>>,
    /// For each class, the lemmas of its WordNet ancestors, nearest first.
    ancestors: Vec<Vec<String>>,
    /// First 12 hex digits of the sha256 of the rules in canonical form
    /// ([`RulesDigest`]): changes whenever a rule or the hierarchy does,
    /// with nothing to bump by hand, and not when a name does.
    version: String,
}

impl FriendlyTags {
    /// The checked-in hierarchy and friendly-tag map, checked against the
    /// classifier's labels (same WordNet id for every class index).
    pub fn embedded(labels: &Labels) -> Result<Self, ModelError> {
        Self::parse(HIERARCHY_JSON, FRIENDLY_TOML, labels)
    }

    /// Parses a hierarchy (JSON) and a friendly-tag map (TOML).
    pub fn parse(hierarchy: &str, friendly: &str, labels: &Labels) -> Result<Self, ModelError> {
        let hierarchy_text = hierarchy;
        let asset = |path: &str, message: String| ModelError::Asset {
            path: PathBuf::from(path),
            message,
        };
        let hierarchy: HierarchyFile =
            serde_json::from_str(hierarchy).map_err(|e| asset(HIERARCHY_PATH, e.to_string()))?;
        if hierarchy.format != 1 {
            return Err(asset(
                HIERARCHY_PATH,
                format!("unknown format {}", hierarchy.format),
            ));
        }
        if hierarchy.classes.len() != labels.len() {
            return Err(asset(
                HIERARCHY_PATH,
                format!(
                    "{} classes, the classifier has {}",
                    hierarchy.classes.len(),
                    labels.len()
                ),
            ));
        }
        let mut ancestor_sets = Vec::with_capacity(labels.len());
        let mut ancestors = Vec::with_capacity(labels.len());
        for (position, class) in hierarchy.classes.iter().enumerate() {
            let label = labels.get(position).map(|l| l.wnid.as_str());
            if class.index != position || label != Some(class.wnid.as_str()) {
                return Err(asset(
                    HIERARCHY_PATH,
                    format!(
                        "class {position} is {} ({}), the classifier's is {:?}",
                        class.index, class.wnid, label
                    ),
                ));
            }
            let order = ancestors_of(&class.wnid, &hierarchy.synsets)
                .map_err(|message| asset(HIERARCHY_PATH, message))?;
            ancestors.push(
                order
                    .iter()
                    .skip(1)
                    .filter_map(|wnid| hierarchy.synsets.get(wnid)?.lemmas.first().cloned())
                    .collect(),
            );
            ancestor_sets.push(order.into_iter().collect::<HashSet<_>>());
        }

        let friendly: FriendlyFile =
            toml::from_str(friendly).map_err(|e| asset(FRIENDLY_PATH, e.to_string()))?;
        if friendly.format != 1 {
            return Err(asset(
                FRIENDLY_PATH,
                format!("unknown format {}", friendly.format),
            ));
        }
        check_threshold(friendly.default_threshold)
            .map_err(|m| asset(FRIENDLY_PATH, format!("default_threshold {m}")))?;
        let mut tags = Vec::with_capacity(friendly.tag.len());
        let mut rules = Vec::with_capacity(friendly.tag.len());
        let mut unnamed = Vec::new();
        let mut by_class = vec![Vec::new(); labels.len()];
        for (name, entry) in friendly.tag {
            let invalid = |message: String| asset(FRIENDLY_PATH, format!("tag {name}: {message}"));
            if !valid_tag_name(&name) {
                return Err(invalid(
                    "names are lowercase ASCII letters, digits and `_`".into(),
                ));
            }
            let _ = entry.description;
            let threshold = entry.threshold.unwrap_or(friendly.default_threshold);
            check_threshold(threshold).map_err(|m| invalid(format!("threshold {m}")))?;
            if entry.synsets.is_empty() {
                return Err(invalid("lists no synsets".into()));
            }
            for wnid in entry.synsets.iter().chain(&entry.exclude) {
                if !hierarchy.synsets.contains_key(wnid) {
                    return Err(invalid(format!("{wnid} is not in the hierarchy")));
                }
            }
            let classes: Vec<usize> = ancestor_sets
                .iter()
                .enumerate()
                .filter(|(_, set)| {
                    entry.synsets.iter().any(|s| set.contains(s))
                        && !entry.exclude.iter().any(|s| set.contains(s))
                })
                .map(|(index, _)| index)
                .collect();
            if classes.is_empty() {
                return Err(invalid("covers no class".into()));
            }
            let zh = entry.zh.unwrap_or_default();
            if zh.trim().is_empty() {
                unnamed.push(name.clone());
            } else {
                check_name(&zh, true).map_err(|m| invalid(format!("zh {zh:?} {m}")))?;
            }
            for alias in &entry.zh_aliases {
                check_name(alias, true).map_err(|m| invalid(format!("zh alias {alias:?} {m}")))?;
            }
            for alias in &entry.en_aliases {
                check_name(alias, false).map_err(|m| invalid(format!("en alias {alias:?} {m}")))?;
            }
            for &class in &classes {
                by_class[class].push(tags.len());
            }
            rules.push(TagRules {
                name: name.clone(),
                synsets: entry.synsets.into_iter().collect(),
                exclude: entry.exclude.into_iter().collect(),
                threshold,
            });
            tags.push(FriendlyTag {
                name,
                threshold,
                classes,
                zh,
                zh_aliases: entry.zh_aliases,
                en_aliases: entry.en_aliases,
            });
        }
        if !unnamed.is_empty() {
            return Err(asset(
                FRIENDLY_PATH,
                format!("tags without a `zh` name: {}", unnamed.join(", ")),
            ));
        }
        let names = name_table(&tags).map_err(|message| asset(FRIENDLY_PATH, message))?;
        let digest = RulesDigest {
            scheme: RULES_DIGEST_SCHEME,
            hierarchy_sha256: hex::encode(Sha256::digest(hierarchy_text)),
            default_threshold: friendly.default_threshold,
            tags: rules,
        };
        let canonical =
            serde_json::to_vec(&digest).map_err(|e| asset(FRIENDLY_PATH, e.to_string()))?;
        Ok(Self {
            english: tags.iter().map(|tag| tag.name.replace('_', " ")).collect(),
            tags,
            names,
            by_class,
            ancestors,
            version: hex::encode(Sha256::digest(&canonical))[..12].to_owned(),
        })
    }

    /// Version of the rules: derived from the synsets, exclusions and
    /// thresholds of every tag, the default threshold and the hierarchy
    /// file, in a canonical form. Names, aliases, descriptions and comments
    /// do not enter it: editing them does not make stored results stale.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every friendly tag, by name.
    pub fn tags(&self) -> &[FriendlyTag] {
        &self.tags
    }

    /// Names of the friendly tags covering class `index`.
    pub fn tags_of_class(&self, index: usize) -> impl Iterator<Item = &str> {
        self.by_class
            .get(index)
            .into_iter()
            .flatten()
            .map(|&tag| self.tags[tag].name.as_str())
    }

    /// First lemmas of class `index`'s WordNet ancestors, nearest first
    /// (breadth-first over every parent).
    pub fn ancestors_of_class(&self, index: usize) -> &[String] {
        self.ancestors.get(index).map_or(&[], Vec::as_slice)
    }

    /// The Simplified Chinese name of the friendly tag named `tag` (`cat` ->
    /// `猫`); `None` when there is no such friendly tag.
    pub fn zh_name(&self, tag: &str) -> Option<&str> {
        self.position(tag).map(|index| self.tags[index].zh.as_str())
    }

    /// How to show the tag named `tag` in `lang`: in English the tag name
    /// with `_` as a space (`musical instrument`), in Chinese its `zh` name
    /// (`乐器`). A tag this vocabulary does not know (an ImageNet class, a
    /// tenant's own tag) is returned unchanged in both languages.
    pub fn display_name<'a>(&'a self, tag: &'a str, lang: Lang) -> &'a str {
        match (self.position(tag), lang) {
            (Some(index), Lang::En) => &self.english[index],
            (Some(index), Lang::Zh) => &self.tags[index].zh,
            (None, _) => tag,
        }
    }

    /// The name of the friendly tag a user named, in either language: its
    /// name, `zh` or any alias, folded (NFKC, case-insensitive, spaces, `-`
    /// and `_` alike) and in English also as a regular plural (`Sports-Cars`,
    /// `buses`, `ｃａｔ`, `猫咪`). `None` when no tag has that name.
    pub fn resolve(&self, name: &str) -> Option<&str> {
        self.names
            .get(&fold(name))
            .map(|&index| self.tags[index].name.as_str())
    }

    /// The friendly tags a free-text search query mentions, in either
    /// language, in the order of the query: English names, aliases and their
    /// regular plurals as whole words (`two dogs`, `a sports car`), Chinese
    /// ones as substrings (`一只猫在沙发上`), both in the folded query. Where
    /// matches overlap the longest wins (`跑车` over `车`); a tag mentioned
    /// twice is listed once, at its first mention. Costs one substring scan
    /// of the query per name (a few hundred); bound the query's length first.
    pub fn mentioned_in(&self, query: &str) -> Vec<TagMention> {
        let text = fold(query);
        // (start, end, chars, tag index) of every whole-word occurrence.
        let mut found: Vec<(usize, usize, usize, usize)> = Vec::new();
        for (name, &index) in &self.names {
            for (start, _) in text.match_indices(name.as_str()) {
                let end = start + name.len();
                if whole_words(&text, start, end) {
                    found.push((start, end, name.chars().count(), index));
                }
            }
        }
        found.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.3.cmp(&b.3)));
        let mut taken: Vec<(usize, usize, usize, usize)> = Vec::new();
        for candidate in found {
            if taken
                .iter()
                .all(|other| candidate.1 <= other.0 || other.1 <= candidate.0)
            {
                taken.push(candidate);
            }
        }
        taken.sort_by_key(|&(start, ..)| start);
        let mut seen = HashSet::new();
        taken
            .into_iter()
            .filter(|&(.., index)| seen.insert(index))
            .map(|(start, end, _, index)| TagMention {
                tag: self.tags[index].name.clone(),
                matched: text[start..end].to_owned(),
            })
            .collect()
    }

    /// The tags whose covered probability mass reaches their threshold,
    /// highest score first.
    pub fn score(&self, probabilities: &[f32]) -> Vec<FriendlyScore> {
        let mut scores: Vec<FriendlyScore> = self
            .tags
            .iter()
            .filter_map(|tag| {
                let score: f32 = tag
                    .classes
                    .iter()
                    .filter_map(|&class| probabilities.get(class))
                    .sum();
                (score >= tag.threshold).then(|| FriendlyScore {
                    name: tag.name.clone(),
                    score: score.min(1.0),
                })
            })
            .collect();
        scores.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.name.cmp(&b.name))
        });
        scores
    }

    /// Index of the tag named `tag` (`tags` is sorted by name).
    fn position(&self, tag: &str) -> Option<usize> {
        self.tags
            .binary_search_by(|candidate| candidate.name.as_str().cmp(tag))
            .ok()
    }
}

/// Every folded name of every tag, and the regular plurals of the English
/// ones, -> index into `tags`. Refuses a name of two tags, or listed twice.
fn name_table(tags: &[FriendlyTag]) -> Result<BTreeMap<String, usize>, String> {
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut origin: HashMap<String, String> = HashMap::new();
    let mut english = Vec::new();
    for (index, tag) in tags.iter().enumerate() {
        let listed = std::iter::once((tag.name.as_str(), false))
            .chain(std::iter::once((tag.zh.as_str(), true)))
            .chain(tag.zh_aliases.iter().map(|alias| (alias.as_str(), true)))
            .chain(tag.en_aliases.iter().map(|alias| (alias.as_str(), false)));
        for (written, chinese) in listed {
            let key = fold(written);
            if let Some(&other) = names.get(&key) {
                return Err(format!(
                    "{written:?} of tag {} is the same name as {:?} of tag {}",
                    tag.name, origin[&key], tags[other].name
                ));
            }
            names.insert(key.clone(), index);
            origin.insert(key.clone(), written.to_owned());
            if !chinese {
                english.push((key, index));
            }
        }
    }
    for (key, index) in english {
        for plural in plurals(&key) {
            match names.get(&plural) {
                None => {
                    names.insert(plural, index);
                }
                Some(&other) if other == index => {}
                Some(&other) => {
                    let other_name = origin.get(&plural).unwrap_or(&plural);
                    return Err(format!(
                        "{plural:?}, the plural of {:?} of tag {}, is also a name of tag {} ({other_name:?})",
                        origin[&key], tags[index].name, tags[other].name
                    ));
                }
            }
        }
    }
    Ok(names)
}

/// Checks a `zh` name or an alias as written in the file: not empty, no
/// space at either end, and a Chinese one has a CJK character while an
/// English one has a letter and none.
fn check_name(name: &str, chinese: bool) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("is empty".into());
    }
    if name.trim() != name {
        return Err("has spaces at an end".into());
    }
    let cjk = name.chars().any(is_cjk);
    if chinese && !cjk {
        return Err("has no Chinese character".into());
    }
    if !chinese && (cjk || !name.chars().any(char::is_alphabetic)) {
        return Err("must be English words".into());
    }
    Ok(())
}

/// NFKC (full-width letters and digits become ordinary ones), lower case,
/// and every run of spaces, `-` and `_` as one space, none at either end.
fn fold(text: &str) -> String {
    let mut normalized = tokenizers::NormalizedString::from(text);
    normalized.nfkc();
    let mut folded = String::with_capacity(normalized.get().len());
    let mut gap = false;
    for c in normalized.get().chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() || c == '-' || c == '_' {
            gap = !folded.is_empty();
        } else {
            if gap {
                folded.push(' ');
                gap = false;
            }
            folded.push(c);
        }
    }
    folded
}

/// The regular plurals of a folded English name (its last word): `-es`
/// after s, x, z, ch and sh; `-ies` for a consonant + y; `-s` and `-es`
/// after o; else `-s`. None for a name that looks plural already (a final s
/// other than -ss or -us: `sports`, `office supplies`) or that does not end
/// in a letter a-z.
fn plurals(name: &str) -> Vec<String> {
    let Some(last) = name.chars().next_back().filter(char::is_ascii_lowercase) else {
        return Vec::new();
    };
    let stem = &name[..name.len() - 1];
    let consonant = |c: char| c.is_ascii_lowercase() && !"aeiou".contains(c);
    if last == 's' && !(stem.ends_with('s') || stem.ends_with('u')) {
        Vec::new()
    } else if matches!(last, 's' | 'x' | 'z') || name.ends_with("ch") || name.ends_with("sh") {
        vec![format!("{name}es")]
    } else if last == 'y' && stem.chars().next_back().is_some_and(consonant) {
        vec![format!("{stem}ies")]
    } else if last == 'o' {
        vec![format!("{name}s"), format!("{name}es")]
    } else {
        vec![format!("{name}s")]
    }
}

/// Whether `text[start..end]` does not cut a word: an end that is a letter
/// or digit of a spaced script must not touch another one. CJK needs no
/// boundary (it is written without spaces).
fn whole_words(text: &str, start: usize, end: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() && !is_cjk(c);
    let first = text[start..].chars().next();
    let last = text[..end].chars().next_back();
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let cuts_before = first.is_some_and(word) && before.is_some_and(word);
    let cuts_after = last.is_some_and(word) && after.is_some_and(word);
    !(cuts_before || cuts_after)
}

/// Whether `c` is written without spaces between words (Han ideographs,
/// Japanese kana, CJK compatibility ideographs): what makes a Chinese tag
/// name, and (in the workers' search index) a term of its own.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF          // hiragana, katakana
        | 0x31F0..=0x31FF        // katakana extensions
        | 0x3400..=0x4DBF        // CJK extension A
        | 0x4E00..=0x9FFF        // CJK unified ideographs
        | 0xF900..=0xFAFF        // CJK compatibility ideographs
        | 0x20000..=0x3134F      // CJK extensions B-H
    )
}

/// `wnid` and all its ancestors, breadth-first, each once.
fn ancestors_of(wnid: &str, synsets: &HashMap<String, Synset>) -> Result<Vec<String>, String> {
    let mut order = vec![wnid.to_owned()];
    let mut seen: HashSet<&str> = HashSet::from([wnid]);
    let mut next = 0;
    while next < order.len() {
        let synset = synsets
            .get(&order[next])
            .ok_or_else(|| format!("synset {} is missing", order[next]))?;
        next += 1;
        for parent in &synset.parents {
            if seen.insert(parent.as_str()) {
                order.push(parent.clone());
            }
        }
    }
    Ok(order)
}

fn check_threshold(value: f32) -> Result<(), String> {
    if value > 0.0 && value <= 1.0 {
        Ok(())
    } else {
        Err(format!("{value} is not in (0, 1]"))
    }
}

/// Whether `name` is a valid tag name: 1-64 of `a-z`, `0-9`, `_`, starting
/// with a letter.
pub fn valid_tag_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Four classes: two cats (one also reachable through a second parent),
    /// a sports car and a cab.
    const HIERARCHY: &str = r#"{
      "format": 1,
      "classes": [
        {"index": 0, "wnid": "n1", "name": "tiger cat", "chain": []},
        {"index": 1, "wnid": "n2", "name": "tabby", "chain": []},
        {"index": 2, "wnid": "n3", "name": "sports car", "chain": []},
        {"index": 3, "wnid": "n4", "name": "cab", "chain": []}
      ],
      "synsets": {
        "n1": {"lemmas": ["tiger cat"], "parents": ["c"], "gloss": ""},
        "n2": {"lemmas": ["tabby"], "parents": ["c", "pet"], "gloss": ""},
        "n3": {"lemmas": ["sports car"], "parents": ["v"], "gloss": ""},
        "n4": {"lemmas": ["cab"], "parents": ["v"], "gloss": ""},
        "c": {"lemmas": ["cat"], "parents": ["a"], "gloss": ""},
        "pet": {"lemmas": ["pet"], "parents": ["a"], "gloss": ""},
        "a": {"lemmas": ["animal"], "parents": ["e"], "gloss": ""},
        "v": {"lemmas": ["vehicle"], "parents": ["e"], "gloss": ""},
        "e": {"lemmas": ["entity"], "parents": [], "gloss": ""}
      }
    }"#;

    fn labels() -> Labels {
        Labels::parse(
            Path::new("ids"),
            "n1\nn2\nn3\nn4\n",
            Path::new("names"),
            "n1\ttiger cat\nn2\ttabby\nn3\tsports car\nn4\tcab\n",
        )
        .unwrap()
    }

    const FRIENDLY: &str = r#"
        format = 1
        default_threshold = 0.3
        [tag.cat]
        zh = "猫"
        zh_aliases = ["猫咪"]
        en_aliases = ["kitten"]
        synsets = ["c"]
        [tag.animal]
        zh = "动物"
        synsets = ["a"]
        [tag.vehicle]
        zh = "交通工具"
        zh_aliases = ["车"]
        synsets = ["v"]
        threshold = 0.05
        [tag.sports_car]
        zh = "跑车"
        synsets = ["n3"]
        [tag.non_pet_animal]
        zh = "非宠物动物"
        synsets = ["a"]
        exclude = ["pet"]
    "#;

    fn fixture() -> FriendlyTags {
        FriendlyTags::parse(HIERARCHY, FRIENDLY, &labels()).unwrap()
    }

    /// The classifier's labels as the checked-in hierarchy has them.
    fn real_labels() -> Labels {
        let hierarchy: serde_json::Value = serde_json::from_str(HIERARCHY_JSON).unwrap();
        let classes = hierarchy["classes"].as_array().unwrap();
        let mut ids = String::new();
        let mut names = String::new();
        for class in classes {
            let wnid = class["wnid"].as_str().unwrap();
            ids.push_str(&format!("{wnid}\n"));
            names.push_str(&format!("{wnid}\t{}\n", class["name"].as_str().unwrap()));
        }
        Labels::parse(Path::new("ids"), &ids, Path::new("names"), &names).unwrap()
    }

    fn real() -> FriendlyTags {
        FriendlyTags::embedded(&real_labels()).unwrap()
    }

    fn mentions(tags: &FriendlyTags, query: &str) -> Vec<(String, String)> {
        tags.mentioned_in(query)
            .into_iter()
            .map(|mention| (mention.tag, mention.matched))
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|&(tag, matched)| (tag.to_owned(), matched.to_owned()))
            .collect()
    }

    #[test]
    fn mass_is_summed_once_per_class_up_every_path() {
        let tags = fixture();
        let scores = tags.score(&[0.2, 0.5, 0.1, 0.0]);
        let named: Vec<(&str, f32)> = scores.iter().map(|s| (s.name.as_str(), s.score)).collect();
        // tabby reaches `animal` through `cat` and `pet`: counted once.
        assert_eq!(named[0].0, "animal");
        assert!((named[0].1 - 0.7).abs() < 1e-6);
        assert_eq!(named[1].0, "cat");
        assert_eq!(named[2].0, "vehicle");
        // non_pet_animal covers only the tiger cat (0.2 < 0.3), sports_car
        // has 0.1 < 0.3.
        assert!(!named.iter().any(|(name, _)| *name == "non_pet_animal"));
        assert_eq!(named.len(), 3);
        assert_eq!(tags.tags_of_class(1).collect::<Vec<_>>(), ["animal", "cat"]);
        assert_eq!(
            tags.ancestors_of_class(1),
            ["cat", "pet", "animal", "entity"]
        );
    }

    #[test]
    fn version_follows_the_rules() {
        let tags = fixture();
        assert_eq!(tags.version().len(), 12);
        for changed in [
            FRIENDLY.replace("threshold = 0.05", "threshold = 0.06"),
            FRIENDLY.replace("default_threshold = 0.3", "default_threshold = 0.25"),
            FRIENDLY.replace("exclude = [\"pet\"]", ""),
            FRIENDLY.replace("synsets = [\"n3\"]", "synsets = [\"n3\", \"n4\"]"),
            FRIENDLY.replace("[tag.sports_car]", "[tag.fast_car]"),
        ] {
            let other = FriendlyTags::parse(HIERARCHY, &changed, &labels()).unwrap();
            assert_ne!(tags.version(), other.version(), "{changed}");
        }
        let hierarchy = HIERARCHY.replace(r#""parents": ["c", "pet"]"#, r#""parents": ["c"]"#);
        let other = FriendlyTags::parse(&hierarchy, FRIENDLY, &labels()).unwrap();
        assert_ne!(tags.version(), other.version());
    }

    #[test]
    fn version_ignores_names_and_comments() {
        let tags = fixture();
        let renamed = FRIENDLY
            .replace("zh = \"猫\"", "zh = \"猫猫\"\ndescription = \"house cats\"")
            .replace("zh_aliases = [\"车\"]", "zh_aliases = [\"车\", \"车辆\"]")
            .replace(
                "en_aliases = [\"kitten\"]",
                "# kittens too\nen_aliases = []",
            )
            .replace("default_threshold = 0.3", "default_threshold = 0.30");
        let other = FriendlyTags::parse(HIERARCHY, &renamed, &labels()).unwrap();
        assert_eq!(other.zh_name("cat"), Some("猫猫"));
        assert_eq!(tags.version(), other.version());
        // A repeated id and an explicit default threshold change nothing
        // either: the digest is over the rules in canonical form.
        let reordered = FRIENDLY.replace(
            "synsets = [\"a\"]\n        exclude",
            "synsets = [\"a\", \"a\"]\n        threshold = 0.3\n        exclude",
        );
        let other = FriendlyTags::parse(HIERARCHY, &reordered, &labels()).unwrap();
        assert_eq!(tags.version(), other.version());
    }

    #[test]
    fn unknown_synsets_and_bad_names_are_refused() {
        let unknown =
            "format = 1\ndefault_threshold = 0.3\n[tag.cat]\nzh = \"猫\"\nsynsets = [\"zz\"]\n";
        let error = FriendlyTags::parse(HIERARCHY, unknown, &labels()).unwrap_err();
        assert_eq!(error.code(), "model.asset_invalid");
        assert!(error.to_string().contains("zz"), "{error}");
        let bad =
            "format = 1\ndefault_threshold = 0.3\n[tag.Cat]\nzh = \"猫\"\nsynsets = [\"c\"]\n";
        assert!(FriendlyTags::parse(HIERARCHY, bad, &labels()).is_err());
        let empty = "format = 1\ndefault_threshold = 0.3\n[tag.cat]\nzh = \"猫\"\nsynsets = [\"c\"]\nexclude = [\"c\"]\n";
        let error = FriendlyTags::parse(HIERARCHY, empty, &labels()).unwrap_err();
        assert!(error.to_string().contains("covers no class"), "{error}");
        let unknown_key = FRIENDLY.replace("zh_aliases = [\"猫咪\"]", "zh_alias = [\"猫咪\"]");
        assert!(FriendlyTags::parse(HIERARCHY, &unknown_key, &labels()).is_err());
    }

    #[test]
    fn every_tag_needs_a_chinese_name() {
        let missing = FRIENDLY
            .replace("zh = \"猫\"\n", "")
            .replace("zh = \"动物\"", "zh = \" \"");
        let error = FriendlyTags::parse(HIERARCHY, &missing, &labels()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("tags without a `zh` name: animal, cat"),
            "{error}"
        );
        for (from, to, reason) in [
            ("zh = \"猫\"", "zh = \"cat\"", "no Chinese character"),
            ("zh = \"猫\"", "zh = \" 猫\"", "spaces at an end"),
            (
                "zh_aliases = [\"猫咪\"]",
                "zh_aliases = [\"kitty\"]",
                "no Chinese character",
            ),
            (
                "en_aliases = [\"kitten\"]",
                "en_aliases = [\"猫\"]",
                "English words",
            ),
            (
                "en_aliases = [\"kitten\"]",
                "en_aliases = [\"--\"]",
                "English words",
            ),
        ] {
            let text = FRIENDLY.replace(from, to);
            let error = FriendlyTags::parse(HIERARCHY, &text, &labels()).unwrap_err();
            assert!(error.to_string().contains(reason), "{to}: {error}");
        }
    }

    #[test]
    fn names_are_unique_across_tags_and_languages() {
        for (from, to) in [
            // a zh name equal to another tag's zh name, alias, or folded name
            ("zh = \"跑车\"", "zh = \"猫\""),
            ("zh = \"跑车\"", "zh = \"车\""),
            ("zh = \"跑车\"", "zh = \"跑车\"\nzh_aliases = [\"猫咪\"]"),
            // full-width and half-width forms are one name (NFKC)
            (
                "zh = \"跑车\"",
                "zh = \"跑车\"\nzh_aliases = [\"ｔ恤\", \"T恤\"]",
            ),
            // English: case, spaces, `-` and `_` alike
            ("zh = \"跑车\"", "zh = \"跑车\"\nen_aliases = [\"Kitten\"]"),
            (
                "zh = \"跑车\"",
                "zh = \"跑车\"\nen_aliases = [\"Sports-Car\"]",
            ),
            // an alias that is another tag's name in plural
            ("zh = \"跑车\"", "zh = \"跑车\"\nen_aliases = [\"cats\"]"),
        ] {
            let text = FRIENDLY.replace(from, to);
            let error = FriendlyTags::parse(HIERARCHY, &text, &labels()).unwrap_err();
            assert!(error.to_string().contains("name"), "{to}: {error}");
        }
    }

    #[test]
    fn resolve_finds_a_tag_by_any_of_its_names() {
        let tags = fixture();
        for (name, tag) in [
            ("cat", "cat"),
            ("Cats", "cat"),
            ("ｃａｔ", "cat"),
            ("kittens", "cat"),
            ("猫", "cat"),
            ("猫咪", "cat"),
            (" sports car ", "sports_car"),
            ("Sports-Cars", "sports_car"),
            ("sports_car", "sports_car"),
            ("跑车", "sports_car"),
            ("车", "vehicle"),
        ] {
            assert_eq!(tags.resolve(name), Some(tag), "{name}");
        }
        for name in ["", "car", "跑", "catses", "cates"] {
            assert_eq!(tags.resolve(name), None, "{name}");
        }
    }

    #[test]
    fn mentioned_in_prefers_the_longest_name() {
        let tags = fixture();
        assert_eq!(
            mentions(&tags, "一辆红色跑车"),
            pairs(&[("sports_car", "跑车")])
        );
        assert_eq!(
            mentions(&tags, "车和跑车, two Sports-Cars and a kitten"),
            pairs(&[("vehicle", "车"), ("sports_car", "跑车"), ("cat", "kitten")])
        );
        // Whole English words only; CJK needs no spaces around it.
        assert!(mentions(&tags, "catalogue, scatter, vehicles2").is_empty());
        assert_eq!(mentions(&tags, "猫cat"), pairs(&[("cat", "猫")]));
    }

    #[test]
    fn lang_parses_language_tags() {
        for (tag, lang) in [
            ("en", Lang::En),
            ("en-US", Lang::En),
            ("EN-gb", Lang::En),
            ("zh", Lang::Zh),
            ("zh-CN", Lang::Zh),
            ("zh-Hans", Lang::Zh),
            ("zh-TW", Lang::Zh),
            ("ZH_cn", Lang::Zh),
            (" zh-hans-cn ", Lang::Zh),
        ] {
            assert_eq!(Lang::parse(tag), Some(lang), "{tag}");
        }
        for tag in ["", "*", "fr", "eng", "zho", "english"] {
            assert_eq!(Lang::parse(tag), None, "{tag}");
        }
        for lang in [Lang::En, Lang::Zh] {
            assert_eq!(Lang::parse(lang.as_str()), Some(lang));
            let json = serde_json::to_string(&lang).unwrap();
            assert_eq!(json, format!("\"{}\"", lang.as_str()));
            assert_eq!(serde_json::from_str::<Lang>(&json).unwrap(), lang);
        }
        assert_eq!(Lang::default(), Lang::En);
    }

    #[test]
    fn lang_honours_accept_language() {
        for (header, lang) in [
            ("zh-CN,zh;q=0.9,en;q=0.8", Some(Lang::Zh)),
            ("en-GB,en;q=0.9", Some(Lang::En)),
            ("fr-FR,fr;q=0.9,en;q=0.8,zh;q=0.7", Some(Lang::En)),
            ("en;q=0.5, zh-TW;q=0.8", Some(Lang::Zh)),
            ("zh;q=0.8, en;q=0.8", Some(Lang::Zh)),
            ("en;q=0, zh;q=0.1", Some(Lang::Zh)),
            ("en;q=abc, zh;q=0.1", Some(Lang::Zh)),
            ("en;Q=1.0", Some(Lang::En)),
            ("fr, de;q=0.5, *;q=0.1", None),
            ("en;q=0", None),
            ("", None),
        ] {
            assert_eq!(Lang::from_accept_language(header), lang, "{header}");
        }
    }

    #[test]
    fn hierarchy_must_match_the_classifier() {
        let other = Labels::parse(
            Path::new("ids"),
            "n1\nn3\nn2\nn4\n",
            Path::new("names"),
            "n1\ta\nn2\tb\nn3\tc\nn4\td\n",
        )
        .unwrap();
        assert!(FriendlyTags::parse(HIERARCHY, FRIENDLY, &other).is_err());
    }

    #[test]
    fn tag_names() {
        assert!(valid_tag_name("damaged_vehicle"));
        assert!(valid_tag_name("a4"));
        assert!(!valid_tag_name("4a"));
        assert!(!valid_tag_name(""));
        assert!(!valid_tag_name("Cat"));
        assert!(!valid_tag_name("cat-dog"));
    }

    #[test]
    fn plural_forms() {
        assert_eq!(plurals("cat"), ["cats"]);
        assert_eq!(plurals("bus"), ["buses"]);
        assert_eq!(plurals("glass"), ["glasses"]);
        assert_eq!(plurals("box"), ["boxes"]);
        assert_eq!(plurals("sports car"), ["sports cars"]);
        assert_eq!(plurals("lorry"), ["lorries"]);
        assert_eq!(plurals("toy"), ["toys"]);
        assert_eq!(plurals("tomato"), ["tomatos", "tomatoes"]);
        assert!(plurals("sports").is_empty());
        assert!(plurals("猫").is_empty());
        assert_eq!(fold("  Sports__Car - ＳＵＶ "), "sports car suv");
    }

    // The checked-in vocabulary.

    /// Every tag has a Chinese name: lists every tag without one (read from
    /// the file itself, so that all are reported, not the first).
    #[test]
    fn every_real_tag_has_a_chinese_name() {
        let file: FriendlyFile = toml::from_str(FRIENDLY_TOML).unwrap();
        let missing: Vec<&str> = file
            .tag
            .iter()
            .filter(|(_, entry)| {
                !entry
                    .zh
                    .as_deref()
                    .is_some_and(|zh| zh.trim() == zh && zh.chars().any(is_cjk))
            })
            .map(|(name, _)| name.as_str())
            .collect();
        assert!(
            missing.is_empty(),
            "tags without a Chinese (`zh`) name in {FRIENDLY_PATH}: {}",
            missing.join(", ")
        );
        let tags = real();
        assert_eq!(tags.tags().len(), file.tag.len());
        assert!(tags.tags().iter().all(|tag| !tag.zh.is_empty()));
    }

    #[test]
    fn real_names_are_unique() {
        let tags = real();
        let mut owner: HashMap<String, &str> = HashMap::new();
        for tag in tags.tags() {
            let names = std::iter::once(&tag.name)
                .chain(std::iter::once(&tag.zh))
                .chain(&tag.zh_aliases)
                .chain(&tag.en_aliases);
            for name in names {
                let previous = owner.insert(fold(name), &tag.name);
                assert!(
                    previous.is_none(),
                    "{name} of {} and {previous:?}",
                    tag.name
                );
            }
        }
    }

    #[test]
    fn real_resolve_in_both_languages() {
        let tags = real();
        for (name, tag) in [
            ("cat", "cat"),
            ("Cats", "cat"),
            ("猫", "cat"),
            ("猫咪", "cat"),
            ("automobile", "car"),
            ("Cars", "car"),
            ("汽车", "car"),
            ("轿车", "car"),
            ("车", "vehicle"),
            ("buses", "bus"),
            ("公交车", "bus"),
            ("Musical-Instruments", "musical_instrument"),
            ("乐器", "musical_instrument"),
            ("Office Supplies", "office_supplies"),
            ("文具", "office_supplies"),
            ("dog", "dog"),
            ("puppies", "dog"),
            ("狗", "dog"),
            ("ＰＣ", "computer"),
        ] {
            assert_eq!(tags.resolve(name), Some(tag), "{name}");
        }
        assert_eq!(tags.resolve("tiger cat"), None);
        assert_eq!(tags.resolve("发票"), None);
    }

    #[test]
    fn real_mentions() {
        let tags = real();
        assert_eq!(mentions(&tags, "一只猫在沙发上"), pairs(&[("cat", "猫")]));
        assert_eq!(
            mentions(&tags, "a red car parked"),
            pairs(&[("car", "car")])
        );
        assert_eq!(mentions(&tags, "two dogs"), pairs(&[("dog", "dogs")]));
        // No tag covers invoices or receipts (no ImageNet class does).
        assert!(mentions(&tags, "发票和收据").is_empty());
        assert_eq!(
            mentions(&tags, "公共汽车和小汽车"),
            pairs(&[("bus", "公共汽车"), ("car", "小汽车")])
        );
        assert_eq!(
            mentions(&tags, "Cats and musical instruments on a carpet"),
            pairs(&[
                ("cat", "cats"),
                ("musical_instrument", "musical instruments")
            ])
        );
    }

    #[test]
    fn real_display_names() {
        let tags = real();
        assert_eq!(tags.zh_name("cat"), Some("猫"));
        assert_eq!(tags.zh_name("tiger_cat"), None);
        assert_eq!(
            tags.display_name("musical_instrument", Lang::En),
            "musical instrument"
        );
        assert_eq!(tags.display_name("musical_instrument", Lang::Zh), "乐器");
        assert_eq!(tags.display_name("tiger_cat", Lang::Zh), "tiger_cat");
        assert_eq!(tags.display_name("tiger_cat", Lang::En), "tiger_cat");
    }
}
