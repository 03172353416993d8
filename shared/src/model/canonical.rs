//! The one rule by which emails and usernames are compared, as sign-up compares
//! them: Unicode NFKC, then full case folding (then NFKC again, so the rule is
//! idempotent); a value holding an invisible (default-ignorable) code point is refused.

use unicode_normalization::UnicodeNormalization;

/// Why a value cannot be an identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Uncomparable {
    #[error("contains an invisible (default-ignorable) character")]
    Invisible,
}

/// The Default_Ignorable_Code_Point ranges of the Unicode Character Database
/// (DerivedCoreProperties.txt, unchanged since Unicode 6.1): zero-width spaces and
/// joiners, bidirectional controls, variation selectors, fillers and tags.
const DEFAULT_IGNORABLE: [(u32, u32); 17] = [
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

pub fn is_default_ignorable(c: char) -> bool {
    let c = c as u32;
    DEFAULT_IGNORABLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// The comparable form of an email or a username.
pub fn canonical(s: &str) -> Result<String, Uncomparable> {
    if s.chars().any(is_default_ignorable) {
        return Err(Uncomparable::Invisible);
    }
    let nfkc: String = s.nfkc().collect();
    let folded = caseless::default_case_fold_str(&nfkc);
    Ok(folded.nfkc().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_mailbox_is_one_identifier_whatever_its_encoding_or_case() {
        let nfc = "zo\u{00EB}@example.com";
        let nfd = "zoe\u{0308}@example.com";
        assert_eq!(canonical(nfc), canonical(nfd));
        assert_eq!(canonical("ZO\u{00CB}@EXAMPLE.COM"), canonical(nfc));
        assert_eq!(canonical("stra\u{00DF}e").unwrap(), "strasse");
        assert_eq!(canonical("\u{FF41}lice").unwrap(), "alice");
        assert_eq!(canonical("\u{212A}elvin").unwrap(), "kelvin");
        let once = canonical("\u{0130}stanbul\u{03A3}").unwrap();
        assert_eq!(canonical(&once).unwrap(), once, "idempotent");
    }

    #[test]
    fn invisible_characters_are_refused() {
        for bad in
            ["zo\u{200B}e@example.com", "a\u{00AD}b", "\u{FEFF}alice", "al\u{2066}ice", "x\u{E0041}", "a\u{FE0F}"]
        {
            assert_eq!(canonical(bad), Err(Uncomparable::Invisible), "{bad:?}");
        }
        assert!(canonical("alice").is_ok());
    }
}
