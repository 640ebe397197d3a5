//! DICOM UIDs under one root derived from the seed.
//!
//! The root is `2.25.<n>` where `n` is a 128-bit number taken from SHA-256 of the seed, shaped as
//! a UUID (version 8, "custom") so that the `2.25` arc (ITU-T X.667: UUID-derived OIDs) is used as
//! intended; the generator then owns that arc and numbers studies, series and instances under it.

use sha2::{Digest, Sha256};

/// Implementation Class UID of the generator itself (a fixed UUID-derived OID, seed-independent).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.240569113924396541238046934571069315421";

/// Implementation Version Name written into the file meta group.
pub const IMPLEMENTATION_VERSION_NAME: &str = "REMOTEDX_SD_01";

/// The UID root for a seed: `2.25.<decimal of a version-8 UUID>`, at most 44 characters.
pub fn root(seed: u64) -> String {
    let digest =
        Sha256::digest([b"remotedx-sample-data:".as_slice(), &seed.to_le_bytes()].concat());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0F) | 0x80; // version 8
    bytes[8] = (bytes[8] & 0x3F) | 0x80; // RFC 4122 variant
    format!("2.25.{}", u128::from_be_bytes(bytes))
}

/// A UID under `root` made of the given numeric components.
pub fn under(root: &str, parts: &[u32]) -> String {
    let mut uid = root.to_owned();
    for p in parts {
        uid.push('.');
        uid.push_str(&p.to_string());
    }
    uid
}

/// True if `uid` is a syntactically valid DICOM UID: at most 64 characters, digits and dots,
/// no empty component and no component with a leading zero.
pub fn is_valid(uid: &str) -> bool {
    uid.len() <= 64
        && uid.split('.').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_digit())
                && (c == "0" || !c.starts_with('0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_valid_stable_and_seed_dependent() {
        assert!(is_valid(&root(1)));
        assert!(root(1).len() <= 44);
        assert_eq!(root(1), root(1));
        assert_ne!(root(1), root(2));
        assert!(is_valid(IMPLEMENTATION_CLASS_UID));
        let long = under(&root(u64::MAX), &[9, 99, 9999]);
        assert!(is_valid(&long), "{long}");
    }

    #[test]
    fn validity_rules() {
        assert!(is_valid("1.2.840.10008.1.2.1"));
        assert!(!is_valid("1.02.3"));
        assert!(!is_valid("1..3"));
        assert!(!is_valid("1.2.a"));
        assert!(!is_valid(&"1.".repeat(40)));
    }
}
