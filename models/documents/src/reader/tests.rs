//! Tests of reading: one realistic OCR sample per built-in type, custom
//! types, the `none` and `other_document` fallbacks, evidence and JSON.

use super::{DocumentReader, DocumentReading, EvidenceKind, Side};
use crate::{CustomTypeRule, DocumentEvidence, DocumentType, EvidenceLine, Field, FieldName};

/// Lines stacked down a scanned or photographed page.
fn page(texts: &[&str]) -> Vec<EvidenceLine> {
    texts
        .iter()
        .enumerate()
        .map(|(index, text)| EvidenceLine {
            text: (*text).to_string(),
            confidence: 0.95,
            rect: [0.08, 0.1 + index as f32 * 0.05, 0.7, 0.04],
        })
        .collect()
}

/// A photographed document: camera EXIF, text makes up the image.
fn photographed(texts: &[&str]) -> DocumentEvidence {
    DocumentEvidence {
        lines: page(texts),
        size: (3024, 4032),
        camera_exif: true,
        text_dominant: true,
        ..DocumentEvidence::default()
    }
}

fn reader() -> DocumentReader {
    DocumentReader::new(&[]).unwrap()
}

fn read(evidence: &DocumentEvidence) -> DocumentReading {
    reader().read(evidence)
}

fn field(name: FieldName, value: &str, valid: Option<bool>) -> Field {
    Field {
        name,
        value: value.to_string(),
        unit: None,
        line: 0,
        source: value.to_string(),
        confidence: 0.95,
        valid,
    }
}

fn has_evidence(reading: &DocumentReading, kind: EvidenceKind, detail: &str) -> bool {
    reading
        .evidence
        .iter()
        .any(|item| item.kind == kind && item.detail == detail)
}

#[track_caller]
fn assert_type(reading: &DocumentReading, expected: DocumentType) {
    assert_eq!(reading.doc_type, expected, "{reading:#?}");
    assert!(
        reading.confidence >= 0.5 && reading.confidence <= 1.0,
        "{reading:#?}"
    );
}

const ID_CARD_FRONT: &[&str] = &[
    "姓名 张三",
    "性别 男  民族 汉",
    "出生 1949 年 12 月 31 日",
    "住址 北京市朝阳区建国路 88 号",
    "公民身份号码 11010519491231002X",
];

#[test]
fn id_card_front_with_its_face() {
    let mut evidence = photographed(ID_CARD_FRONT);
    evidence.faces = vec![[0.65, 0.2, 0.25, 0.4]];
    let reading = read(&evidence);
    assert_type(&reading, DocumentType::IdCard);
    assert_eq!(reading.side, Some(Side::Front));
    assert!(reading.is_identity_paper());
    assert!(has_evidence(
        &reading,
        EvidenceKind::Keyword,
        "公民身份号码"
    ));
    assert!(has_evidence(
        &reading,
        EvidenceKind::Keyword,
        "姓名, 性别, 民族, 出生, 住址"
    ));
    assert!(has_evidence(
        &reading,
        EvidenceKind::Signal,
        "face_on_document"
    ));
    assert!(has_evidence(&reading, EvidenceKind::Field, "id_number"));
    let number = reading.field(FieldName::IdNumber).map(|f| f.value.as_str());
    assert_eq!(number, Some("11010519491231002X"));
}

#[test]
fn id_card_back() {
    let reading = read(&photographed(&[
        "中华人民共和国",
        "居民身份证",
        "签发机关 北京市公安局朝阳分局",
        "有效期限 2015.03.01-2035.03.01",
    ]));
    assert_type(&reading, DocumentType::IdCard);
    assert_eq!(reading.side, Some(Side::Back));
}

#[test]
fn id_card_from_a_valid_number_a_face_and_one_label() {
    let mut evidence = photographed(&["姓名 张三", "11010519491231002X", "北京市朝阳区"]);
    evidence.faces = vec![[0.65, 0.2, 0.25, 0.4]];
    let fields = vec![field(FieldName::IdNumber, "11010519491231002X", Some(true))];
    let reading = reader().read_with_fields(&evidence, fields);
    assert_type(&reading, DocumentType::IdCard);
    assert!(has_evidence(&reading, EvidenceKind::Field, "id_number"));
    assert_eq!(reading.side, Some(Side::Front));
}

#[test]
fn passport_data_page() {
    let reading = read(&photographed(&[
        "中华人民共和国 PEOPLE'S REPUBLIC OF CHINA",
        "护照 PASSPORT",
        "类型/Type 国家码/Country Code 护照号/Passport No.",
        "P CHN E12345678",
        "姓名/Name ZHANG, SAN",
        "性别/Sex 国籍/Nationality",
        "男/M 中国/CHINESE",
        "出生日期/Date of birth 01 JAN 1990",
        "出生地点/Place of birth 北京/BEIJING",
        "有效期至/Date of expiry 01 JAN 2030",
        "P<CHNZHANG<<SAN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<",
        "E123456784CHN9001014M3001015<<<<<<<<<<<<<<02",
    ]));
    assert_type(&reading, DocumentType::Passport);
    assert_eq!(reading.side, None);
    assert!(has_evidence(&reading, EvidenceKind::Keyword, "护照"));
    assert!(has_evidence(&reading, EvidenceKind::Keyword, "P<"));
    assert!(has_evidence(&reading, EvidenceKind::Field, "mrz"));
}

#[test]
fn passport_from_its_td3_mrz_alone() {
    let mrz = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    let evidence = photographed(&mrz);
    let fields = vec![field(FieldName::Mrz, &mrz.join("\n"), Some(true))];
    let reading = reader().read_with_fields(&evidence, fields);
    assert_type(&reading, DocumentType::Passport);
    assert!(has_evidence(&reading, EvidenceKind::Field, "mrz"));
}

#[test]
fn driving_licence() {
    let reading = read(&photographed(&[
        "中华人民共和国机动车驾驶证",
        "证号 110105199001011234",
        "姓名 张三  性别 男  国籍 中国",
        "住址 北京市朝阳区建国路 88 号",
        "出生日期 1990-01-01",
        "初次领证日期 2010-05-01",
        "准驾车型 C1",
        "有效期限 2010-05-01 至 2020-05-01",
    ]));
    assert_type(&reading, DocumentType::DrivingLicence);
    assert!(has_evidence(&reading, EvidenceKind::Keyword, "准驾车型"));
}

#[test]
fn business_licence() {
    let reading = read(&photographed(&[
        "营业执照",
        "（副本）",
        "统一社会信用代码 91350100M000100Y43",
        "名称 北京某某科技有限公司",
        "类型 有限责任公司(自然人投资或控股)",
        "法定代表人 李四",
        "经营范围 技术开发、技术咨询、技术服务",
        "注册资本 100万元",
        "成立日期 2015年01月01日",
        "住所 北京市海淀区中关村大街 1 号",
        "登记机关 北京市海淀区市场监督管理局",
        "国家企业信用信息公示系统网址: http://www.gsxt.gov.cn",
    ]));
    assert_type(&reading, DocumentType::BusinessLicence);
    assert!(has_evidence(&reading, EvidenceKind::Keyword, "营业执照"));
}

#[test]
fn vat_invoice_lists_only_its_own_evidence() {
    let reading = read(&photographed(&[
        "北京增值税电子普通发票",
        "发票代码: 011001900111",
        "发票号码: 12345678",
        "开票日期: 2023年05月20日",
        "校验码: 12345 67890 12345 67890",
        "购买方 名称: 北京某某科技有限公司",
        "纳税人识别号: 91110108MA01234567",
        "销售方 名称: 上海某某餐饮有限公司",
        "项目名称 规格型号 单位 数量 单价 金额 税率 税额",
        "*餐饮服务*餐费 1 94.34 94.34 6% 5.66",
        "合计 ¥94.34 ¥5.66",
        "价税合计(大写) 壹佰圆整 (小写) ¥100.00",
        "开票人: 王五",
    ]));
    assert_type(&reading, DocumentType::Invoice);
    assert!(has_evidence(&reading, EvidenceKind::Keyword, "发票"));
    assert!(has_evidence(&reading, EvidenceKind::Keyword, "价税合计"));
    assert!(has_evidence(
        &reading,
        EvidenceKind::Keyword,
        "发票代码, 发票号码"
    ));
    assert!(has_evidence(&reading, EvidenceKind::Field, "invoice_code"));
    assert!(has_evidence(
        &reading,
        EvidenceKind::Field,
        "invoice_number"
    ));
    assert!(reading.field(FieldName::TotalAmount).is_some());
    let invoice_weight = reading
        .evidence
        .iter()
        .find(|item| item.detail == "发票")
        .map(|item| item.weight);
    assert_eq!(invoice_weight, Some(0.5));
    // 合计 is receipt evidence: not listed for an invoice.
    assert!(!has_evidence(&reading, EvidenceKind::Keyword, "合计, 总计"));
    assert!(!reading.is_identity_paper());
}

#[test]
fn english_invoice() {
    let reading = read(&photographed(&[
        "ACME Consulting Ltd",
        "INVOICE",
        "Invoice No: INV-2023-0042",
        "Invoice Date: 20 May 2023",
        "Bill To: Example Corp",
        "Consulting services 10 h 1,000.00",
        "VAT 20% 200.00",
        "Total due 1,200.00",
    ]));
    assert_type(&reading, DocumentType::Invoice);
}

#[test]
fn till_receipt() {
    let reading = read(&photographed(&[
        "GREEN GROCER",
        "12 High Street",
        "MILK 2L 1.20",
        "BREAD 0.95",
        "SUBTOTAL 2.15",
        "TOTAL 2.15",
        "VISA 2.15",
        "CHANGE 0.00",
        "THANK YOU FOR SHOPPING",
    ]));
    assert_type(&reading, DocumentType::Receipt);
    assert!(has_evidence(&reading, EvidenceKind::Keyword, "subtotal"));
    assert!(
        reading.field(FieldName::TotalAmount).is_some(),
        "{reading:#?}"
    );
}

#[test]
fn chinese_supermarket_receipt() {
    let reading = read(&photographed(&[
        "联华超市 欢迎光临",
        "收银员: 008  机号: 03",
        "商品 数量 金额",
        "矿泉水 2 4.00",
        "面包 1 6.50",
        "合计: 10.50",
        "实收: 20.00  找零: 9.50",
        "谢谢惠顾",
    ]));
    assert_type(&reading, DocumentType::Receipt);
}

#[test]
fn bank_transfer_slip() {
    let reading = read(&photographed(&[
        "中国工商银行 网上银行电子回单",
        "交易流水号 2023052012345678",
        "付款人 户名 张三 账号 6222 0200 1234 5678 901",
        "收款人 户名 李四 账号 6217 0000 1234 5678",
        "金额 ¥1,000.00",
        "交易时间 2023-05-20 14:23:11",
        "用途 转账",
    ]));
    assert_type(&reading, DocumentType::BankSlip);
}

#[test]
fn registration_form() {
    let reading = read(&photographed(&[
        "员工入职登记表",
        "请填写以下信息",
        "姓名          □男 □女",
        "出生年月",
        "联系电话",
        "紧急联系人",
        "签名:            日期:",
    ]));
    assert_type(&reading, DocumentType::Form);
    assert!(has_evidence(&reading, EvidenceKind::Keyword, "□"));
}

#[test]
fn letter() {
    let reading = read(&photographed(&[
        "尊敬的王先生：",
        "您好！感谢您一直以来对我公司的支持与信任。",
        "现就双方合作事宜函告如下，请予以确认。",
        "此致",
        "敬礼！",
        "北京某某科技有限公司",
        "2023年5月20日",
    ]));
    assert_type(&reading, DocumentType::Letter);
}

#[test]
fn chat_screenshot() {
    let line = |text: &str, rect: [f32; 4]| EvidenceLine {
        text: text.to_string(),
        confidence: 0.97,
        rect,
    };
    let evidence = DocumentEvidence {
        lines: vec![
            line("9:41", [0.06, 0.012, 0.1, 0.02]),
            line("100%", [0.84, 0.012, 0.1, 0.02]),
            line("张三", [0.45, 0.055, 0.1, 0.03]),
            line("在吗？", [0.15, 0.15, 0.15, 0.04]),
            line("在的，什么事", [0.55, 0.22, 0.35, 0.04]),
            line("发票开好了吗", [0.15, 0.29, 0.3, 0.04]),
            line("开好了，马上发你", [0.5, 0.36, 0.4, 0.04]),
            line("好的谢谢", [0.15, 0.43, 0.2, 0.04]),
            line("发送", [0.85, 0.94, 0.1, 0.04]),
        ],
        size: (1170, 2532),
        camera_exif: false,
        ..DocumentEvidence::default()
    };
    let reading = read(&evidence);
    assert_type(&reading, DocumentType::Screenshot);
    for signal in [
        "status_bar",
        "battery_level",
        "chat_bubbles",
        "no_camera_exif",
    ] {
        assert!(
            has_evidence(&reading, EvidenceKind::Signal, signal),
            "{signal}"
        );
    }
}

#[test]
fn text_of_no_type_is_another_document_with_low_confidence() {
    let reading = read(&photographed(&[
        "第一章 春天",
        "那年春天，我们搬到了城郊的一座小院。",
        "院子里有一棵老槐树，枝叶伸过了墙头。",
        "每天清晨，鸟儿在树上叫个不停。",
        "母亲在树下种了几垄青菜。",
        "父亲说，等槐花开了，就做槐花饭。",
    ]));
    assert_eq!(
        reading.doc_type,
        DocumentType::OtherDocument,
        "{reading:#?}"
    );
    assert!(reading.confidence < 0.5);
    assert!(has_evidence(
        &reading,
        EvidenceKind::Signal,
        "text_dominant"
    ));
}

#[test]
fn a_photo_with_two_short_words_is_not_a_document() {
    let mut evidence = photographed(&["STOP", "Main St"]);
    evidence.text_dominant = false;
    evidence.classes = vec![("street_sign".to_string(), 0.8)];
    let reading = read(&evidence);
    assert_eq!(reading.doc_type, DocumentType::None);
    assert!(reading.evidence.is_empty());
    assert!(reading.confidence > 0.5);
}

#[test]
fn no_text_is_not_a_document() {
    let evidence = DocumentEvidence {
        classes: vec![("web_site".to_string(), 0.9)],
        faces: vec![[0.4, 0.3, 0.2, 0.3]],
        ..DocumentEvidence::default()
    };
    let reading = read(&evidence);
    assert_eq!(reading.doc_type, DocumentType::None);
    assert_eq!(reading.confidence, 1.0);
    assert!(reading.fields.is_empty() && reading.evidence.is_empty());
}

#[test]
fn not_a_document_keeps_only_validated_fields() {
    let mut evidence = photographed(&["Call 11010519491231002X", "No 12345678"]);
    evidence.text_dominant = false;
    let fields = vec![
        field(FieldName::IdNumber, "11010519491231002X", Some(true)),
        field(FieldName::InvoiceNumber, "12345678", None),
        field(FieldName::CreditCode, "91350100M000100Y44", Some(false)),
    ];
    let reading = reader().read_with_fields(&evidence, fields);
    assert_eq!(reading.doc_type, DocumentType::None);
    assert_eq!(reading.fields.len(), 1);
    assert!(reading.field(FieldName::IdNumber).is_some());
    assert!(reading.field(FieldName::InvoiceNumber).is_none());
}

fn insurance_claim() -> CustomTypeRule {
    CustomTypeRule {
        id: "insurance_claim".to_string(),
        name_zh: "理赔申请".to_string(),
        name_en: Some("Insurance claim".to_string()),
        keywords: vec!["理赔".to_string(), "保单号".to_string()],
        min_matches: 2,
        weight: 0.9,
    }
}

const CLAIM_FORM: &[&str] = &[
    "平安保险 理赔申请书",
    "保单号: P1234567890",
    "被保险人: 张三",
    "出险日期: 2023-05-01",
    "出险经过:",
    "申请人签名:",
];

#[test]
fn a_custom_type_wins_over_the_builtin_form() {
    let builtin = read(&photographed(CLAIM_FORM));
    assert_type(&builtin, DocumentType::Form);
    let reader = DocumentReader::new(&[insurance_claim()]).unwrap();
    let reading = reader.read(&photographed(CLAIM_FORM));
    assert_type(
        &reading,
        DocumentType::Custom("insurance_claim".to_string()),
    );
    assert_eq!(reading.confidence, 0.9);
    assert!(has_evidence(
        &reading,
        EvidenceKind::CustomRule,
        "理赔, 保单号"
    ));
    assert_eq!(
        reader.rules().display_name(&reading.doc_type, false),
        "Insurance claim"
    );
}

#[test]
fn a_custom_type_needs_its_minimum_matches() {
    let reader = DocumentReader::new(&[insurance_claim()]).unwrap();
    let reading = reader.read(&photographed(&[
        "理赔须知",
        "请填写以下信息",
        "签名: 日期:",
    ]));
    assert_ne!(reading.doc_type.as_str(), "insurance_claim");
}

#[test]
fn version_carries_the_revision_and_the_rules_digest() {
    let builtin = reader();
    let custom = DocumentReader::new(&[insurance_claim()]).unwrap();
    assert!(builtin.version().starts_with("2-"));
    assert!(builtin.version().ends_with(&builtin.rules().digest()));
    assert_ne!(builtin.version(), custom.version());
}

#[test]
fn readings_round_trip_through_json() {
    let reader = DocumentReader::new(&[insurance_claim()]).unwrap();
    let mut evidence = photographed(ID_CARD_FRONT);
    evidence.faces = vec![[0.65, 0.2, 0.25, 0.4]];
    for reading in [read(&evidence), reader.read(&photographed(CLAIM_FORM))] {
        let json = serde_json::to_string(&reading).unwrap();
        let back: DocumentReading = serde_json::from_str(&json).unwrap();
        assert_eq!(back, reading);
    }
    let claim = reader.read(&photographed(CLAIM_FORM));
    let json = serde_json::to_value(&claim).unwrap();
    assert_eq!(json["doc_type"], "insurance_claim");
    assert_eq!(json["evidence"][0]["kind"], "custom_rule");
    assert!(json.get("side").is_none());
    let front = serde_json::to_value(read(&evidence)).unwrap();
    assert_eq!(front["side"], "front");
}

#[test]
fn expiry_comes_from_the_fields() {
    let reading = DocumentReading {
        doc_type: DocumentType::IdCard,
        confidence: 0.9,
        evidence: Vec::new(),
        fields: vec![field(FieldName::ExpiryDate, "2035-03-01", Some(true))],
        side: Some(Side::Back),
    };
    assert_eq!(
        reading.expires_on(),
        chrono::NaiveDate::from_ymd_opt(2035, 3, 1)
    );
}
