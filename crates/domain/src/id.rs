//! Resident ID numbers (GB 11643): parsing, the MOD 11-2 check character, masking.

use std::fmt;

use jiff::civil::Date;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// A valid 18-character resident ID number, stored with an uppercase `X`.
///
/// Only [`IdNumber::parse`] makes one, so holding an `IdNumber` proves the
/// address code is numeric, the birth date exists and the check character is right.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber([u8; 18]);

/// Why a string is not a resident ID number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an ID number has 18 characters, this has {0}")]
    Length(usize),
    #[error("character {position} of the ID number must be a digit")]
    NotADigit { position: usize },
    #[error("the last character of the ID number must be a digit or X")]
    BadCheckCharacter,
    /// The digits are not repeated: an error message must not carry them.
    #[error("the birth date in the ID number does not exist")]
    ImpossibleBirthDate,
    #[error("the address code of the ID number does not start with a province code (GB/T 2260)")]
    UnknownProvince,
    #[error("the check character of the ID number is wrong")]
    CheckDigit,
}

impl IdError {
    /// Stable reason code used by import receipts and HTTP problems.
    pub fn code(&self) -> &'static str {
        match self {
            IdError::CheckDigit => "id_check_digit",
            _ => "invalid_id_number",
        }
    }
}

/// The check character for the first 17 digits (each `b'0'..=b'9'`).
pub fn check_character(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    match (12 - sum % 11) % 11 {
        10 => b'X',
        n => b'0' + n as u8,
    }
}

impl IdNumber {
    /// Parses an ID number; a lowercase `x` check character is accepted and stored uppercase.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let bytes = input.as_bytes();
        if bytes.len() != 18 || input.chars().count() != 18 {
            return Err(IdError::Length(input.chars().count()));
        }
        let mut out = [0u8; 18];
        out.copy_from_slice(bytes);
        if let Some(position) = out[..17].iter().position(|b| !b.is_ascii_digit()) {
            return Err(IdError::NotADigit {
                position: position + 1,
            });
        }
        match out[17] {
            b'0'..=b'9' | b'X' => {}
            b'x' => out[17] = b'X',
            _ => return Err(IdError::BadCheckCharacter),
        }
        if !PROVINCES.contains(&province_of(&out)) {
            return Err(IdError::UnknownProvince);
        }
        birth_date_of(&out)?;
        if check_character(&out[..17]) != out[17] {
            return Err(IdError::CheckDigit);
        }
        Ok(IdNumber(out))
    }

    /// The number as text, uppercase `X`.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The 6-digit administrative division code the number was issued under.
    pub fn region_code(&self) -> &str {
        &self.as_str()[..6]
    }

    /// The birth date encoded in the number.
    pub fn birth_date(&self) -> Date {
        birth_date_of(&self.0).unwrap_or_default()
    }

    /// The masked form shown to anyone but the person: `330602********123X`.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.as_str()[..6], &self.as_str()[14..])
    }
}

/// The first two digits of GB/T 2260 codes in use: the provinces,
/// autonomous regions and municipalities, Taiwan, Hong Kong and Macao.
pub const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// Whether a 6-digit administrative division code starts with a province code.
pub fn is_region_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 6
        && b.iter().all(u8::is_ascii_digit)
        && PROVINCES.contains(&((b[0] - b'0') * 10 + (b[1] - b'0')))
}

fn province_of(b: &[u8]) -> u8 {
    (b[0] - b'0') * 10 + (b[1] - b'0')
}

fn birth_date_of(b: &[u8; 18]) -> Result<Date, IdError> {
    let num = |r: std::ops::Range<usize>| -> i32 {
        b[r].iter()
            .fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'))
    };
    let (y, m, d) = (num(6..10), num(10..12), num(12..14));
    if !(1900..=2100).contains(&y) {
        return Err(IdError::ImpossibleBirthDate);
    }
    Date::new(y as i16, m as i8, d as i8).map_err(|_| IdError::ImpossibleBirthDate)
}

impl fmt::Display for IdNumber {
    /// Displays the masked form: the full number must be asked for explicitly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl std::str::FromStr for IdNumber {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdNumber::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Builds a valid number from its parts, computing the check character.
    fn make(region: &str, birth: &str, seq: &str) -> String {
        let body = format!("{region}{birth}{seq}");
        let c = check_character(body.as_bytes()) as char;
        format!("{body}{c}")
    }

    #[test]
    fn known_numbers() {
        // The GB 11643 worked example.
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        let id = IdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(id.birth_date(), jiff::civil::date(1949, 12, 31));
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdError::CheckDigit)
        );
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for birth in ["19990229", "19991301", "19990431", "20000000"] {
            let n = make("330602", birth, "123");
            let e = IdNumber::parse(&n).unwrap_err();
            assert_eq!(e, IdError::ImpossibleBirthDate);
            // No personal digits in the message.
            assert!(!e.to_string().contains(birth), "{e}");
            assert!(!e.to_string().chars().any(|c| c.is_ascii_digit()), "{e}");
        }
        assert!(IdNumber::parse(&make("330602", "20000229", "123")).is_ok());
    }

    #[test]
    fn unknown_provinces_are_rejected() {
        for region in [
            "000000", "100101", "160101", "240101", "300101", "380101", "470101", "550101",
            "660101", "720101", "830101", "990101",
        ] {
            let n = make(region, "19900101", "123");
            assert_eq!(
                IdNumber::parse(&n),
                Err(IdError::UnknownProvince),
                "{region}"
            );
            assert_eq!(IdError::UnknownProvince.code(), "invalid_id_number");
        }
        for p in PROVINCES {
            assert!(IdNumber::parse(&make(&format!("{p}0101"), "19900101", "123")).is_ok());
        }
        assert!(is_region_code("330602") && !is_region_code("990602") && !is_region_code("33060"));
    }

    #[test]
    fn malformed_input() {
        assert_eq!(IdNumber::parse(""), Err(IdError::Length(0)));
        assert!(matches!(
            IdNumber::parse("3306021990010112３X"),
            Err(IdError::Length(_))
        ));
        assert!(matches!(
            IdNumber::parse("33060A199001011230"),
            Err(IdError::NotADigit { position: 6 })
        ));
    }

    fn valid_id() -> impl Strategy<Value = String> {
        (
            prop::sample::select(PROVINCES.to_vec()),
            0u32..=9999,
            1900i16..=2099,
            1i8..=12,
            1i8..=28,
            0u32..=999,
        )
            .prop_map(|(province, rest, y, m, d, seq)| {
                make(
                    &format!("{province}{rest:04}"),
                    &format!("{y:04}{m:02}{d:02}"),
                    &format!("{seq:03}"),
                )
            })
    }

    proptest! {
        #[test]
        fn valid_numbers_round_trip(n in valid_id()) {
            let id = IdNumber::parse(&n).unwrap();
            prop_assert_eq!(id.as_str(), n.as_str());
            prop_assert_eq!(id.masked().len(), 18);
        }

        #[test]
        fn every_single_substitution_is_rejected(n in valid_id()) {
            // Exhaustive over positions and the 11 possible characters.
            let original: Vec<char> = n.chars().collect();
            for pos in 0..18 {
                for new in "0123456789X".chars() {
                    if new == original[pos] {
                        continue;
                    }
                    let mut chars = original.clone();
                    chars[pos] = new;
                    let changed: String = chars.into_iter().collect();
                    prop_assert!(IdNumber::parse(&changed).is_err(), "{} was accepted", changed);
                }
            }
        }
    }
}
