//! DICOMweb's queries (`storage::dicomweb`), on every backend: candidate studies by institution,
//! UID and patient pseudonym, the institutions holding cases, a study's cases, a series' size, and the kept series metadata, whose blob the orphan
//! collector must see as in use.

use super::super::{Store, dicomweb, instances};

/// Runs after `index_round_trip`, which stored study "1.2.3" (TS-A) with instance "1.2.3.1" of
/// series "1.2.3.9".
pub async fn check(store: &Store) {
    let mut tx = store.read().await.unwrap();
    let filter = |institution: &str, uids: &[&str]| dicomweb::StudyFilter {
        institution_code: institution.into(),
        study_uids: uids.iter().map(|u| (*u).to_owned()).collect(),
        ..Default::default()
    };
    let all = dicomweb::study_candidates(tx.as_mut(), &filter("", &[]), 1000)
        .await
        .unwrap();
    assert!(all.contains(&"1.2.3".to_owned()), "{all:?}");
    let own = dicomweb::study_candidates(tx.as_mut(), &filter("TS-A", &[]), 1000)
        .await
        .unwrap();
    assert!(own.contains(&"1.2.3".to_owned()), "{own:?}");
    let other = dicomweb::study_candidates(tx.as_mut(), &filter("TS-B", &[]), 1000)
        .await
        .unwrap();
    assert!(other.is_empty(), "another institution's studies: {other:?}");
    let named = dicomweb::study_candidates(tx.as_mut(), &filter("", &["1.2.3", "9.9"]), 10)
        .await
        .unwrap();
    assert_eq!(named, ["1.2.3"]);
    let one = dicomweb::study_candidates(tx.as_mut(), &filter("", &[]), 1)
        .await
        .unwrap();
    assert_eq!(one.len(), 1, "the limit holds");
    // The conformance cases are undated: a date range leaves them out.
    let dated = dicomweb::StudyFilter {
        date_from: "20240101".into(),
        ..filter("", &["1.2.3"])
    };
    let none = dicomweb::study_candidates(tx.as_mut(), &dated, 10)
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    // A patient's studies, by pseudonym (the conformance cases are filed under "k").
    let of_patient = |keys: &[&str], institution: &str| dicomweb::StudyFilter {
        patient_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        ..filter(institution, &[])
    };
    let theirs = dicomweb::study_candidates(tx.as_mut(), &of_patient(&["x", "k"], ""), 1000)
        .await
        .unwrap();
    assert!(theirs.contains(&"1.2.3".to_owned()), "{theirs:?}");
    let nobody = dicomweb::study_candidates(tx.as_mut(), &of_patient(&["x", "y"], ""), 1000)
        .await
        .unwrap();
    assert!(nobody.is_empty(), "another patient's studies: {nobody:?}");
    let elsewhere = dicomweb::study_candidates(tx.as_mut(), &of_patient(&["k"], "TS-B"), 1000)
        .await
        .unwrap();
    assert!(
        elsewhere.is_empty(),
        "the institution still holds: {elsewhere:?}"
    );
    let both = dicomweb::StudyFilter {
        patient_keys: vec!["k".into()],
        ..filter("", &["1.2.3", "9.9"])
    };
    assert_eq!(
        dicomweb::study_candidates(tx.as_mut(), &both, 1000)
            .await
            .unwrap(),
        ["1.2.3"],
        "UIDs and patients together"
    );
    assert_eq!(
        dicomweb::study_candidates(tx.as_mut(), &of_patient(&["k"], ""), i64::MAX)
            .await
            .unwrap()
            .len(),
        theirs.len(),
        "no limit is a limit every backend takes"
    );
    let institutions = dicomweb::case_institutions(tx.as_mut(), "").await.unwrap();
    assert!(
        institutions.contains(&"TS-A".to_owned()),
        "{institutions:?}"
    );
    assert!(
        dicomweb::case_institutions(tx.as_mut(), "TS-B")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        dicomweb::cases_of_study(tx.as_mut(), "1.2.3")
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        dicomweb::series_instance_count(tx.as_mut(), "1.2.3.9")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        dicomweb::metadata(tx.as_mut(), "1.2.3.9").await.unwrap(),
        None
    );
    drop(tx);

    let (first, second) = ("e1".repeat(32), "e2".repeat(32));
    for (key, count) in [(&first, 1), (&second, 2)] {
        let mut tx = store.write().await.unwrap();
        dicomweb::put_metadata(tx.as_mut(), "1.2.3.9", count, key, 5)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let mut tx = store.read().await.unwrap();
    assert_eq!(
        dicomweb::metadata(tx.as_mut(), "1.2.3.9").await.unwrap(),
        Some((second.clone(), 2)),
        "a recomputed series replaces its metadata"
    );
    let used = instances::blobs_in_use(tx.as_mut(), &[first.clone(), second.clone()])
        .await
        .unwrap();
    assert!(
        used.contains(&second) && !used.contains(&first),
        "kept metadata is in use, replaced metadata is not: {used:?}"
    );
}
