//! Tests of the rule file, custom types, display names and the digest.

use super::rules::{BUILTIN_RULES, MrzFormat, Origin, fnv1a_64, parse_builtin};
use super::{CustomTypeRule, DocumentType, TypeRules};

fn insurance_claim() -> CustomTypeRule {
    CustomTypeRule {
        id: "insurance_claim".to_string(),
        name_zh: "理赔申请".to_string(),
        name_en: Some("Insurance claim".to_string()),
        keywords: vec!["理赔".to_string(), "保单号".to_string()],
        min_matches: 1,
        weight: 0.9,
    }
}

#[test]
fn builtin_rule_file_parses_and_validates_with_every_type() {
    let rules = parse_builtin(BUILTIN_RULES).unwrap();
    let ids: Vec<&str> = rules.iter().map(|rule| rule.doc_type.as_str()).collect();
    let expected: Vec<&str> = DocumentType::BUILTIN
        .iter()
        .filter(|t| **t != DocumentType::None)
        .map(DocumentType::as_str)
        .collect();
    assert_eq!(ids, expected);
    assert!(rules.iter().all(|rule| rule.origin == Origin::Builtin));
    let builtin = TypeRules::builtin().unwrap();
    assert_eq!(builtin.rules().len(), expected.len());
}

#[test]
fn every_builtin_type_has_both_display_names() {
    let rules = TypeRules::builtin().unwrap();
    assert_eq!(rules.display_name(&DocumentType::Invoice, true), "发票");
    assert_eq!(rules.display_name(&DocumentType::Invoice, false), "Invoice");
    assert_eq!(
        rules.display_name(&DocumentType::None, false),
        "Not a document"
    );
    for doc_type in DocumentType::BUILTIN {
        for zh in [true, false] {
            let name = rules.display_name(doc_type, zh);
            assert!(!name.is_empty());
            assert_ne!(name, doc_type.as_str(), "{doc_type} has no name");
        }
    }
    let gone = DocumentType::Custom("old_type".to_string());
    assert_eq!(rules.display_name(&gone, true), "old_type");
}

#[test]
fn custom_types_show_their_names_and_fall_back_to_chinese() {
    let mut claim = insurance_claim();
    let rules = TypeRules::with_custom(std::slice::from_ref(&claim)).unwrap();
    let custom = DocumentType::Custom("insurance_claim".to_string());
    assert_eq!(rules.display_name(&custom, true), "理赔申请");
    assert_eq!(rules.display_name(&custom, false), "Insurance claim");
    claim.name_en = None;
    let rules = TypeRules::with_custom(&[claim]).unwrap();
    assert_eq!(rules.display_name(&custom, false), "理赔申请");
}

#[test]
fn custom_types_come_first_in_tie_order() {
    let rules = TypeRules::with_custom(&[insurance_claim()]).unwrap();
    let first = &rules.rules()[0];
    assert_eq!(first.doc_type.as_str(), "insurance_claim");
    assert_eq!(first.origin, Origin::Custom);
    assert!((first.table.min_score - 0.5).abs() < 1e-6);
}

#[test]
fn digest_is_stable_and_changes_with_a_custom_rule() {
    let builtin = TypeRules::builtin().unwrap().digest();
    assert_eq!(builtin.len(), 16);
    assert!(builtin.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(builtin, TypeRules::builtin().unwrap().digest());
    let with_claim = TypeRules::with_custom(&[insurance_claim()])
        .unwrap()
        .digest();
    assert_ne!(builtin, with_claim);
    let mut lighter = insurance_claim();
    lighter.weight = 0.8;
    assert_ne!(
        with_claim,
        TypeRules::with_custom(&[lighter]).unwrap().digest()
    );
    let mut renamed = insurance_claim();
    renamed.name_zh = "保险理赔".to_string();
    renamed.name_en = None;
    assert_eq!(
        with_claim,
        TypeRules::with_custom(&[renamed]).unwrap().digest()
    );
}

#[test]
fn fnv1a_matches_its_reference_values() {
    assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn invalid_custom_ids_are_refused() {
    for id in [
        "",
        "Insurance",
        "insurance-claim",
        "1claim",
        "invoice",
        "none",
        "其他",
    ] {
        let mut rule = insurance_claim();
        rule.id = id.to_string();
        let error = TypeRules::with_custom(&[rule]).unwrap_err();
        assert_eq!(error.code(), "document.rules_invalid");
        assert!(error.to_string().contains("id must be"), "{id}: {error}");
    }
    let too_long = "a".repeat(41);
    let mut rule = insurance_claim();
    rule.id = too_long;
    assert!(TypeRules::with_custom(&[rule]).is_err());
}

#[test]
fn malformed_custom_rules_are_refused() {
    type Change = fn(&mut CustomTypeRule);
    let cases: [(Change, &str); 7] = [
        (|r| r.keywords.clear(), "no keywords"),
        (|r| r.keywords.push("  ".to_string()), "blank"),
        (|r| r.min_matches = 0, "min_matches"),
        (|r| r.min_matches = 3, "min_matches"),
        (|r| r.weight = 0.0, "weight"),
        (|r| r.weight = 1.5, "weight"),
        (|r| r.name_zh = " ".to_string(), "name_zh"),
    ];
    for (change, expected) in cases {
        let mut rule = insurance_claim();
        change(&mut rule);
        let error = TypeRules::with_custom(&[rule]).unwrap_err().to_string();
        assert!(error.contains(expected), "{expected}: {error}");
    }
    let error = TypeRules::with_custom(&[insurance_claim(), insurance_claim()]).unwrap_err();
    assert!(error.to_string().contains("twice"), "{error}");
}

#[test]
fn custom_rules_read_from_config_with_defaults() {
    let rule: CustomTypeRule =
        toml::from_str("id = \"insurance_claim\"\nname_zh = \"理赔申请\"\nkeywords = [\"理赔\"]\n")
            .unwrap();
    assert_eq!(rule.min_matches, 1);
    assert!((rule.weight - 0.9).abs() < 1e-6);
    assert_eq!(rule.name_en, None);
    let unknown = "id = \"a\"\nname_zh = \"甲\"\nkeywords = [\"甲\"]\ntenants = [\"x\"]\n";
    assert!(toml::from_str::<CustomTypeRule>(unknown).is_err());
}

#[test]
fn malformed_rule_files_are_refused() {
    let valid = BUILTIN_RULES;
    let cases = [
        (
            valid.replace("[types.letter]", "[types.letters]"),
            "no [types.letter]",
        ),
        (
            format!(
                "{valid}\n[types.memo]\nname_zh = \"备忘\"\nname_en = \"Memo\"\nmin_score = 0.5\n"
            ),
            "not a built-in",
        ),
        (
            valid.replace("field = \"invoice_code\"", "field = \"invoice_kode\""),
            "invoice_kode",
        ),
        (
            valid.replace("signal = \"status_bar\"", "signal = \"status_line\""),
            "status_line",
        ),
        (
            valid.replace(
                "{ any = [\"收据\"], weight = 0.5 }",
                "{ any = [\"收据\"], weight = 1.5 }",
            ),
            "types.receipt.keywords[1]",
        ),
        (
            valid.replace(
                "{ any = [\"收据\"], weight = 0.5 }",
                "{ any = [\"收据\"], min = 2, weight = 0.5 }",
            ),
            "min 2",
        ),
        (
            valid.replace(
                "{ any = [\"收据\"], weight = 0.5 }",
                "{ any = [\" \"], weight = 0.5 }",
            ),
            "blank",
        ),
        (
            valid.replace(
                "field = \"invoice_code\"",
                "field = \"invoice_code\", mrz = \"td3\"",
            ),
            "applies to field \"mrz\" only",
        ),
        (
            valid.replace("name_en = \"Letter\"\n", ""),
            "name_en is missing",
        ),
        (
            valid.replace("min_score = 0.3", "min_score = 0.0"),
            "types.other_document.min_score",
        ),
    ];
    for (text, expected) in cases {
        assert_ne!(text, valid, "case {expected} changed nothing");
        let error = parse_builtin(&text).unwrap_err().to_string();
        assert!(error.contains(expected), "{expected}: {error}");
    }
}

#[test]
fn mrz_formats_are_told_apart_by_their_lines() {
    let td3 = format!("{}\n{}", "P<".repeat(22), "1".repeat(44));
    let td1 = ["I<UTO", "1", "X"]
        .map(|start| format!("{start:<<30}"))
        .join("\n");
    assert_eq!(MrzFormat::of(&td3), Some(MrzFormat::Td3));
    assert_eq!(MrzFormat::of(&td1), Some(MrzFormat::Td1));
    assert_eq!(MrzFormat::of(&"A".repeat(44)), None);
}
