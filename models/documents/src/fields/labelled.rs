//! The label pass: every label in every line, its value read from the rest
//! of the segment up to the next label; when nothing follows the label on
//! its line, from where forms print values:
//!
//! - **Right of it, on the same row**: the nearest line right of the label
//!   whose rows overlap it (`姓名` | `王秀英`; `名 称` | `福州...公司`).
//! - **Below it, in the same column**: when the row right of it holds
//!   nothing or another label (a passport's `签发日期 / Date of issue`,
//!   with `签发机关/Authority` beside it, has `16 APR 2007` under it), the
//!   nearest line under the label that shares its column, at most
//!   [`BELOW_GAP`] label heights down.
//!
//! A line opening or ending with a label, or spelling one by pieces, is
//! never a value. The rows and columns are the upright, deskewed page's
//! ([`super::layout`]); a line without a box falls back to reading order:
//! the next line, unless that opens with a label (a row of labels over a
//! row of values: dates by column).
//!
//! Some values run on:
//!
//! - **Amounts** look along the row: when a total's own text holds no
//!   number (`价税合计(大写)`), the lines right of it on its row are read
//!   with it (`⊗壹仟...整`, `(小写)¥1130.00`), up to one holding a label;
//!   of several numbers, the one most like money ([`find_amount`]).
//! - **Validity periods** wrap: a period that stops after its separator
//!   (`2015年03月01日至`) continues on the line under it in its column
//!   (`2035年02月28日`), or the next line without boxes.
//!
//! Labels spelt over several lines are read the same way from where their
//! pieces are ([`super::split_labels`]). `名称` is the buyer's or seller's
//! name by its party header ([`super::parties`]), else a company's; a
//! surname and given names are joined into one name.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::amounts::{find_amount, find_money};
use super::dates::{Century, Validity, find_validity, locate_dates};
use super::found::{Found, Origin};
use super::label_values::{Reading, read};
use super::labels::{Kind, Label, LabelHit, find_labels, value_start};
use super::layout::{Layout, Region};
use super::parties::{NameAt, Parties};
use super::split_labels::{SplitLabel, split_labels};
use super::text::trim_separators;
use crate::evidence::EvidenceLine;

/// How far below a label its value may start, in the label's heights.
pub const BELOW_GAP: f32 = 2.5;

/// The lines of a page with their labels and layout.
struct Page<'a> {
    normalised: &'a [String],
    layout: Layout,
    /// Each line's characters and labels.
    hits: Vec<(Vec<char>, Vec<LabelHit>)>,
    /// Lines that are pieces of a spelt label.
    pieces: HashSet<usize>,
}

/// Where a label is, for reading the value printed near it.
struct Anchor<'a> {
    label: &'static Label,
    /// Its region on the page, when known.
    region: Option<Region>,
    /// The lines it is printed on (never its own value).
    lines: &'a [usize],
}

/// Every labelled field in `lines` (`normalised` holds their NFKC text).
pub fn read_labelled(
    lines: &[EvidenceLine],
    normalised: &[String],
    today: NaiveDate,
) -> Vec<Found> {
    let layout = Layout::new(lines);
    let hits = normalised
        .iter()
        .map(|text| {
            let chars: Vec<char> = text.chars().collect();
            let hits = find_labels(&chars);
            (chars, hits)
        })
        .collect();
    let split = split_labels(normalised, &layout);
    let page = Page {
        normalised,
        pieces: split.iter().flat_map(|s| s.lines.iter().copied()).collect(),
        layout,
        hits,
    };
    let parties = Parties::new(&page.hits, &split, &page.layout);
    let mut out = Vec::new();
    let mut parts = NameParts::default();
    let mut push = |hit_label: &'static Label, readings: Vec<Reading>, at: usize| {
        for reading in readings {
            let found = to_found(reading, at, lines, hit_label);
            match hit_label.kind {
                Kind::Surname => parts.surnames.push(found),
                Kind::GivenNames => parts.given.push(found),
                _ => out.push(found),
            }
        }
    };
    for (i, (_, hits)) in page.hits.iter().enumerate() {
        for (k, hit) in hits.iter().enumerate() {
            let Some((value, at)) = page.value_of(i, k) else {
                continue;
            };
            let party = (hit.label.kind == Kind::CompanyOrParty)
                .then(|| {
                    parties.side_of(&NameAt {
                        line: i,
                        hit: Some(k),
                        region: page.layout.region(i),
                    })
                })
                .flatten();
            push(hit.label, read(hit.label, &value, party, today), at);
        }
    }
    for spelt in &split {
        let Some((value, at)) = page.value_of_spelt(spelt) else {
            continue;
        };
        let party = (spelt.label.kind == Kind::CompanyOrParty)
            .then(|| {
                parties.side_of(&NameAt {
                    line: spelt.lines.first().copied().unwrap_or_default(),
                    hit: None,
                    region: spelt.region,
                })
            })
            .flatten();
        push(spelt.label, read(spelt.label, &value, party, today), at);
    }
    out.extend(parts.join());
    out
}

impl Page<'_> {
    /// The value of label `k` of line `line` and the line it is on: the
    /// rest of its segment, else the value printed near it (see the
    /// module's rules), run on where amounts and periods do.
    fn value_of(&self, line: usize, k: usize) -> Option<(String, usize)> {
        let (chars, hits) = self.hits.get(line)?;
        let hit = hits.get(k)?;
        let segment = segment(chars, hits, k)?;
        let anchor = Anchor {
            label: hit.label,
            region: self.layout.region(line),
            lines: &[line],
        };
        let found = if !trim_separators(&segment).is_empty() {
            Some((segment, line))
        } else if !hit.label.next_line {
            None
        } else if hits.len() == 1
            && let Some(region) = anchor.region
        {
            self.near(&anchor, &region)
        } else {
            self.below_in_order(chars, hits, k, line)
        };
        self.run_on(&anchor, found)
    }

    /// The value of a label spelt over several lines.
    fn value_of_spelt(&self, spelt: &SplitLabel) -> Option<(String, usize)> {
        if !spelt.label.next_line {
            return None;
        }
        let anchor = Anchor {
            label: spelt.label,
            region: spelt.region,
            lines: &spelt.lines,
        };
        let found = match anchor.region {
            Some(region) => self.near(&anchor, &region),
            None => {
                let last = spelt.lines.last().copied()?;
                self.next_value_line(last).map(|text| (text, last + 1))
            }
        };
        self.run_on(&anchor, found)
    }

    /// The value printed near a label alone at `region`: right of it on
    /// its row, else below it in its column.
    fn near(&self, anchor: &Anchor, region: &Region) -> Option<(String, usize)> {
        let right = self.layout.right_of(region, anchor.lines);
        if let Some(&first) = right.first()
            && !self.label_line(first)
        {
            return Some((self.text(first), first));
        }
        let below = self.layout.below(region, anchor.lines, BELOW_GAP)?;
        (!self.label_line(below)).then(|| (self.text(below), below))
    }

    /// The value of label `k` from the next line, by reading order (no
    /// region, or other labels on the line). From the next line, a label
    /// that is not the line's last takes its value only when the line
    /// holds nothing but labels (a header row): then its date is the one in
    /// its column, and free text is not read (it cannot be told apart).
    fn below_in_order(
        &self,
        chars: &[char],
        hits: &[LabelHit],
        k: usize,
        line: usize,
    ) -> Option<(String, usize)> {
        let hit = hits.get(k)?;
        let header_row = (0..hits.len()).all(|j| segment_of_labels_only(chars, hits, j));
        if k + 1 != hits.len() && !header_row {
            return None;
        }
        let next = self.next_value_line(line)?;
        if !header_row || hits.len() == 1 {
            return Some((next, line + 1));
        }
        match hit.label.kind {
            Kind::Date(_) => {
                let column = hits[..k]
                    .iter()
                    .filter(|h| matches!(h.label.kind, Kind::Date(_)))
                    .count();
                let date = locate_dates(&next, Some(Century::TwentyFirst))
                    .into_iter()
                    .nth(column)?;
                let text: String = next
                    .chars()
                    .skip(date.start)
                    .take(date.end - date.start)
                    .collect();
                Some((text, line + 1))
            }
            Kind::Text(_) | Kind::Surname | Kind::GivenNames | Kind::CompanyOrParty => None,
            _ => Some((next, line + 1)),
        }
    }

    /// `found` run on: an amount without a number along its row, a period
    /// without an end onto the line under it.
    fn run_on(&self, anchor: &Anchor, found: Option<(String, usize)>) -> Option<(String, usize)> {
        match anchor.label.kind {
            Kind::Amount(_) => self.amount_along_row(anchor, found),
            Kind::Validity => found.map(|(value, at)| self.wrapped_period(value, at)),
            _ => found,
        }
    }

    /// An amount's text: as found when it holds money (a currency or two
    /// decimals), else with the lines right of the label (or of the value
    /// found) on its row, up to one holding a label, read together. The
    /// line given is the one whose number is taken.
    fn amount_along_row(
        &self,
        anchor: &Anchor,
        found: Option<(String, usize)>,
    ) -> Option<(String, usize)> {
        if let Some((text, _)) = &found
            && find_money(text).is_some()
        {
            return found;
        }
        let region = match &found {
            Some((_, at)) if !anchor.lines.contains(at) => self.layout.region(*at),
            _ => anchor.region,
        };
        let Some(region) = region else {
            return found;
        };
        let mut except = anchor.lines.to_vec();
        except.extend(found.as_ref().map(|(_, at)| *at));
        let row = self
            .layout
            .right_of(&region, &except)
            .into_iter()
            .take_while(|&i| !self.holds_label(i));
        let mut parts: Vec<(String, usize)> = found.into_iter().collect();
        parts.extend(row.map(|i| (self.text(i), i)));
        let joined = parts
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let amount = find_amount(&joined)?;
        let at = parts
            .iter()
            .find(|(t, _)| find_amount(t).is_some_and(|a| a.value == amount.value))
            .or(parts.first())
            .map(|(_, i)| *i)?;
        Some((joined, at))
    }

    /// `value` (read at line `at`) with the line under it appended when it
    /// is a period stopping after its separator.
    fn wrapped_period(&self, value: String, at: usize) -> (String, usize) {
        let open = matches!(
            find_validity(&value),
            Some(Validity::Period { end: None, .. })
        );
        if !open {
            return (value, at);
        }
        let next = match self.layout.region(at) {
            Some(region) => self
                .layout
                .below(&region, &[at], BELOW_GAP)
                .filter(|&i| !self.label_line(i))
                .map(|i| self.text(i)),
            None => self.next_value_line(at),
        };
        match next {
            Some(next) => (format!("{value} {next}"), at),
            None => (value, at),
        }
    }

    /// The NFKC text of line `i`.
    fn text(&self, i: usize) -> String {
        self.normalised.get(i).cloned().unwrap_or_default()
    }

    /// Whether line `i` holds a label (or a piece of one).
    fn holds_label(&self, i: usize) -> bool {
        self.pieces.contains(&i) || self.hits.get(i).is_some_and(|(_, h)| !h.is_empty())
    }

    /// Whether line `i` is a label rather than a value: it opens or ends
    /// with a label, or is a piece of a spelt one.
    fn label_line(&self, i: usize) -> bool {
        if self.pieces.contains(&i) {
            return true;
        }
        let Some((chars, hits)) = self.hits.get(i) else {
            return false;
        };
        let (Some(first), Some(last)) = (hits.first(), hits.last()) else {
            return false;
        };
        let opens = chars[..first.start].iter().all(|c| c.is_whitespace());
        let rest: String = chars[value_start(chars, last.end)..].iter().collect();
        opens || trim_separators(&rest).is_empty()
    }

    /// The line after `line`, when it is not empty and does not open with
    /// a label.
    fn next_value_line(&self, line: usize) -> Option<String> {
        let next = self.normalised.get(line + 1)?;
        let (chars, hits) = self.hits.get(line + 1)?;
        let first = chars.iter().position(|c| !c.is_whitespace())?;
        let opens_with_label = hits.first().is_some_and(|h| h.start == first);
        (!opens_with_label).then(|| next.clone())
    }
}

/// The text between `hits[k]` (past its translation) and the next label.
fn segment(chars: &[char], hits: &[LabelHit], k: usize) -> Option<String> {
    let hit = hits.get(k)?;
    let end = hits.get(k + 1).map_or(chars.len(), |h| h.start);
    let start = value_start(chars, hit.end).min(end);
    Some(chars[start..end].iter().collect())
}

fn segment_of_labels_only(chars: &[char], hits: &[LabelHit], k: usize) -> bool {
    segment(chars, hits, k).is_some_and(|s| trim_separators(&s).is_empty())
}

fn to_found(reading: Reading, line: usize, lines: &[EvidenceLine], label: &Label) -> Found {
    let mut found = Found::new(
        reading.name,
        reading.value,
        reading.valid,
        Origin::Labelled,
        line,
        lines,
    );
    found.field.unit = reading.unit;
    if let Kind::Amount(rank) = label.kind {
        found.rank = rank;
    }
    found
}

/// Surnames and given names found, in order, to join pairwise.
#[derive(Default)]
struct NameParts {
    surnames: Vec<Found>,
    given: Vec<Found>,
}

impl NameParts {
    /// Each surname joined with the given names found with it (`ERIKSSON`
    /// and `ANNA MARIA` -> `ERIKSSON ANNA MARIA`, sources joined by `\n`);
    /// parts without a partner kept alone.
    fn join(self) -> Vec<Found> {
        let mut surnames = self.surnames.into_iter();
        let mut given = self.given.into_iter();
        let mut out = Vec::new();
        loop {
            match (surnames.next(), given.next()) {
                (Some(mut s), Some(g)) => {
                    s.field.value = format!("{} {}", s.field.value, g.field.value);
                    if g.field.line != s.field.line {
                        s.field.source = format!("{}\n{}", s.field.source, g.field.source);
                    }
                    s.field.confidence = s.field.confidence.min(g.field.confidence);
                    out.push(s);
                }
                (Some(one), None) | (None, Some(one)) => out.push(one),
                (None, None) => return out,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldName;

    fn evidence(texts: &[&str]) -> (Vec<EvidenceLine>, Vec<String>) {
        let lines: Vec<EvidenceLine> = texts
            .iter()
            .map(|t| EvidenceLine {
                text: t.to_string(),
                confidence: 0.9,
                rect: [0.0; 4],
            })
            .collect();
        let normalised = texts
            .iter()
            .map(|t| crate::fields::text::normalise(t))
            .collect();
        (lines, normalised)
    }

    fn fields(texts: &[&str]) -> Vec<(FieldName, String, usize)> {
        let (lines, normalised) = evidence(texts);
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        read_labelled(&lines, &normalised, today)
            .into_iter()
            .map(|f| (f.field.name, f.field.value, f.field.line))
            .collect()
    }

    #[test]
    fn same_line_and_next_line_values() {
        assert_eq!(
            fields(&["姓名:张三", "性别", "男"]),
            vec![
                (FieldName::Name, "张三".into(), 0),
                (FieldName::Sex, "M".into(), 2)
            ]
        );
    }

    #[test]
    fn next_line_opening_with_a_label_is_not_a_value() {
        assert_eq!(
            fields(&["姓名", "性别 男"]),
            vec![(FieldName::Sex, "M".into(), 1)]
        );
    }

    #[test]
    fn header_row_dates_by_column() {
        assert_eq!(
            fields(&[
                "签发日期/Date of issue 有效期至/Date of expiry",
                "01 JAN 2015 31 DEC 2024",
            ]),
            vec![
                (FieldName::IssueDate, "2015-01-01".into(), 1),
                (FieldName::ExpiryDate, "2024-12-31".into(), 1),
            ]
        );
    }

    #[test]
    fn header_row_text_is_not_guessed() {
        assert_eq!(
            fields(&["姓名 性别", "张三 男"]),
            vec![(FieldName::Sex, "M".into(), 1)]
        );
        assert_eq!(
            fields(&["性别/Sex 出生地点/Place of birth", "男/M 北京/BEIJING"]),
            vec![(FieldName::Sex, "M".into(), 1)]
        );
    }

    #[test]
    fn party_blocks_name_buyer_and_seller() {
        let found = fields(&[
            "购买方 名称:甲公司",
            "纳税人识别号:91350100M000100Y43",
            "销售方 名称:乙公司",
            "名称:丙公司",
        ]);
        let names: Vec<(FieldName, &str)> =
            found.iter().map(|(n, v, _)| (*n, v.as_str())).collect();
        assert!(names.contains(&(FieldName::Buyer, "甲公司")));
        assert!(names.contains(&(FieldName::Seller, "乙公司")));
        assert!(names.contains(&(FieldName::Seller, "丙公司")));
        assert!(
            names.contains(&(FieldName::CreditCode, "91350100M000100Y43")),
            "{names:?}"
        );
    }

    #[test]
    fn surname_and_given_names_are_joined() {
        let (lines, normalised) = evidence(&[
            "Surname/Nom",
            "ERIKSSON",
            "Given names/Prénoms",
            "ANNA MARIA",
        ]);
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let found = read_labelled(&lines, &normalised, today);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field.value, "ERIKSSON ANNA MARIA");
        assert_eq!(found[0].field.line, 1);
        assert_eq!(found[0].field.source, "ERIKSSON\nANNA MARIA");
    }

    /// What `read_labelled` finds among lines with boxes.
    fn placed(items: &[(&str, [f32; 4])]) -> Vec<(FieldName, String, Option<String>, usize)> {
        let lines: Vec<EvidenceLine> = items
            .iter()
            .map(|(t, rect)| EvidenceLine {
                text: t.to_string(),
                confidence: 1.0,
                rect: *rect,
            })
            .collect();
        let normalised: Vec<String> = items
            .iter()
            .map(|(t, _)| crate::fields::text::normalise(t))
            .collect();
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        read_labelled(&lines, &normalised, today)
            .into_iter()
            .map(|f| (f.field.name, f.field.value, f.field.unit, f.field.line))
            .collect()
    }

    #[test]
    fn value_right_of_the_label_on_its_row() {
        // An ID card: labels in a column, values right of them, the
        // number's line read before its label's.
        let found = placed(&[
            ("姓名", [0.054, 0.098, 0.063, 0.062]),
            ("王秀英", [0.161, 0.094, 0.105, 0.068]),
            ("性别", [0.054, 0.219, 0.070, 0.059]),
            ("女", [0.153, 0.216, 0.052, 0.067]),
            ("民族汉", [0.295, 0.217, 0.142, 0.065]),
            ("11010519491231002X", [0.348, 0.636, 0.319, 0.048]),
            ("公民身份号码", [0.178, 0.647, 0.124, 0.039]),
        ]);
        assert_eq!(
            found,
            vec![
                (FieldName::Name, "王秀英".into(), None, 1),
                (FieldName::Sex, "F".into(), None, 3),
                (FieldName::Nationality, "汉".into(), None, 4),
                (FieldName::IdNumber, "11010519491231002X".into(), None, 5),
            ]
        );
    }

    #[test]
    fn value_below_the_label_in_its_column() {
        // A passport data page: a row of labels over a row of values, each
        // OCR'd as its own line, another column's lines in between.
        let found = placed(&[
            ("国籍/ Nationality", [0.309, 0.443, 0.112, 0.031]),
            ("个人身份号码 / Personal No.", [0.701, 0.443, 0.177, 0.031]),
            ("UTOPIAN", [0.310, 0.476, 0.105, 0.034]),
            ("ZE 184226 B", [0.702, 0.478, 0.144, 0.031]),
            ("签发日期 / Date of issue", [0.310, 0.625, 0.153, 0.029]),
            ("签发机关/Authority", [0.701, 0.625, 0.130, 0.029]),
            ("持照人签名/Signature", [0.097, 0.659, 0.127, 0.023]),
            ("16 APR 2007", [0.310, 0.660, 0.144, 0.031]),
            ("PASSPORT OFFICE", [0.702, 0.660, 0.210, 0.029]),
        ]);
        assert_eq!(
            found,
            vec![
                (FieldName::Nationality, "UTOPIAN".into(), None, 2),
                (FieldName::IssueDate, "2007-04-16".into(), None, 7),
            ]
        );
    }

    #[test]
    fn a_label_with_nothing_near_has_no_value() {
        // The next line in reading order is another column's.
        let found = placed(&[
            ("签发日期 / Date of issue", [0.310, 0.625, 0.153, 0.029]),
            ("Anna Eriksson", [0.079, 0.667, 0.160, 0.036]),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn amounts_along_the_row_look_like_money() {
        // A receipt's total row: the item count, then the sum.
        let found = placed(&[
            ("合计 TOTAL", [0.040, 0.557, 0.276, 0.037]),
            ("9", [0.679, 0.562, 0.036, 0.026]),
            ("86.50", [0.814, 0.560, 0.142, 0.030]),
            ("现金Cash", [0.040, 0.594, 0.207, 0.030]),
            ("100.00", [0.821, 0.597, 0.134, 0.024]),
        ]);
        assert_eq!(
            found,
            vec![(
                FieldName::TotalAmount,
                "86.50".into(),
                Some("CNY".into()),
                2
            )]
        );
        // A VAT invoice: the total in words, then in figures, on the row.
        let found = placed(&[
            ("价税合计(大写)", [0.062, 0.557, 0.153, 0.019]),
            ("⊗壹仟壹佰叁拾元整", [0.248, 0.557, 0.193, 0.019]),
            ("(小写)¥1130.00", [0.648, 0.557, 0.170, 0.019]),
        ]);
        assert_eq!(
            found,
            vec![(
                FieldName::TotalAmount,
                "1130.00".into(),
                Some("CNY".into()),
                2
            )]
        );
    }

    #[test]
    fn a_period_wrapped_under_its_start() {
        // A business licence: the period's end under its start, the other
        // column's row in between in reading order.
        let found = placed(&[
            ("营业期限", [0.530, 0.456, 0.093, 0.019]),
            ("2015年03月01日至", [0.643, 0.457, 0.188, 0.017]),
            ("法定代表人", [0.102, 0.481, 0.119, 0.019]),
            ("林志远", [0.235, 0.481, 0.077, 0.020]),
            ("2035年02月28日", [0.643, 0.482, 0.166, 0.019]),
        ]);
        assert_eq!(
            found,
            vec![
                (FieldName::IssueDate, "2015-03-01".into(), None, 1),
                (FieldName::ExpiryDate, "2035-02-28".into(), None, 1),
            ]
        );
        // Without boxes: the next line.
        assert_eq!(
            fields(&["营业期限 2015年03月01日至", "2035年02月28日"]),
            vec![
                (FieldName::IssueDate, "2015-03-01".into(), 0),
                (FieldName::ExpiryDate, "2035-02-28".into(), 0),
            ]
        );
    }

    #[test]
    fn a_label_spelt_over_lines() {
        let found = placed(&[
            ("名", [0.102, 0.360, 0.027, 0.021]),
            ("称", [0.188, 0.361, 0.048, 0.017]),
            ("福州星河云图科技有限公司", [0.236, 0.360, 0.270, 0.020]),
            ("注册资本", [0.528, 0.360, 0.099, 0.020]),
        ]);
        assert_eq!(
            found,
            vec![(
                FieldName::CompanyName,
                "福州星河云图科技有限公司".into(),
                None,
                2
            )]
        );
    }
}
