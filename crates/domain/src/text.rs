//! Text as units and residents submit it. Characters that a reader cannot
//! see, or that reorder what they see (controls, bidirectional overrides,
//! zero-width characters), are refused in every text field on every
//! backend alike (PostgreSQL cannot even store U+0000). Names are
//! NFC-normalised so that one name has one spelling. Cells written to CSV
//! are kept from being read as spreadsheet formulas.

use unicode_normalization::UnicodeNormalization;

/// Why a text was refused: its first forbidden character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("character {position} is U+{code:04X}, a {kind} character, which is not allowed")]
pub struct TextError {
    /// 1-based position in characters.
    pub position: usize,
    pub code: u32,
    pub kind: &'static str,
}

impl TextError {
    /// The stable reason code.
    pub const CODE: &'static str = "invalid_character";
}

/// What kind of forbidden character `c` is, if it is one.
pub fn forbidden(c: char) -> Option<&'static str> {
    match c {
        // Cc: C0, DEL and C1 controls (U+0000 among them).
        c if c.is_control() => Some("control"),
        // Line and paragraph separators break a line where none is shown.
        '\u{2028}' | '\u{2029}' => Some("control"),
        // Bidirectional marks, embeddings, overrides and isolates.
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => Some("bidirectional"),
        // Zero-width and invisible formatting characters.
        '\u{180E}'
        | '\u{200B}'..='\u{200D}'
        | '\u{2060}'..='\u{2064}'
        | '\u{206A}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}' => Some("zero-width"),
        _ => None,
    }
}

/// Checks that `text` has no forbidden character.
pub fn check(text: &str) -> Result<(), TextError> {
    match text
        .chars()
        .enumerate()
        .find_map(|(i, c)| forbidden(c).map(|kind| (i, c, kind)))
    {
        None => Ok(()),
        Some((i, c, kind)) => Err(TextError {
            position: i + 1,
            code: u32::from(c),
            kind,
        }),
    }
}

/// A person's name as stored: trimmed, checked and NFC-normalised.
/// `Ok(None)` when it is blank.
pub fn name(text: &str) -> Result<Option<String>, TextError> {
    let t = text.trim();
    check(t)?;
    if t.is_empty() {
        return Ok(None);
    }
    Ok(Some(t.nfc().collect()))
}

/// A cell as it may be written to a CSV file: a value a spreadsheet would
/// run as a formula (leading `=`, `+`, `-`, `@`, tab or carriage return)
/// gets a leading apostrophe (OWASP's advice), so it is shown, not run.
pub fn csv_cell(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_class_is_refused_with_its_position() {
        for (text, kind, code) in [
            ("ab\u{0}c", "control", 0),
            ("a\tb", "control", 9),
            ("a\u{85}", "control", 0x85),
            ("张\u{202E}三", "bidirectional", 0x202E),
            ("张\u{2067}三", "bidirectional", 0x2067),
            ("张\u{200B}三", "zero-width", 0x200B),
            ("张\u{FEFF}三", "zero-width", 0xFEFF),
        ] {
            let e = check(text).unwrap_err();
            assert_eq!((e.kind, e.code), (kind, code), "{text:?}");
        }
        assert_eq!(check("ab\u{0}").unwrap_err().position, 3);
        assert!(check("绍税罚〔2026〕12号 (A-1)").is_ok());
    }

    #[test]
    fn names_are_nfc() {
        // "é" as e + combining acute becomes the single code point.
        assert_eq!(name(" Jose\u{301} ").unwrap().as_deref(), Some("José"));
        assert_eq!(name("  ").unwrap(), None);
        assert!(name("张\u{200D}三").is_err());
    }

    #[test]
    fn formula_cells_are_defused() {
        for t in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(t), format!("'{t}"));
        }
        assert_eq!(csv_cell("张三"), "张三");
        assert_eq!(csv_cell(""), "");
    }

    proptest! {
        #[test]
        fn accepted_text_has_no_forbidden_character(s in any::<String>()) {
            match check(&s) {
                Ok(()) => prop_assert!(s.chars().all(|c| forbidden(c).is_none())),
                Err(e) => prop_assert!(forbidden(s.chars().nth(e.position - 1).unwrap()).is_some()),
            }
            if let Ok(Some(n)) = name(&s) {
                prop_assert!(check(&n).is_ok());
                prop_assert_eq!(name(&n).unwrap(), Some(n));
            }
        }
    }
}
