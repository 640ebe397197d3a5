//! Chinese resident identity card numbers (GB 11643-1999): 6-digit region code, 8-digit birth
//! date, 3-digit sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
//!
//! The sample patients use the region code [`FICTIONAL_REGION`], which no real county has, so a
//! generated number can never be a real person's.

/// A region code outside the national table (no province has the prefix 99).
pub const FICTIONAL_REGION: &str = "990321";

/// ISO 7064 MOD 11-2 check character of the first 17 digits, or `None` if they are not 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    let digits = first17.as_bytes();
    if digits.len() != 17 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Weight of position i (counted from the right, the check character being position 1) is
    // 2^(i-1) mod 11; the check value makes the weighted sum of all 18 congruent to 1 mod 11.
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * weight(17 - i))
        .sum();
    let check = (12 - sum % 11) % 11;
    Some(if check == 10 {
        'X'
    } else {
        char::from(b'0' + check as u8)
    })
}

/// 2^power mod 11.
fn weight(power: usize) -> u32 {
    (0..power).fold(1, |w, _| (w * 2) % 11)
}

/// True if `id` is 18 characters whose last is the right check character.
pub fn is_valid(id: &str) -> bool {
    id.len() == 18
        && check_char(&id[..17]).is_some_and(|c| id[17..].eq_ignore_ascii_case(&c.to_string()))
}

/// Builds a number from a region code, a birth date (YYYYMMDD) and a 3-digit sequence number.
///
/// # Panics
/// If the parts are not 6, 8 and 3 digits: the callers pass constants.
pub fn make(region: &str, birth_date: &str, sequence: u16) -> String {
    let first17 = format!("{region}{birth_date}{sequence:03}");
    let check = check_char(&first17).expect("region, birth date and sequence are 17 digits");
    format!("{first17}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers_from_the_standard_examples() {
        // The example number printed in GB 11643-1999 and the X case.
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert!(is_valid("11010519491231002X"));
        assert!(is_valid("11010519491231002x"));
        assert!(!is_valid("110105194912310021"));
    }

    #[test]
    fn weights_are_the_published_table() {
        let table = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let ours: Vec<u32> = (0..17).map(|i| weight(17 - i)).collect();
        assert_eq!(ours, table);
    }

    #[test]
    fn every_single_digit_change_is_caught() {
        let id = make(FICTIONAL_REGION, "19580304", 17);
        assert!(is_valid(&id));
        for pos in 0..17 {
            let mut bytes = id.clone().into_bytes();
            bytes[pos] = if bytes[pos] == b'9' {
                b'0'
            } else {
                bytes[pos] + 1
            };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(!is_valid(&changed), "{changed} should be invalid");
        }
    }

    #[test]
    fn malformed_input_is_rejected() {
        assert_eq!(check_char("1234"), None);
        assert_eq!(check_char("1101051949123100A"), None);
        assert!(!is_valid("short"));
    }
}
