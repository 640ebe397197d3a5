//! Patient pseudonyms: the index knows a patient only by a keyed hash of their identifier.
//!
//! `HMAC-SHA256(key, "<id type>\0<normalised value>")`, hex, with the key's version stored beside
//! it so the key can be rotated. A rotation (`hub key rotate`, [`crate::domain::keys`]) re-keys
//! every stored pseudonym in place with the new key, `HMAC-SHA256(new key, old pseudonym)`, so a
//! pseudonym of version n is the old keys' pseudonym passed through each later key in turn, and
//! the same patient still matches after a rotation. The same national ID card or insurance number gives the same
//! pseudonym at every hospital of the region (that is what makes result recognition possible),
//! while a local record number is scoped to its institution so it never matches across hospitals.

use hmac::{Hmac, Mac};
use patient_id::{IdCard, Ymd};
use sha2::Sha256;

/// How a patient identifier is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdType {
    /// Resident identity card number (18 characters, the last may be X).
    IdCard,
    /// Medical insurance number.
    Insurance,
    /// Regional health card number.
    HealthCard,
    /// A hospital's own record number: only meaningful within that hospital.
    Mrn,
}

impl IdType {
    /// The name used on the command line and in hashes.
    pub fn as_str(self) -> &'static str {
        match self {
            IdType::IdCard => "id-card",
            IdType::Insurance => "insurance",
            IdType::HealthCard => "health-card",
            IdType::Mrn => "mrn",
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Result<IdType, String> {
        match s {
            "id-card" => Ok(IdType::IdCard),
            "insurance" => Ok(IdType::Insurance),
            "health-card" => Ok(IdType::HealthCard),
            "mrn" => Ok(IdType::Mrn),
            other => Err(format!(
                "unknown patient id type {other:?} (expected id-card, insurance, health-card or mrn)"
            )),
        }
    }

    /// Checks an identifier a person entered against the rules of its type and returns its
    /// normalised form (what is hashed and written into records). ID card numbers must pass GB
    /// 11643 (length, birth date not after `today`, check digit); insurance and health-card
    /// numbers are letters and digits; record numbers are any text. Each at most
    /// [`MAX_ID_CHARS`] characters. The message says what is wrong, never repeating the number.
    pub fn validate(self, raw: &str, today: Ymd) -> Result<String, String> {
        let normalised = normalise(raw);
        if normalised.is_empty() {
            return Err(format!("no {} number given", self.as_str()));
        }
        match self {
            IdType::IdCard => IdCard::parse(raw, today)
                .map(|c| c.as_str().to_owned())
                .map_err(|e| format!("{e} (another kind of number? say which with its id type)")),
            _ if normalised.chars().count() > MAX_ID_CHARS => Err(format!(
                "a {} number has at most {MAX_ID_CHARS} characters; this one has {}",
                self.as_str(),
                normalised.chars().count()
            )),
            IdType::Insurance | IdType::HealthCard
                if !normalised.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                Err(format!(
                    "a {} number has only letters and digits",
                    self.as_str()
                ))
            }
            _ => Ok(normalised),
        }
    }

    /// Decides the type of a DICOM Patient ID from Issuer of Patient ID and the value's shape:
    /// an issuer naming a type wins; an 18-character value with a valid check digit is an ID card;
    /// anything else is a local record number.
    pub fn infer(issuer: &str, value: &str) -> IdType {
        let issuer = issuer.to_ascii_lowercase();
        if issuer.contains("insur") || issuer.contains("医保") {
            return IdType::Insurance;
        }
        if issuer.contains("health") || issuer.contains("健康") {
            return IdType::HealthCard;
        }
        if issuer.contains("id-card")
            || issuer.contains("resident")
            || issuer.contains("身份证")
            || is_id_card(value)
        {
            return IdType::IdCard;
        }
        IdType::Mrn
    }
}

/// True if `value` is a resident ID card number: 18 characters with a valid ISO 7064 MOD 11-2
/// check digit and a possible birth date (see [`patient_id::IdCard::parse`]).
pub fn is_id_card(value: &str) -> bool {
    patient_id::is_id_card(value)
}

/// Today in the calendar ID card birth dates are written in (China Standard Time, UTC+8).
pub fn id_calendar_today() -> Ymd {
    Ymd::of_unix_ms(crate::clock::now_ms(), 8)
}

/// Longest identifier of any type (DICOM Patient ID is an LO: 64 characters).
pub const MAX_ID_CHARS: usize = 64;

/// Computes pseudonyms with a region's keys (the first key, then each rotation's key in turn).
#[derive(Clone)]
pub struct Pseudonymizer {
    /// The first key.
    key: Vec<u8>,
    /// Each rotation's key, oldest first.
    rotations: Vec<Vec<u8>>,
    version: i64,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A patient as the index knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientKey {
    /// Hex HMAC.
    pub key: String,
    /// The key version that made it.
    pub version: i64,
    /// The identifier with its middle masked, e.g. "3301**********1234".
    pub masked_id: String,
}

impl Pseudonymizer {
    /// A pseudonymizer with a secret key (at least 32 bytes) and its version.
    pub fn new(key: Vec<u8>, version: i64) -> Result<Self, String> {
        if key.len() < 32 {
            return Err(format!(
                "the pseudonym key must be at least 32 bytes, got {}",
                key.len()
            ));
        }
        Ok(Pseudonymizer {
            key,
            rotations: Vec::new(),
            version,
        })
    }

    /// Adds a rotation's key: pseudonyms are now of `version` and pass through `key` last.
    pub fn rotated(mut self, key: Vec<u8>, version: i64) -> Result<Self, String> {
        if key.len() < 32 {
            return Err(format!(
                "pseudonym key version {version} must be at least 32 bytes, got {}",
                key.len()
            ));
        }
        self.rotations.push(key);
        self.version = version;
        Ok(self)
    }

    /// The version of the pseudonyms this makes.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// A stored pseudonym re-keyed with a rotation's key: what [`Self::key_for`] gives once the
    /// rotation is done.
    pub fn rekey(rotation_key: &[u8], pseudonym: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(rotation_key).expect("HMAC accepts any key length");
        mac.update(b"rotate\0");
        mac.update(pseudonym.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A short public fingerprint of a key, kept in the index to recognise it.
    pub fn fingerprint(key: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
        mac.update(b"remotedx pseudonym key fingerprint");
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The pseudonym of an identifier. `institution` scopes local record numbers.
    pub fn key_for(&self, id_type: IdType, value: &str, institution: &str) -> PatientKey {
        let normalised = normalise(value);
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(id_type.as_str().as_bytes());
        mac.update(b"\0");
        if id_type == IdType::Mrn {
            mac.update(institution.as_bytes());
            mac.update(b"\0");
        }
        mac.update(normalised.as_bytes());
        let first = hex::encode(mac.finalize().into_bytes());
        PatientKey {
            key: self
                .rotations
                .iter()
                .fold(first, |key, rotation| Self::rekey(rotation, &key)),
            version: self.version,
            masked_id: mask_id(&normalised),
        }
    }
}

/// Upper-case, no spaces or dashes, full-width digits as ASCII: "330102 1990-0101 123x",
/// "3301021990 0101123X" and the same typed full-width are one patient.
fn normalise(value: &str) -> String {
    patient_id::normalise(value)
}

/// Keeps the first four and last four characters of long identifiers, masks the rest. The
/// rule lives in `patient-id` so that the ECG page prints the ID exactly as the index shows it.
pub use patient_id::mask as mask_id;

/// A masked display form of a DICOM Person Name: the ideographic group if present ("张三" →
/// "张*"), else the alphabetic one ("ZHANG^SAN" → "Z.*** S.*"); only initials survive.
pub fn mask_name(pn: &str) -> String {
    let groups: Vec<&str> = pn.split('=').collect();
    let ideographic = groups
        .get(1)
        .map(|g| g.replace('^', ""))
        .filter(|g| !g.trim().is_empty());
    if let Some(name) = ideographic {
        let mut chars = name.trim().chars();
        return match chars.next() {
            Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
            None => String::new(),
        };
    }
    let alphabetic = groups.first().copied().unwrap_or_default();
    let parts: Vec<String> = alphabetic
        .split('^')
        .filter(|p| !p.trim().is_empty())
        .take(2)
        .map(|p| {
            let mut chars = p.trim().chars();
            let first = chars
                .next()
                .map(|c| c.to_uppercase().to_string())
                .unwrap_or_default();
            let first_is_cjk = first.chars().any(|c| c as u32 >= 0x2E80);
            if first_is_cjk {
                format!("{first}*")
            } else {
                format!("{first}.***")
            }
        })
        .collect();
    if parts.is_empty() {
        "(no name)".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Pseudonymizer {
        Pseudonymizer::new(vec![7u8; 32], 1).unwrap()
    }

    #[test]
    fn entered_identifiers_follow_the_rules_of_their_type() {
        let today = Ymd::new(2026, 12, 7).unwrap();
        let id = |t: IdType, raw: &str| t.validate(raw, today);
        assert_eq!(
            id(IdType::IdCard, "１１０１０５ 19491231 002x").unwrap(),
            "11010519491231002X"
        );
        for (raw, says) in [
            ("12345", "has 5"),
            ("11010519491231002", "has 17"),
            ("110105194912310021", "check digit"),
            ("", "no id-card number"),
        ] {
            let err = id(IdType::IdCard, raw).unwrap_err();
            assert!(err.contains(says), "{raw:?}: {err}");
        }
        assert_eq!(id(IdType::Mrn, " mrn 0042 ").unwrap(), "MRN0042");
        assert_eq!(id(IdType::Insurance, "9988-7766").unwrap(), "99887766");
        assert!(id(IdType::Insurance, "99*88").is_err());
        assert!(id(IdType::HealthCard, &"7".repeat(65)).is_err());
    }

    #[test]
    fn id_card_check_digit() {
        assert!(is_id_card("11010519491231002X"));
        assert!(!is_id_card("110105194912310021"));
        assert!(!is_id_card("12345"));
    }

    #[test]
    fn same_id_same_key_across_institutions_but_mrn_is_scoped() {
        let a = p().key_for(IdType::IdCard, "11010519491231002x", "TS-A");
        let b = p().key_for(IdType::IdCard, "110105 19491231 002X", "TS-B");
        assert_eq!(a.key, b.key);
        assert_eq!(a.masked_id, "1101**********002X");
        let m1 = p().key_for(IdType::Mrn, "12345", "TS-A");
        let m2 = p().key_for(IdType::Mrn, "12345", "TS-B");
        assert_ne!(m1.key, m2.key);
        let other_key = Pseudonymizer::new(vec![8u8; 32], 2).unwrap();
        assert_ne!(
            other_key
                .key_for(IdType::IdCard, "11010519491231002X", "")
                .key,
            a.key
        );
    }

    #[test]
    fn a_rotated_key_matches_pseudonyms_rekeyed_in_place() {
        let before = p().key_for(IdType::IdCard, "11010519491231002X", "");
        let rotated = p().rotated(vec![9u8; 32], 2).unwrap();
        let after = rotated.key_for(IdType::IdCard, "11010519491231002X", "");
        assert_ne!(after.key, before.key, "a rotation changes every pseudonym");
        assert_eq!(after.version, 2);
        assert_eq!(Pseudonymizer::rekey(&[9u8; 32], &before.key), after.key);
    }

    #[test]
    fn the_raw_identifier_never_appears_in_the_key() {
        let k = p().key_for(IdType::Insurance, "9988776655", "TS-A");
        assert!(!k.key.contains("9988776655"));
        assert_eq!(k.key.len(), 64);
        assert_eq!(k.masked_id, "99******55");
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("Zhang^San=张^三"), "张*");
        assert_eq!(mask_name("ZHANG^SAN"), "Z.*** S.***");
        assert_eq!(mask_name(""), "(no name)");
    }

    #[test]
    fn id_types_are_inferred() {
        assert_eq!(IdType::infer("", "11010519491231002X"), IdType::IdCard);
        assert_eq!(IdType::infer("", "MRN-0042"), IdType::Mrn);
        assert_eq!(
            IdType::infer("CN Medical Insurance", "123"),
            IdType::Insurance
        );
    }
}
