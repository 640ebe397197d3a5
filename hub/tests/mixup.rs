//! One recording, two patients: the same image stored again under a different patient (new UIDs,
//! another Patient ID) is held for a person, visible to its clinic and to administrators, and
//! resolved by them; another institution's patient never leaks to the clinic.

mod common;

use common::*;
use hub::domain::Error;
use hub::model::{CaseState, MixupState};
use hub::storage::audit::AuditFilter;

/// CT_small as a new study `study` of `patient`: same pixels, new UIDs, another Patient ID.
fn copy_for(study: &str, patient: &str) -> Vec<u8> {
    let template =
        dicom_object::open_file(corpus_file("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    e2e::dicom::variant(&template, study, 1, patient)
}

/// Uploads one file as `who`; returns its case id.
async fn upload_one(t: &TestHub, who: &hub::model::Principal, name: &str, bytes: Vec<u8>) -> i64 {
    let (out, _) = upload(&t.hub, who, &[(name, bytes)]).await;
    out[0].as_ref().unwrap().case_id
}

async fn state_of(t: &TestHub, case: i64) -> (CaseState, String) {
    let c = t.hub.case_detail(&t.specialist, case).await.unwrap().case;
    (c.state(), c.hold_reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_image_under_another_patient_is_held_until_a_person_resolves_it() {
    let t = test_hub(|_| {}).await;
    let first = upload_one(&t, &t.clinic_a, "a.dcm", copy_for("2.25.71", "P-ONE")).await;
    // The same patient again (another study of the same pixels): nothing to resolve.
    let same = upload_one(&t, &t.clinic_a, "b.dcm", copy_for("2.25.72", "P-ONE")).await;
    assert_eq!(state_of(&t, same).await.0, CaseState::Received);

    let second = upload_one(&t, &t.clinic_a, "c.dcm", copy_for("2.25.73", "P-TWO")).await;
    let (state, reason) = state_of(&t, second).await;
    assert_eq!(state, CaseState::MixupHold);
    assert!(
        reason.contains("already on file under a different patient"),
        "{reason}"
    );
    assert_eq!(
        state_of(&t, first).await.0,
        CaseState::Received,
        "the earlier case stays"
    );
    let queue = t
        .hub
        .queue(&t.specialist, "", true, false, 100)
        .await
        .unwrap();
    assert!(
        queue.iter().all(|e| e.case.id != second),
        "held out of the queue"
    );
    assert!(matches!(
        t.hub.claim(&t.specialist, second, "").await,
        Err(Error::FailedPrecondition(m)) if m.contains("held")
    ));

    // Both sides are in the audit trail.
    for case in [first, second] {
        let filter = AuditFilter {
            case_id: case,
            action: "mixup_suspected".into(),
            limit: 100,
            ..AuditFilter::default()
        };
        let trail = t.hub.audit_trail(&t.admin, &filter).await.unwrap();
        assert_eq!(trail.len(), 1, "case {case}: {trail:?}");
    }

    // The clinic and the administrator see it with both sides (the earlier cases are the
    // clinic's): one line per earlier case holding the same image.
    for who in [&t.clinic_a, &t.admin] {
        let list = t.hub.mixups(who, false, 0).await.unwrap();
        assert!(list.iter().all(|m| m.case.id == second), "{list:?}");
        let mut earlier: Vec<i64> = list
            .iter()
            .filter_map(|m| m.other.as_ref())
            .map(|o| o.id)
            .collect();
        earlier.sort();
        assert_eq!(earlier, vec![first, same]);
    }
    assert!(
        t.hub
            .mixups(&t.clinic_b, false, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(t.hub.mixups(&t.specialist, false, 0).await.is_err());

    // Only its clinic or an administrator resolves it, saying how it was checked.
    let different = MixupState::DifferentPatient;
    for (who, note) in [(&t.clinic_b, "x"), (&t.specialist, "x"), (&t.admin, " ")] {
        assert!(
            t.hub
                .resolve_mixup(who, second, different, note)
                .await
                .is_err()
        );
    }
    let case = t
        .hub
        .resolve_mixup(&t.clinic_a, second, different, "twins, checked at the desk")
        .await
        .unwrap();
    assert_eq!(
        (case.state(), case.hold_reason.as_str()),
        (CaseState::Processing, "")
    );
    assert!(case.deadline_at_ms > 0);
    assert!(matches!(
        t.hub
            .resolve_mixup(&t.admin, second, different, "again")
            .await,
        Err(Error::FailedPrecondition(_))
    ));
    let resolved = t.hub.mixups(&t.admin, true, 0).await.unwrap();
    assert_eq!(resolved.len(), 2);
    for r in &resolved {
        assert_eq!(r.mixup.state, "different_patient");
        assert_eq!(r.mixup.resolution_note, "twins, checked at the desk");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_institutions_copy_is_held_without_naming_its_patient_and_can_be_withdrawn() {
    let t = test_hub(|_| {}).await;
    let first = upload_one(&t, &t.clinic_a, "a.dcm", copy_for("2.25.81", "P-ONE")).await;
    let second = upload_one(&t, &t.clinic_b, "b.dcm", copy_for("2.25.82", "P-TWO")).await;
    assert_eq!(state_of(&t, second).await.0, CaseState::MixupHold);

    let seen_by_b = t.hub.mixups(&t.clinic_b, false, 0).await.unwrap();
    assert_eq!(seen_by_b.len(), 1);
    assert!(
        seen_by_b[0].other.is_none(),
        "TS-A's case is not TS-B's to see"
    );
    assert!(
        t.hub
            .mixups(&t.clinic_a, false, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let seen_by_admin = t.hub.mixups(&t.admin, false, 0).await.unwrap();
    assert_eq!(seen_by_admin[0].other.as_ref().map(|o| o.id), Some(first));

    let case = t
        .hub
        .resolve_mixup(
            &t.clinic_b,
            second,
            MixupState::Withdrawn,
            "wrong patient picked",
        )
        .await
        .unwrap();
    assert_eq!(case.state(), CaseState::Withdrawn);
    assert!(
        case.hold_reason.contains("wrong patient picked"),
        "{}",
        case.hold_reason
    );
    assert!(t.hub.claim(&t.specialist, second, "").await.is_err());
}
