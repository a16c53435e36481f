//! Whole-document tests of [`super::extract`]: an ID card front and back,
//! a passport data page, a business licence, a VAT invoice, a receipt.

use chrono::NaiveDate;

use super::{Field, FieldName, expires_on, extract_as_of};
use crate::evidence::EvidenceLine;

fn lines(texts: &[&str]) -> Vec<EvidenceLine> {
    texts
        .iter()
        .map(|t| EvidenceLine {
            text: t.to_string(),
            confidence: 0.9,
            rect: [0.0; 4],
        })
        .collect()
}

fn read(texts: &[&str]) -> Vec<Field> {
    extract_as_of(&lines(texts), NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
}

fn values(fields: &[Field], name: FieldName) -> Vec<&str> {
    fields
        .iter()
        .filter(|f| f.name == name)
        .map(|f| f.value.as_str())
        .collect()
}

fn one(fields: &[Field], name: FieldName) -> &Field {
    let found: Vec<&Field> = fields.iter().filter(|f| f.name == name).collect();
    assert_eq!(found.len(), 1, "{name:?} in {fields:#?}");
    found[0]
}

#[test]
fn id_card_front() {
    let fields = read(&[
        "姓名 张三",
        "性别男 民族汉",
        "出生 1949 年 12 月 31 日",
        "住址 北京市东城区某某街1号",
        "公民身份号码 11010519491231002X",
    ]);
    assert_eq!(values(&fields, FieldName::Name), ["张三"]);
    // The sex a valid number gives (its check passes) wins over the
    // printed one (M on this made-up card).
    assert_eq!(values(&fields, FieldName::Sex), ["F"]);
    assert_eq!(values(&fields, FieldName::Nationality), ["汉"]);
    let birth = one(&fields, FieldName::BirthDate);
    assert_eq!(birth.value, "1949-12-31");
    assert_eq!(birth.line, 2);
    assert_eq!(birth.valid, Some(true));
    let id = one(&fields, FieldName::IdNumber);
    assert_eq!(id.value, "11010519491231002X");
    assert_eq!(id.valid, Some(true));
    assert_eq!(id.line, 4);
    assert_eq!(id.source, "公民身份号码 11010519491231002X");
    assert!(
        (id.confidence - 0.9).abs() < 1e-6,
        "labelled: full confidence"
    );
}

#[test]
fn id_number_alone_gives_birth_date_and_sex() {
    let fields = read(&["某某 11010519491231002x 某某"]);
    let id = one(&fields, FieldName::IdNumber);
    assert!((id.confidence - 0.72).abs() < 1e-6, "by shape: lowered");
    assert_eq!(one(&fields, FieldName::BirthDate).value, "1949-12-31");
    assert_eq!(one(&fields, FieldName::Sex).value, "F");
    assert_eq!(one(&fields, FieldName::Sex).valid, Some(true));
}

#[test]
fn failing_id_number_is_kept_invalid() {
    let fields = read(&["公民身份号码 110105194912310021"]);
    let id = one(&fields, FieldName::IdNumber);
    assert_eq!(id.value, "110105194912310021");
    assert_eq!(id.valid, Some(false));
    assert_eq!(one(&fields, FieldName::BirthDate).valid, Some(false));
}

#[test]
fn id_card_back() {
    let fields = read(&[
        "中华人民共和国",
        "居民身份证",
        "签发机关 北京市公安局东城分局",
        "有效期限 2015.03.01-2035.03.01",
    ]);
    assert_eq!(values(&fields, FieldName::IssueDate), ["2015-03-01"]);
    assert_eq!(values(&fields, FieldName::ExpiryDate), ["2035-03-01"]);
    assert_eq!(expires_on(&fields), NaiveDate::from_ymd_opt(2035, 3, 1));
    assert_eq!(fields.len(), 2, "{fields:#?}");
}

#[test]
fn passport_data_page() {
    let fields = read(&[
        "PASSPORT",
        "Type/Type P Code/Code UTO Passport No./N° de passeport L898902C3",
        "Surname/Nom",
        "ERIKSSON",
        "Given names/Prénoms",
        "ANNA MARIA",
        "Date of birth/Date de naissance 12 AUG/AOUT 74",
        "Sex/Sexe F",
        "Date of expiry/Date d'expiration 15 APR/AVR 12",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C3 6UTO7408122F1204159ZE184226B<<<<<10",
    ]);
    assert_eq!(values(&fields, FieldName::Name), ["ERIKSSON ANNA MARIA"]);
    assert_eq!(values(&fields, FieldName::DocumentNumber), ["L898902C3"]);
    assert_eq!(values(&fields, FieldName::BirthDate), ["1974-08-12"]);
    assert_eq!(values(&fields, FieldName::Sex), ["F"]);
    assert_eq!(values(&fields, FieldName::ExpiryDate), ["2012-04-15"]);
    assert_eq!(values(&fields, FieldName::Nationality), ["UTO"]);
    assert_eq!(values(&fields, FieldName::IssuingState), ["UTO"]);
    let mrz = one(&fields, FieldName::Mrz);
    assert_eq!(mrz.valid, Some(true));
    assert_eq!(mrz.line, 9);
    assert_eq!(
        mrz.source,
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C3 6UTO7408122F1204159ZE184226B<<<<<10"
    );
    assert_eq!(expires_on(&fields), NaiveDate::from_ymd_opt(2012, 4, 15));
}

#[test]
fn mrz_alone_gives_every_element() {
    let fields = read(&[
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ]);
    let names: Vec<FieldName> = fields.iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        [
            FieldName::Name,
            FieldName::Sex,
            FieldName::BirthDate,
            FieldName::Nationality,
            FieldName::DocumentNumber,
            FieldName::Mrz,
            FieldName::IssuingState,
            FieldName::ExpiryDate,
        ]
    );
    assert!(fields.iter().all(|f| f.valid != Some(false)));
}

#[test]
fn mrz_check_failure_marks_the_element_and_the_zone() {
    let fields = read(&[
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204169ZE184226B<<<<<10",
    ]);
    assert_eq!(one(&fields, FieldName::ExpiryDate).valid, Some(false));
    assert_eq!(one(&fields, FieldName::BirthDate).valid, Some(true));
    assert_eq!(one(&fields, FieldName::Mrz).valid, Some(false));
    assert_eq!(expires_on(&fields), None);
}

#[test]
fn business_licence() {
    let fields = read(&[
        "营业执照",
        "统一社会信用代码 91350100M000100Y43",
        "名 称 某某科技有限公司",
        "类 型 有限责任公司",
        "法定代表人 张三",
        "成立日期 2015年03月01日",
        "营业期限 2015年03月01日 至 长期",
    ]);
    let code = one(&fields, FieldName::CreditCode);
    assert_eq!(code.value, "91350100M000100Y43");
    assert_eq!(code.valid, Some(true));
    assert_eq!(
        values(&fields, FieldName::CompanyName),
        ["某某科技有限公司"]
    );
    assert_eq!(values(&fields, FieldName::IssueDate), ["2015-03-01"]);
    assert_eq!(values(&fields, FieldName::ExpiryDate), ["permanent"]);
    assert_eq!(expires_on(&fields), None);
    assert!(values(&fields, FieldName::Name).is_empty());
}

#[test]
fn vat_invoice() {
    let fields = read(&[
        "增值税电子普通发票",
        "发票代码：044031900111",
        "发票号码：12345678",
        "开票日期：2020年01月15日",
        "购买方 名 称：甲有限公司",
        "纳税人识别号：91350100M000100Y43",
        "货物或应税劳务、服务名称 规格型号 单位 数量 单价 金额 税率 税额",
        "*信息技术服务*咨询费 1 1000.00 1000.00 13% 130.00",
        "合 计 ￥1000.00 ￥130.00",
        "价税合计（大写） 壹仟壹佰叁拾圆整 （小写）￥1,130.00",
        "销售方 名 称：乙有限公司",
    ]);
    assert_eq!(values(&fields, FieldName::InvoiceCode), ["044031900111"]);
    assert_eq!(values(&fields, FieldName::InvoiceNumber), ["12345678"]);
    assert_eq!(values(&fields, FieldName::IssueDate), ["2020-01-15"]);
    assert_eq!(values(&fields, FieldName::Buyer), ["甲有限公司"]);
    assert_eq!(values(&fields, FieldName::Seller), ["乙有限公司"]);
    assert_eq!(
        values(&fields, FieldName::CreditCode),
        ["91350100M000100Y43"]
    );
    let total = one(&fields, FieldName::TotalAmount);
    assert_eq!(total.value, "1130.00");
    assert_eq!(total.unit.as_deref(), Some("CNY"));
    assert_eq!(total.valid, None);
    assert!(values(&fields, FieldName::CompanyName).is_empty());
}

#[test]
fn receipt_total() {
    let fields = read(&[
        "CAFE",
        "Subtotal 11.00",
        "Tax 1.50",
        "TOTAL: USD 12.50",
        "Thank you",
    ]);
    let total = one(&fields, FieldName::TotalAmount);
    assert_eq!(total.value, "12.50");
    assert_eq!(total.unit.as_deref(), Some("USD"));
}

#[test]
fn total_on_the_next_line() {
    let fields = read(&["Total", "12.50"]);
    assert_eq!(one(&fields, FieldName::TotalAmount).line, 1);
}

#[test]
fn invalid_calendar_date_is_flagged() {
    let fields = read(&["开票日期 2020年02月30日"]);
    let date = one(&fields, FieldName::IssueDate);
    assert_eq!(date.value, "2020-02-30");
    assert_eq!(date.valid, Some(false));
}

#[test]
fn nothing_in_nothing_out() {
    assert!(read(&[]).is_empty());
    assert!(read(&["", "   ", "hello world"]).is_empty());
}

#[test]
fn expiry_skips_invalid_dates() {
    let field = |value: &str, valid| Field {
        name: FieldName::ExpiryDate,
        value: value.to_string(),
        unit: None,
        line: 0,
        source: String::new(),
        confidence: 1.0,
        valid,
    };
    let fields = [
        field("2020-02-30", Some(false)),
        field("2030-01-01", Some(true)),
    ];
    assert_eq!(expires_on(&fields), NaiveDate::from_ymd_opt(2030, 1, 1));
    assert_eq!(expires_on(&[field("permanent", Some(true))]), None);
    assert_eq!(expires_on(&[]), None);
}

/// Lines of random characters from an alphabet rich in what the readers
/// look for (digits, `<`, `«`, full-width forms, labels' characters,
/// separators) never make reading or masking panic.
#[test]
fn noise_never_panics() {
    const ALPHABET: &[char] = &[
        '0', '1', '2', '9', 'X', 'x', 'A', 'M', 'F', 'O', '<', '«', ' ', '.', '-', '/', ':', '：',
        '¥', '￥', '$', ',', '年', '月', '日', '至', '长', '期', '姓', '名', '称', '性', '别',
        '男', '合', '计', '１', 'Ｘ', '\u{301}', 'é', '\n', '(', ')',
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    for _ in 0..300 {
        let texts: Vec<String> = (0..next(6))
            .map(|_| {
                (0..next(60))
                    .map(|_| ALPHABET[next(ALPHABET.len())])
                    .collect()
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        for field in read(&refs) {
            let _ = crate::mask::mask_field(&field);
        }
        // The same lines with boxes, some degenerate: the geometric rules
        // (rows, columns, turning, deskewing) never panic either.
        let mut boxed = lines(&refs);
        for line in &mut boxed {
            let mut coordinate = || next(1200) as f32 / 1000.0 - 0.1;
            line.rect = [coordinate(), coordinate(), coordinate(), coordinate()];
        }
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let _ = extract_as_of(&boxed, today);
        for text in &texts {
            let _ = crate::mask::mask_line(text);
        }
    }
}
