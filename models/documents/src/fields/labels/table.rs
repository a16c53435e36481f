//! The labels read, Chinese and English, and what each one's value is.
//! Longer labels win over shorter ones at the same place (`价税合计` over
//! `合计`, `出生日期` over `出生`), so a label inside another is safe.

use super::{Kind, Label};
use crate::fields::FieldName::{
    BirthDate, Buyer, CompanyName, DocumentNumber, ExpiryDate, InvoiceCode, InvoiceNumber,
    IssueDate, Name, Nationality, Seller,
};

/// A label whose value may be on the next line.
const fn label(text: &'static str, kind: Kind) -> Label {
    Label {
        text,
        kind,
        boundary: false,
        next_line: true,
    }
}

/// A label that only counts at the start of a line, after a separator or
/// right after another label (it also ends words such as `服务名称`).
const fn bounded(text: &'static str, kind: Kind) -> Label {
    Label {
        text,
        kind,
        boundary: true,
        next_line: true,
    }
}

/// A label whose value must be on its own line.
const fn same_line(text: &'static str, kind: Kind) -> Label {
    Label {
        text,
        kind,
        boundary: true,
        next_line: false,
    }
}

/// Every label.
pub const LABELS: &[Label] = &[
    // Names.
    label("姓名", Kind::Text(Name)),
    label("Name", Kind::Text(Name)),
    label("Full name", Kind::Text(Name)),
    label("Surname", Kind::Surname),
    label("Given names", Kind::GivenNames),
    label("Given name", Kind::GivenNames),
    label("性别", Kind::Sex),
    label("Sex", Kind::Sex),
    label("民族", Kind::Text(Nationality)),
    label("国籍", Kind::Text(Nationality)),
    label("Nationality", Kind::Text(Nationality)),
    // Dates.
    label("出生日期", Kind::Date(BirthDate)),
    bounded("出生", Kind::Date(BirthDate)),
    label("Date of birth", Kind::Date(BirthDate)),
    label("Birth date", Kind::Date(BirthDate)),
    label("DOB", Kind::Date(BirthDate)),
    label("签发日期", Kind::Date(IssueDate)),
    label("开票日期", Kind::Date(IssueDate)),
    label("Date of issue", Kind::Date(IssueDate)),
    label("Issue date", Kind::Date(IssueDate)),
    // A bare date on a receipt or invoice is the day it was issued; longer
    // labels (出生日期, Date of birth, 有效期至) win where they match.
    bounded("日期", Kind::Date(IssueDate)),
    bounded("Date", Kind::Date(IssueDate)),
    label("有效期至", Kind::Date(ExpiryDate)),
    label("Date of expiry", Kind::Date(ExpiryDate)),
    label("Expiry date", Kind::Date(ExpiryDate)),
    label("Valid until", Kind::Date(ExpiryDate)),
    label("Expires", Kind::Date(ExpiryDate)),
    label("有效期限", Kind::Validity),
    bounded("有效期", Kind::Validity),
    label("营业期限", Kind::Validity),
    // Numbers and codes.
    label("公民身份号码", Kind::IdNumber),
    label("公民身份证号码", Kind::IdNumber),
    label("身份证号码", Kind::IdNumber),
    label("身份证号", Kind::IdNumber),
    label("统一社会信用代码", Kind::CreditCode),
    label("社会信用代码", Kind::CreditCode),
    label("纳税人识别号", Kind::CreditCode),
    label("Passport No", Kind::Code(DocumentNumber)),
    label("Passport Number", Kind::Code(DocumentNumber)),
    label("护照号码", Kind::Code(DocumentNumber)),
    label("护照号", Kind::Code(DocumentNumber)),
    label("Document No", Kind::Code(DocumentNumber)),
    label("发票代码", Kind::Code(InvoiceCode)),
    label("发票号码", Kind::Code(InvoiceNumber)),
    label("Invoice No", Kind::Code(InvoiceNumber)),
    label("Invoice Number", Kind::Code(InvoiceNumber)),
    // Companies and parties.
    bounded("名称", Kind::CompanyOrParty),
    label("企业名称", Kind::Text(CompanyName)),
    label("公司名称", Kind::Text(CompanyName)),
    label("Company name", Kind::Text(CompanyName)),
    label("购买方名称", Kind::Text(Buyer)),
    label("购方名称", Kind::Text(Buyer)),
    label("销售方名称", Kind::Text(Seller)),
    label("销方名称", Kind::Text(Seller)),
    label("购买方信息", Kind::Party(Buyer)),
    label("购买方", Kind::Party(Buyer)),
    label("购方", Kind::Party(Buyer)),
    label("销售方信息", Kind::Party(Seller)),
    label("销售方", Kind::Party(Seller)),
    label("销方", Kind::Party(Seller)),
    // Totals, best first.
    label("价税合计", Kind::Amount(0)),
    label("Grand total", Kind::Amount(0)),
    label("Total due", Kind::Amount(0)),
    label("Amount due", Kind::Amount(0)),
    label("应付金额", Kind::Amount(0)),
    label("实付金额", Kind::Amount(0)),
    label("总计", Kind::Amount(0)),
    bounded("合计", Kind::Amount(1)),
    label("Total", Kind::Amount(1)),
    label("总金额", Kind::Amount(1)),
    same_line("金额", Kind::Amount(2)),
    same_line("Amount", Kind::Amount(2)),
    // Labels without a field: they end the value before them.
    label("住址", Kind::Other),
    label("签发机关", Kind::Other),
    label("签发地点", Kind::Other),
    label("出生地点", Kind::Other),
    label("出生地", Kind::Other),
    label("Place of birth", Kind::Other),
    label("Place of issue", Kind::Other),
    label("Authority", Kind::Other),
    label("Issuing authority", Kind::Other),
    label("Country code", Kind::Other),
    label("Code of issuing State", Kind::Other),
    label("Personal No", Kind::Other),
    label("Type", Kind::Other),
    label("类型", Kind::Other),
    bounded("住所", Kind::Other),
    label("法定代表人", Kind::Other),
    label("注册资本", Kind::Other),
    label("成立日期", Kind::Other),
    label("经营范围", Kind::Other),
    label("登记机关", Kind::Other),
    bounded("地址", Kind::Other),
    bounded("电话", Kind::Other),
    label("开户行及账号", Kind::Other),
    label("税率", Kind::Other),
    label("税额", Kind::Other),
    label("校验码", Kind::Other),
    label("机器编号", Kind::Other),
    label("密码区", Kind::Other),
    label("备注", Kind::Other),
    label("收款人", Kind::Other),
    label("复核", Kind::Other),
    label("开票人", Kind::Other),
    label("Due date", Kind::Other),
    label("Delivery date", Kind::Other),
    label("Subtotal", Kind::Other),
    label("Total tax", Kind::Other),
    label("Tax", Kind::Other),
];

/// Words kept as they are when masking a line, besides the labels: the
/// titles printed on identity papers.
pub const TITLES: &[&str] = &[
    "中华人民共和国",
    "居民身份证",
    "护照",
    "PASSPORT",
    "PASSEPORT",
    "People's Republic of China",
    "Republic",
    "Identity card",
];
