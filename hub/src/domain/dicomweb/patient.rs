//! Patient ID searches through the index's pseudonyms: the index knows a patient only by the
//! keyed hash of their identifier, so an exact Patient ID in a search is hashed here, the way
//! ingest hashed it, and matched in SQL: every study of that patient is found among any number
//! of studies, and only those studies' files are read.

use super::query::SearchQuery;
use crate::domain::pseudonym::{IdType, Pseudonymizer};

/// The Patient ID tag (0010,0020).
pub const PATIENT_ID: &str = "00100020";

/// The Patient ID a search asks for exactly (not empty, no wildcard, not a list), if any.
pub fn exact_patient_id(q: &SearchQuery) -> Option<&str> {
    let value = q.key(PATIENT_ID)?.trim();
    let wildcard = value.contains(['*', '?', '\\', ',']);
    (!value.is_empty() && !wildcard).then_some(value)
}

/// Every pseudonym `value` may have been filed under: ingest reads the identifier's type from
/// Issuer of Patient ID (which a search need not give) or is told it, so each type is tried;
/// a record number is scoped to the institution that filed it, so it is tried for each of
/// `institutions`. The current key includes every rotation (stored pseudonyms are re-keyed in
/// place), and normalisation (case, spaces, dashes, full-width digits) is the one ingest uses.
pub fn candidate_keys(p: &Pseudonymizer, value: &str, institutions: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = [IdType::IdCard, IdType::Insurance, IdType::HealthCard]
        .into_iter()
        .map(|t| p.key_for(t, value, "").key)
        .collect();
    keys.extend(
        institutions
            .iter()
            .map(|i| p.key_for(IdType::Mrn, value, i).key),
    );
    keys
}

/// `q` without its Patient ID key: once matched through the pseudonym, the header's value
/// (which may be written with other spacing or case) is not matched again.
pub fn without_patient_id(q: &SearchQuery) -> SearchQuery {
    let mut rest = q.clone();
    rest.keys.retain(|(tag, _)| tag != PATIENT_ID);
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> SearchQuery {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        SearchQuery::parse(&pairs).unwrap()
    }

    #[test]
    fn only_a_single_exact_patient_id_goes_through_the_pseudonym() {
        let id = |pairs: &[(&str, &str)]| exact_patient_id(&query(pairs)).map(str::to_owned);
        assert_eq!(
            id(&[("PatientID", " 990321195803040170 ")]).as_deref(),
            Some("990321195803040170")
        );
        assert_eq!(
            id(&[("00100020", "MRN-1")]).as_deref(),
            Some("MRN-1"),
            "by tag too"
        );
        for wildcard in ["9903*", "99032119580304017?", "A\\B", "A,B", "", "  "] {
            assert_eq!(id(&[("PatientID", wildcard)]), None, "{wildcard:?}");
        }
        assert_eq!(id(&[("PatientName", "ZHANG*")]), None);
    }

    #[test]
    fn the_keys_are_those_ingest_files_under_whatever_the_spelling() {
        let p = Pseudonymizer::new(vec![3u8; 32], 1)
            .unwrap()
            .rotated(vec![4u8; 32], 2)
            .unwrap();
        let institutions = ["TS-A".to_owned(), "TS-B".to_owned()];
        let keys = candidate_keys(&p, "990321 19580304 017x", &institutions);
        let filed = |t: IdType, v: &str, inst: &str| p.key_for(t, v, inst).key;
        assert!(keys.contains(&filed(IdType::IdCard, "99032119580304017X", "TS-B")));
        assert!(keys.contains(&filed(IdType::Insurance, "99032119580304017X", "")));
        assert!(keys.contains(&filed(IdType::Mrn, "99032119580304017X", "TS-B")));
        assert!(!keys.contains(&filed(IdType::Mrn, "99032119580304017X", "TS-C")));
        assert!(!keys.contains(&filed(IdType::IdCard, "990321195803040171", "")));
    }

    #[test]
    fn the_patient_id_key_is_dropped_from_matching_only() {
        let q = query(&[("PatientID", "X1"), ("PatientName", "Z*"), ("limit", "3")]);
        let rest = without_patient_id(&q);
        assert_eq!(rest.key(PATIENT_ID), None);
        assert_eq!(rest.key("00100010"), Some("Z*"));
        assert_eq!(rest.limit, 3);
    }
}
