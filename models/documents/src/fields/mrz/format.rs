//! The MRZ formats read (ICAO 9303 parts 4-6) and, for each line, the
//! positions that only hold digits or only letters.

/// An MRZ format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MrzFormat {
    /// Three lines of 30 (ID cards, part 5).
    Td1,
    /// Two lines of 36 (ID cards and visas, part 6).
    Td2,
    /// Two lines of 44 (passports and visas, part 4).
    Td3,
}

impl MrzFormat {
    /// Every format, widest first.
    pub const ALL: [MrzFormat; 3] = [Self::Td3, Self::Td2, Self::Td1];

    /// How many lines it has.
    pub fn line_count(self) -> usize {
        match self {
            Self::Td1 => 3,
            Self::Td2 | Self::Td3 => 2,
        }
    }

    /// How many characters each line has.
    pub fn width(self) -> usize {
        match self {
            Self::Td1 => 30,
            Self::Td2 => 36,
            Self::Td3 => 44,
        }
    }

    /// Positions of line `line` that only hold digits (dates, check digits).
    pub fn digit_positions(self, line: usize) -> Vec<usize> {
        let w = self.width();
        match (self, line) {
            (Self::Td1, 0) => spans(&[(14, 15)]),
            (Self::Td1, 1) => spans(&[(0, 7), (8, 15), (29, 30)]),
            (Self::Td2, 1) => spans(&[(9, 10), (13, 20), (21, 28), (w - 1, w)]),
            (Self::Td3, 1) => spans(&[(9, 10), (13, 20), (21, 28), (42, 44)]),
            _ => Vec::new(),
        }
    }

    /// Positions of line `line` that only hold letters or fillers (codes,
    /// states, names, sex).
    pub fn letter_positions(self, line: usize) -> Vec<usize> {
        let w = self.width();
        match (self, line) {
            (Self::Td1, 0) => spans(&[(0, 5)]),
            (Self::Td1, 1) => spans(&[(7, 8), (15, 18)]),
            (Self::Td1, _) => spans(&[(0, w)]),
            (_, 0) => spans(&[(0, w)]),
            (_, _) => spans(&[(10, 13), (20, 21)]),
        }
    }

    /// The format whose width is within 2 of `len`.
    pub fn by_width(len: usize) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.width().abs_diff(len) <= 2)
    }
}

/// Every position in the half-open spans `(start, end)`.
fn spans(list: &[(usize, usize)]) -> Vec<usize> {
    list.iter().flat_map(|&(start, end)| start..end).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_width() {
        assert_eq!(MrzFormat::by_width(44), Some(MrzFormat::Td3));
        assert_eq!(MrzFormat::by_width(43), Some(MrzFormat::Td3));
        assert_eq!(MrzFormat::by_width(36), Some(MrzFormat::Td2));
        assert_eq!(MrzFormat::by_width(29), Some(MrzFormat::Td1));
        assert_eq!(MrzFormat::by_width(40), None);
    }
}
