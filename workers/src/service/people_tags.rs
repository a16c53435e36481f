//! Names of the tags the faces and document analyzers give (`person`,
//! `face`, `group`, `doc_passport`, ...), in English and Chinese: shown
//! as tag labels, and found in text queries ("两个人", "a person",
//! "身份证"), so the hybrid search's tag branch finds people and document
//! types as it finds friendly tags.
//!
//! Matching works like the friendly tags': on the normalised query,
//! Chinese names as substrings and English names as whole words, the
//! longest name first.

use imgtag_models::Lang;

/// One tag with its names; the first of each language is its display
/// name.
struct Named {
    tag: &'static str,
    en: &'static [&'static str],
    zh: &'static [&'static str],
}

const NAMED: &[Named] = &[
    Named {
        tag: "person",
        en: &[
            "person", "people", "man", "woman", "men", "women", "portrait", "someone",
        ],
        zh: &[
            "人物",
            "一个人",
            "两个人",
            "有人",
            "人像",
            "肖像",
            "男人",
            "女人",
            "男子",
            "女子",
            "人们",
        ],
    },
    Named {
        tag: "face",
        en: &["face", "faces"],
        zh: &["人脸", "面孔", "脸"],
    },
    Named {
        tag: "group",
        en: &["group", "group photo", "crowd", "team photo"],
        zh: &["合影", "合照", "多人", "一群人", "人群", "集体照"],
    },
    Named {
        tag: "doc_id_card",
        en: &["id card", "identity card"],
        zh: &["身份证", "居民身份证"],
    },
    Named {
        tag: "doc_passport",
        en: &["passport"],
        zh: &["护照"],
    },
    Named {
        tag: "doc_driving_licence",
        en: &["driving licence", "driving license", "driver's license"],
        zh: &["驾驶证", "驾照"],
    },
    Named {
        tag: "doc_business_licence",
        en: &["business licence", "business license"],
        zh: &["营业执照"],
    },
    Named {
        tag: "doc_invoice",
        en: &["invoice", "vat invoice"],
        zh: &["发票", "增值税发票"],
    },
    Named {
        tag: "doc_receipt",
        en: &["receipt", "till receipt"],
        zh: &["收据", "小票", "收银小票"],
    },
    Named {
        tag: "doc_bank_slip",
        en: &["bank slip", "bank transfer"],
        zh: &["银行回单", "转账凭证", "回单"],
    },
    Named {
        tag: "doc_form",
        en: &["form"],
        zh: &["表格", "申请表"],
    },
    Named {
        tag: "doc_letter",
        en: &["letter"],
        zh: &["信件", "信函"],
    },
    Named {
        tag: "doc_screenshot",
        en: &["screenshot", "screen shot"],
        zh: &["截图", "截屏", "聊天记录"],
    },
];

/// The display name of one of these tags in `lang`.
pub fn label(tag: &str, lang: Lang) -> Option<&'static str> {
    let named = NAMED.iter().find(|n| n.tag == tag)?;
    match lang {
        Lang::En => named.en.first().copied(),
        Lang::Zh => named.zh.first().copied(),
    }
}

/// The tag a name (in either language) stands for: `两个人` -> `person`.
pub fn resolve(name: &str) -> Option<&'static str> {
    let name = name.trim().to_lowercase();
    NAMED
        .iter()
        .find(|n| n.en.contains(&name.as_str()) || n.zh.contains(&name.as_str()))
        .map(|n| n.tag)
}

/// The tags `normalized` (a normalised query) names, with the words that
/// named them, longest names first, each tag once, no two overlapping.
pub fn mentioned_in(normalized: &str) -> Vec<(String, String)> {
    let mut found: Vec<(usize, usize, &'static str)> = Vec::new();
    for named in NAMED {
        let names = named
            .en
            .iter()
            .map(|n| (n, false))
            .chain(named.zh.iter().map(|n| (n, true)));
        for (name, cjk) in names {
            for (start, _) in normalized.match_indices(name) {
                let end = start + name.len();
                if cjk || whole_word(normalized, start, end) {
                    found.push((start, end, named.tag));
                }
            }
        }
    }
    found.sort_by(|a, b| (b.1 - b.0).cmp(&(a.1 - a.0)).then(a.0.cmp(&b.0)));
    let mut taken: Vec<(usize, usize, &'static str)> = Vec::new();
    for candidate in found {
        let free = taken
            .iter()
            .all(|other| candidate.1 <= other.0 || other.1 <= candidate.0);
        if free && !taken.iter().any(|other| other.2 == candidate.2) {
            taken.push(candidate);
        }
    }
    taken.sort_by_key(|&(start, ..)| start);
    taken
        .into_iter()
        .map(|(start, end, tag)| (tag.to_owned(), normalized[start..end].to_owned()))
        .collect()
}

fn whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    [before, after]
        .into_iter()
        .flatten()
        .all(|c| !c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(query: &str) -> Vec<String> {
        mentioned_in(query)
            .into_iter()
            .map(|(tag, _)| tag)
            .collect()
    }

    #[test]
    fn people_and_documents_are_found_in_queries() {
        assert_eq!(tags("两个人"), ["person"]);
        assert_eq!(tags("a person with a passport"), ["person", "doc_passport"]);
        assert_eq!(tags("身份证"), ["doc_id_card"]);
        assert_eq!(tags("合影"), ["group"]);
        assert_eq!(tags("a woman in an orange space suit"), ["person"]);
        // Whole English words only.
        assert!(tags("performance reformed").is_empty());
        // The longest name wins (收银小票, not 小票 and nothing else).
        assert_eq!(mentioned_in("收银小票")[0].1, "收银小票");
    }

    #[test]
    fn names_resolve_and_display_in_both_languages() {
        assert_eq!(resolve("护照"), Some("doc_passport"));
        assert_eq!(resolve("Passport"), Some("doc_passport"));
        assert_eq!(label("group", Lang::Zh), Some("合影"));
        assert_eq!(label("doc_invoice", Lang::En), Some("invoice"));
        assert_eq!(label("cat", Lang::Zh), None);
    }
}
