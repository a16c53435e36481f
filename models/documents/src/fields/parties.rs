//! Whose name a `名称` is on an invoice: the buyer's (购买方) or the
//! seller's (销售方).
//!
//! A VAT invoice prints each party as a block of rows (名称, 纳税人识别号,
//! 地址、电话, 开户行及账号) with the party's header left of it, often as
//! vertical text that OCR reads as separate short lines (`购` / `买方`),
//! and not always before the block in reading order. The rules, first
//! that applies:
//!
//! 1. A header earlier on the same line (`购买方 名称: ...`).
//! 2. Geometry: the header whose region is left of the `名称` line and
//!    shares rows with it (their vertical extents overlap; the most
//!    overlap wins).
//! 3. Reading order: a header at most [`PARTY_LINES`] lines before.
//! 4. On a page with any party header (an invoice), order: its first
//!    `名称` is the buyer's, its second the seller's.
//!
//! Otherwise a `名称` is a company name (a business licence's).

use super::FieldName;
use super::labels::{Kind, LabelHit};
use super::layout::{Layout, Region};
use super::split_labels::SplitLabel;
use super::text::trim_separators;

/// How many lines after a party header its `名称` may be, by order.
pub const PARTY_LINES: usize = 4;
/// How far a header may reach right over its block, in heights of the
/// `名称` line.
const HEADER_SLACK: f32 = 0.5;

/// Where a `名称` label is: its line, its index among the line's labels
/// (`None` when spelt by pieces over lines), its region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NameAt {
    /// The line (the first piece's for a spelt label).
    pub line: usize,
    /// Index of the label among the line's labels.
    pub hit: Option<usize>,
    /// Where it is printed (the whole line, or the pieces' union).
    pub region: Option<Region>,
}

/// A party header.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Header {
    side: FieldName,
    line: usize,
    hit: Option<usize>,
    /// Where it is printed, when it stands alone (a header sharing its
    /// line with a block row has no region of its own).
    region: Option<Region>,
}

/// The party headers and `名称` labels of a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parties {
    headers: Vec<Header>,
    names: Vec<(usize, Option<usize>)>,
}

impl Parties {
    /// The headers and names among `hits` (each line's characters and
    /// labels) and the `split` labels.
    pub fn new(hits: &[(Vec<char>, Vec<LabelHit>)], split: &[SplitLabel], layout: &Layout) -> Self {
        let mut parties = Self::default();
        for (line, (chars, line_hits)) in hits.iter().enumerate() {
            for (k, hit) in line_hits.iter().enumerate() {
                if let Some(side) = side_of_label(hit.label.kind) {
                    let alone = line_hits.len() == 1 && nothing_after(chars, hit);
                    parties.headers.push(Header {
                        side,
                        line,
                        hit: Some(k),
                        region: layout.region(line).filter(|_| alone),
                    });
                }
                if hit.label.kind == Kind::CompanyOrParty {
                    parties.names.push((line, Some(k)));
                }
            }
        }
        for s in split {
            let line = s.lines.first().copied().unwrap_or_default();
            if let Some(side) = side_of_label(s.label.kind) {
                parties.headers.push(Header {
                    side,
                    line,
                    hit: None,
                    region: s.region,
                });
            }
            if s.label.kind == Kind::CompanyOrParty {
                parties.names.push((line, None));
            }
        }
        parties.names.sort();
        parties
    }

    /// Whose name the `名称` at `at` is (see the module's rules), `None`
    /// for a company name.
    pub fn side_of(&self, at: &NameAt) -> Option<FieldName> {
        self.same_line(at)
            .or_else(|| self.beside(at))
            .or_else(|| self.after_header(at))
            .or_else(|| self.by_order(at))
    }

    fn same_line(&self, at: &NameAt) -> Option<FieldName> {
        let k = at.hit?;
        self.headers
            .iter()
            .rfind(|h| h.line == at.line && h.hit.is_some_and(|hk| hk < k))
            .map(|h| h.side)
    }

    fn beside(&self, at: &NameAt) -> Option<FieldName> {
        let name = at.region?;
        self.headers
            .iter()
            .filter_map(|h| h.region.map(|r| (h, r)))
            .filter(|(_, r)| r.right <= name.left + HEADER_SLACK * name.height())
            .map(|(h, r)| (h.side, r.vertical_overlap(&name)))
            .filter(|(_, overlap)| *overlap > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(side, _)| side)
    }

    fn after_header(&self, at: &NameAt) -> Option<FieldName> {
        self.headers
            .iter()
            .filter(|h| h.line < at.line && at.line - h.line <= PARTY_LINES)
            .max_by_key(|h| h.line)
            .map(|h| h.side)
    }

    fn by_order(&self, at: &NameAt) -> Option<FieldName> {
        if self.headers.is_empty() {
            return None;
        }
        match self.names.iter().position(|n| *n == (at.line, at.hit))? {
            0 => Some(FieldName::Buyer),
            1 => Some(FieldName::Seller),
            _ => None,
        }
    }
}

/// The party a label heads, if it is a party header.
fn side_of_label(kind: Kind) -> Option<FieldName> {
    match kind {
        Kind::Party(side) | Kind::Text(side @ (FieldName::Buyer | FieldName::Seller)) => Some(side),
        _ => None,
    }
}

/// Whether nothing but separators follows `hit` on its line.
fn nothing_after(chars: &[char], hit: &LabelHit) -> bool {
    let rest: String = chars.get(hit.end..).unwrap_or_default().iter().collect();
    trim_separators(&rest).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::EvidenceLine;
    use crate::fields::labels::find_labels;
    use crate::fields::split_labels::split_labels;

    fn sides(items: &[(&str, [f32; 4])]) -> Vec<Option<FieldName>> {
        let evidence: Vec<EvidenceLine> = items
            .iter()
            .map(|(t, rect)| EvidenceLine {
                text: t.to_string(),
                confidence: 1.0,
                rect: *rect,
            })
            .collect();
        let normalised: Vec<String> = items.iter().map(|(t, _)| t.to_string()).collect();
        let layout = Layout::new(&evidence);
        let hits: Vec<(Vec<char>, Vec<LabelHit>)> = normalised
            .iter()
            .map(|t| {
                let chars: Vec<char> = t.chars().collect();
                let hits = find_labels(&chars);
                (chars, hits)
            })
            .collect();
        let split = split_labels(&normalised, &layout);
        let parties = Parties::new(&hits, &split, &layout);
        let mut out = Vec::new();
        for (line, (_, line_hits)) in hits.iter().enumerate() {
            for (k, hit) in line_hits.iter().enumerate() {
                if hit.label.kind == Kind::CompanyOrParty {
                    out.push(parties.side_of(&NameAt {
                        line,
                        hit: Some(k),
                        region: layout.region(line),
                    }));
                }
            }
        }
        out
    }

    #[test]
    fn vertical_headers_by_geometry() {
        // A VAT invoice as OCR'd: each block's 名称 line comes before the
        // pieces of its vertical header.
        let found = sides(&[
            (
                "名称:北京青禾餐饮管理有限公司",
                [0.109, 0.185, 0.295, 0.017],
            ),
            ("购", [0.059, 0.197, 0.025, 0.019]),
            (
                "纳税人识别号:91110105MA01R8XK3P",
                [0.107, 0.215, 0.348, 0.017],
            ),
            ("买方", [0.054, 0.226, 0.034, 0.058]),
            ("价税合计(大写)", [0.062, 0.557, 0.153, 0.019]),
            (
                "名称:北京博远办公设备有限公司",
                [0.108, 0.600, 0.296, 0.017],
            ),
            ("销", [0.059, 0.611, 0.027, 0.021]),
            (
                "纳税人识别号:91110108MA04C2WN6Y",
                [0.107, 0.631, 0.352, 0.017],
            ),
            ("售方", [0.056, 0.641, 0.031, 0.059]),
        ]);
        assert_eq!(found, vec![Some(FieldName::Buyer), Some(FieldName::Seller)]);
    }

    #[test]
    fn geometry_beats_order() {
        // Only the seller's block, scanned 5 degrees off, its header spelt
        // 销 / 售 / 方 down the column: by order it would be the buyer's.
        let found = sides(&[
            ("价税合计(大写)", [0.115, 0.527, 0.137, 0.027]),
            ("¥1000.00", [0.673, 0.530, 0.077, 0.021]),
            ("⊗壹仟壹佰叁拾元整", [0.276, 0.538, 0.168, 0.028]),
            ("¥130.00", [0.812, 0.539, 0.070, 0.021]),
            ("(小写)¥1130.00", [0.617, 0.559, 0.150, 0.029]),
            (
                "名称:北京博远办公设备有限公司",
                [0.150, 0.569, 0.257, 0.035],
            ),
            ("销", [0.106, 0.576, 0.027, 0.021]),
            (
                "纳税人识别号:91110108MA04C2WN6Y",
                [0.147, 0.597, 0.306, 0.038],
            ),
            ("订单号:BY-20261120-017", [0.644, 0.603, 0.189, 0.028]),
            ("售", [0.107, 0.608, 0.019, 0.020]),
            (
                "地址、电话:北京市海淀区中关村大街27号010-82651234",
                [0.142, 0.624, 0.438, 0.048],
            ),
            ("备", [0.609, 0.623, 0.020, 0.016]),
            ("方", [0.099, 0.636, 0.028, 0.022]),
            (
                "开户行及账号:工行北京中关村支行0200004509200123456",
                [0.140, 0.653, 0.453, 0.047],
            ),
            ("注", [0.602, 0.661, 0.024, 0.019]),
        ]);
        assert_eq!(found, vec![Some(FieldName::Seller)]);
    }

    #[test]
    fn headers_on_the_line_or_before_it() {
        let found = sides(&[
            ("购买方信息 名称:甲公司", [0.0; 4]),
            ("销售方", [0.0; 4]),
            ("名称:乙公司", [0.0; 4]),
        ]);
        assert_eq!(found, vec![Some(FieldName::Buyer), Some(FieldName::Seller)]);
    }

    #[test]
    fn invoice_order_when_nothing_else_tells() {
        // Headers printed after their blocks, no boxes: first buyer, then
        // seller.
        let found = sides(&[
            ("名称:甲公司", [0.0; 4]),
            ("纳税人识别号:91350100M000100Y43", [0.0; 4]),
            ("地址、电话:某地", [0.0; 4]),
            ("开户行及账号:某行", [0.0; 4]),
            ("名称:乙公司", [0.0; 4]),
            ("x", [0.0; 4]),
            ("x", [0.0; 4]),
            ("x", [0.0; 4]),
            ("x", [0.0; 4]),
            ("销售方:(章)", [0.0; 4]),
        ]);
        assert_eq!(found, vec![Some(FieldName::Buyer), Some(FieldName::Seller)]);
    }

    #[test]
    fn no_header_no_party() {
        let found = sides(&[("名 称 某某科技有限公司", [0.0; 4])]);
        assert_eq!(found, vec![None]);
    }
}
