//! The rules of GB 11643-1999 and what people mistype.

use super::*;

const TODAY: Ymd = Ymd {
    year: 2026,
    month: 12,
    day: 7,
};

/// The example number printed in GB 11643-1999 (check character X).
const STANDARD: &str = "11010519491231002X";

fn err(raw: &str) -> IdCardError {
    IdCard::parse(raw, TODAY).unwrap_err()
}

/// `first17` with its right check character.
fn with_check(first17: &str) -> String {
    format!("{first17}{}", check_char(first17).unwrap())
}

#[test]
fn the_standard_examples_are_valid() {
    assert_eq!(check_char("11010519491231002"), Some('X'));
    assert_eq!(IdCard::parse(STANDARD, TODAY).unwrap().as_str(), STANDARD);
    let sample = IdCard::parse("990321195803040170", TODAY).unwrap();
    assert_eq!(sample.birth_date(), Ymd::new(1958, 3, 4).unwrap());
}

#[test]
fn spaces_dashes_full_width_and_lower_case_x_are_normalised() {
    for typed in [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "110105-19491231-002X",
        "１１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５\u{3000}19491231\u{3000}002ｘ",
    ] {
        let card = IdCard::parse(typed, TODAY).unwrap_or_else(|e| panic!("{typed:?}: {e}"));
        assert_eq!(card.as_str(), STANDARD, "{typed:?}");
    }
}

#[test]
fn seventeen_or_nineteen_digits_is_a_length_error() {
    assert_eq!(err(&STANDARD[..17]), IdCardError::Length { found: 17 });
    assert_eq!(
        err(&format!("{STANDARD}1")),
        IdCardError::Length { found: 19 }
    );
    assert_eq!(err("12345"), IdCardError::Length { found: 5 });
    assert_eq!(err("  "), IdCardError::Empty);
    assert!(err("12345").to_string().contains("has 5"));
}

#[test]
fn letters_are_refused_except_a_final_x() {
    assert_eq!(
        err("1101051949123100XX"),
        IdCardError::NotDigit {
            position: 17,
            found: 'X'
        }
    );
    assert_eq!(
        err("11010519491231002Y"),
        IdCardError::NotDigit {
            position: 18,
            found: 'Y'
        }
    );
}

#[test]
fn every_single_digit_typo_is_caught_by_the_check_digit_or_the_date() {
    let id = "990321195803040170";
    for pos in 0..17 {
        let mut bytes = id.as_bytes().to_vec();
        bytes[pos] = if bytes[pos] == b'9' {
            b'0'
        } else {
            bytes[pos] + 1
        };
        let typo = String::from_utf8(bytes).unwrap();
        assert!(IdCard::parse(&typo, TODAY).is_err(), "{typo} accepted");
    }
    let wrong_check = err("990321195803040171");
    assert_eq!(
        wrong_check,
        IdCardError::CheckDigit {
            expected: '0',
            found: '1'
        }
    );
    assert!(
        wrong_check.to_string().contains("check digit"),
        "{wrong_check}"
    );
}

#[test]
fn impossible_birth_dates_are_named() {
    // The check digit is right: only the date is wrong.
    let feb30 = with_check("99032119580230017");
    assert_eq!(
        err(&feb30),
        IdCardError::BirthDate {
            date: "19580230".into()
        }
    );
    let month13 = with_check("99032119581304017");
    assert!(err(&month13).to_string().contains("19581304"));
    let future = with_check("99032120271201017");
    assert_eq!(
        err(&future),
        IdCardError::BirthDateOutOfRange {
            date: "20271201".into(),
            why: "in the future"
        }
    );
    let ancient = with_check("99032118001201017");
    assert!(err(&ancient).to_string().contains("before 1900"));
    // Born today is fine; a leap day in a leap year too.
    assert!(IdCard::parse(&with_check("99032120261207017"), TODAY).is_ok());
    assert!(IdCard::parse(&with_check("99032120000229017"), TODAY).is_ok());
    assert!(IdCard::parse(&with_check("99032119000229017"), TODAY).is_err());
}

#[test]
fn dates_of_instants_at_an_offset() {
    // 2026-12-06 20:00 UTC is already 2026-12-07 in China.
    let at = 1_796_587_200_000;
    assert_eq!(Ymd::of_unix_ms(at, 0), Ymd::new(2026, 12, 6).unwrap());
    assert_eq!(Ymd::of_unix_ms(at, 8), TODAY);
    assert_eq!(Ymd::of_unix_ms(0, 0).to_string(), "1970-01-01");
}
