//! Which side of a card an image shows, from the winning type's side
//! keywords (`sides` in the rule file): the side with more matches, unless
//! both show well (a scan of both sides).

use serde::{Deserialize, Serialize};

use super::score::Seen;
use crate::FieldName;
use crate::types::{Keyword, Signal, TypeRule};

/// A side of a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The side with the holder's name and photo (PRC ID card: 姓名,
    /// 公民身份号码, the face).
    Front,
    /// The other side (PRC ID card: 签发机关, 有效期限, 中华人民共和国,
    /// 居民身份证).
    Back,
}

/// Matches of the other side that still leave a side clear (OCR noise).
const OTHER_SIDE_NOISE: usize = 1;

/// The side shown, when the type has sides and one of them is clear.
pub(crate) fn side_of(rule: &TypeRule, seen: &Seen<'_>) -> Option<Side> {
    let sides = rule.table.sides.as_ref()?;
    let count = |keywords: &[Keyword]| {
        keywords
            .iter()
            .filter(|keyword| seen.text.contains(keyword))
            .count()
    };
    let front = count(&sides.front)
        + usize::from(seen.signals.contains(&Signal::FaceOnDocument))
        + usize::from(
            seen.fields
                .iter()
                .any(|field| field.name == FieldName::IdNumber && field.valid == Some(true)),
        );
    let back = count(&sides.back);
    if front > back && back <= OTHER_SIDE_NOISE {
        Some(Side::Front)
    } else if back > front && front <= OTHER_SIDE_NOISE {
        Some(Side::Back)
    } else {
        None
    }
}
