//! Recognition access through the domain (issue 13, items 3 and 4): a check opens only the entries
//! it returned, to the user who checked, for that item, for the configured window; accepting or
//! declining needs such a check; checks are rate-limited per user and per patient and audited
//! with their purpose; two users accepting at once book one ledger row; the possible-repeat note
//! names no other institution's exam.

mod common;

use std::time::Duration;

use common::*;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use hub::domain::auth::NewUser;
use hub::domain::ingest::IngestOptions;
use hub::domain::pseudonym::IdType;
use hub::domain::recognition::{CheckOutcome, CheckPurpose, CheckRequest};
use hub::domain::reports::ReportText;
use hub::domain::{Error, Hub};
use hub::model::{DeclineReason, Principal, Role};
use hub::storage::audit::AuditFilter;

const PATIENT: &str = "990321195803040170";
const OTHER_PATIENT: &str = "990321197109210247";

/// A one-instance CT head of `patient`, examined two days ago (`n` makes its UIDs unique). Each
/// patient gets its own slice: one image under two patients would be held as a mix-up.
fn ct_head(patient: &str, n: u32) -> Vec<u8> {
    let slice = if patient == PATIENT { 1 } else { 2 };
    let path = e2e::sample_files().join(format!("baishui/zhang-san-ct-head/CT000{slice}.dcm"));
    let mut obj = dicom_object::open_file(&path).unwrap();
    let day = jiff::Zoned::now().date() - jiff::ToSpan::days(2);
    obj.put(DataElement::new(
        tags::STUDY_DATE,
        VR::DA,
        PrimitiveValue::from(day.strftime("%Y%m%d").to_string()),
    ));
    e2e::dicom::variant(&obj, &format!("2.25.7713{n}"), 1, patient)
}

/// Uploads a CT head of `patient` as `who`; returns its case (ready to read).
async fn upload_ct(t: &TestHub, who: &Principal, patient: &str, n: u32) -> hub::model::Case {
    let opts = IngestOptions {
        patient_id_type: Some(IdType::IdCard),
        ..IngestOptions::default()
    };
    let mut session = t.hub.ingest_session(who.clone(), opts).unwrap();
    let staged = stage(&t.hub, "ct.dcm", &ct_head(patient, n)).await;
    session.ingest(staged).await.unwrap();
    let case = session.finish().await.unwrap().remove(0).case;
    while let Some(job) = t.hub.lease_job(&t.worker, "test").await.unwrap() {
        t.hub
            .complete_job(&t.worker, job.job.id, Default::default())
            .await
            .unwrap();
    }
    case
}

/// Signs a case and lets the recognition extension file its entry.
async fn sign(t: &TestHub, case: i64) {
    t.hub.claim(&t.specialist, case, "").await.unwrap();
    let text = ReportText {
        findings: "No bleed.".into(),
        impression: "normal study".into(),
        critical: false,
    };
    t.hub
        .file_report(&t.specialist, case, &text, true)
        .await
        .unwrap();
    t.hub.deliver_events().await.unwrap();
}

fn request(patient: &str, item: &str, purpose: CheckPurpose) -> CheckRequest {
    CheckRequest {
        id_type: IdType::IdCard,
        patient_id: patient.into(),
        item: item.into(),
        purpose: Some(purpose),
        note: String::new(),
    }
}

async fn check(hub: &Hub, who: &Principal, patient: &str, item: &str) -> CheckOutcome {
    hub.check_recognition(who, &request(patient, item, CheckPurpose::BeforeExamining))
        .await
        .unwrap()
}

/// Another clinic user of TS-B.
async fn colleague_b(t: &TestHub) -> Principal {
    let user = NewUser {
        name: "clinic b2".into(),
        role: Role::Clinic,
        institution_code: "TS-B".into(),
        senior: false,
    };
    let (_, token) = t.hub.create_user(&user).await.unwrap();
    t.hub.authenticate(&token).await.unwrap()
}

/// Refused: another institution's case reads as one that does not exist ("no case N"), so a
/// clinic cannot learn which ids are taken; a role's refusal (claiming) is PERMISSION_DENIED.
fn denied<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) {
    assert!(
        matches!(&r, Err(Error::NotFound(m)) if m.starts_with("no case "))
            || matches!(r, Err(Error::PermissionDenied(_))),
        "{what}: {r:?}"
    );
}

fn not_returned<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) {
    assert!(
        matches!(&r, Err(Error::FailedPrecondition(m)) if m.contains("no recognition check of yours returned")),
        "{what}: {r:?}"
    );
}

async fn audit(t: &TestHub, action: &str) -> Vec<hub::model::AuditEntry> {
    let filter = AuditFilter {
        action: action.into(),
        limit: 100,
        ..AuditFilter::default()
    };
    t.hub.audit_trail(&t.admin, &filter).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_opens_only_what_it_returned_to_that_user_for_that_item() {
    let t = test_hub(|c| c.reading.two_level_review = false).await;
    let b = &t.clinic_b;
    let case = upload_ct(&t, &t.clinic_a, PATIENT, 1).await.id;
    denied(t.hub.case_detail(b, case).await, "no check at all");

    // A check made before the result was signed returned nothing, and opens nothing after it is.
    assert!(
        check(&t.hub, b, PATIENT, "CT-HEAD")
            .await
            .entries
            .is_empty()
    );
    sign(&t, case).await;
    denied(t.hub.case_detail(b, case).await, "signed after the check");
    // Another item of the same patient opens nothing either.
    check(&t.hub, b, PATIENT, "DR-CHEST").await;
    denied(t.hub.case_detail(b, case).await, "a check of another item");
    // A colleague's check opens the case to the colleague, not to this user.
    let b2 = colleague_b(&t).await;
    let seen = check(&t.hub, &b2, PATIENT, "CT-HEAD").await;
    let entry = seen.entries[0].entry.id;
    assert!(t.hub.case_detail(&b2, case).await.is_ok());
    denied(t.hub.case_detail(b, case).await, "a colleague's check");
    not_returned(t.hub.accept_recognition(b, entry).await, "accept");
    not_returned(
        t.hub
            .decline_recognition(b, entry, DeclineReason::Emergency, "")
            .await,
        "decline",
    );
    // An id that does not exist is refused the same way: ids cannot be probed.
    not_returned(t.hub.accept_recognition(b, entry + 99).await, "unknown id");

    // Its own check returns the entry: the case, its report and raw DICOM open, each open audited.
    let other = upload_ct(&t, &t.clinic_a, OTHER_PATIENT, 2).await.id;
    sign(&t, other).await;
    let out = check(&t.hub, b, PATIENT, "CT-HEAD").await;
    assert_eq!(out.entries.len(), 1);
    let detail = t.hub.case_detail(b, case).await.unwrap();
    assert_eq!(detail.reports.len(), 1);
    let sop = &detail.instances[0].sop_instance_uid;
    assert!(t.hub.instance_for(b, case, sop).await.is_ok());
    denied(t.hub.case_detail(b, other).await, "another patient's case");
    let views = audit(&t, "view").await;
    let ours: Vec<_> = views.iter().filter(|a| a.user_id == b.user_id).collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(
        ours.iter()
            .all(|a| a.detail.contains("result recognition, check"))
    );
    // Read-only: opening a case does not let a clinic claim or report it.
    denied(t.hub.claim(b, case, "").await, "claim");
    assert!(t.hub.accept_recognition(b, entry).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_check_opened_closes_after_the_window() {
    let t = test_hub(|c| {
        c.reading.two_level_review = false;
        c.recognition.access_window = Duration::from_millis(1500);
    })
    .await;
    let case = upload_ct(&t, &t.clinic_a, PATIENT, 1).await.id;
    sign(&t, case).await;
    let out = check(&t.hub, &t.clinic_b, PATIENT, "CT-HEAD").await;
    let entry = out.entries[0].entry.id;
    assert!(t.hub.case_detail(&t.clinic_b, case).await.is_ok());
    tokio::time::sleep(Duration::from_millis(1600)).await;
    denied(
        t.hub.case_detail(&t.clinic_b, case).await,
        "after the window",
    );
    not_returned(
        t.hub.accept_recognition(&t.clinic_b, entry).await,
        "after the window",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_are_rate_limited_per_user_and_per_patient() {
    let t = test_hub(|c| {
        c.recognition.checks_per_user_per_hour = 3;
        c.recognition.checks_per_patient_per_day = 2;
    })
    .await;
    let b = &t.clinic_b;
    check(&t.hub, b, PATIENT, "CT-HEAD").await;
    check(&t.hub, b, PATIENT, "DR-CHEST").await;
    let req = request(PATIENT, "CT-HEAD", CheckPurpose::BeforeExamining);
    let third = t.hub.check_recognition(b, &req).await;
    assert!(
        matches!(&third, Err(Error::ResourceExhausted(m))
            if m.contains("checks_per_patient_per_day") && m.contains("Check again after")
                && !m.contains(PATIENT)),
        "{third:?}"
    );
    check(&t.hub, b, OTHER_PATIENT, "CT-HEAD").await;
    let req = request(OTHER_PATIENT, "CT-HEAD", CheckPurpose::BeforeExamining);
    let fourth = t.hub.check_recognition(b, &req).await;
    assert!(
        matches!(&fourth, Err(Error::ResourceExhausted(m)) if m.contains("checks_per_user_per_hour")),
        "{fourth:?}"
    );
    // Another user is not held back by this one's checks; the refusals are in the audit trail.
    check(&t.hub, &t.clinic_a, PATIENT, "CT-HEAD").await;
    assert_eq!(audit(&t, "recognition_check_refused").await.len(), 2);
    assert_eq!(audit(&t, "recognition_check").await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_states_its_purpose_and_the_audit_trail_keeps_it() {
    let t = test_hub(|_| {}).await;
    let b = &t.clinic_b;
    let bare = request(PATIENT, "CT-HEAD", CheckPurpose::Other);
    let refused = t.hub.check_recognition(b, &bare).await;
    assert!(
        matches!(&refused, Err(Error::InvalidArgument(m)) if m.contains("--note")),
        "{refused:?}"
    );
    let referral = CheckRequest {
        note: "transferred from TS-A".into(),
        ..request(PATIENT, "CT-HEAD", CheckPurpose::Referral)
    };
    t.hub.check_recognition(b, &referral).await.unwrap();
    let trail = audit(&t, "recognition_check").await;
    assert_eq!(trail.len(), 1, "the refused check is not a check");
    assert!(
        trail[0]
            .detail
            .contains("purpose: referral transferred from TS-A"),
        "{}",
        trail[0].detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_accepting_at_once_book_one_ledger_row() {
    let t = test_hub(|c| c.reading.two_level_review = false).await;
    let case = upload_ct(&t, &t.clinic_a, PATIENT, 1).await.id;
    sign(&t, case).await;
    let b2 = colleague_b(&t).await;
    let entry = check(&t.hub, &t.clinic_b, PATIENT, "CT-HEAD").await.entries[0]
        .entry
        .id;
    check(&t.hub, &b2, PATIENT, "CT-HEAD").await;
    let (one, two) = tokio::join!(
        t.hub.accept_recognition(&t.clinic_b, entry),
        t.hub.accept_recognition(&b2, entry)
    );
    assert!(one.is_ok() != two.is_ok(), "{one:?} / {two:?}");
    assert_eq!(audit(&t, "recognition_accept").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_possible_repeat_note_names_no_other_institutions_exam() {
    let t = test_hub(|c| c.reading.two_level_review = false).await;
    let first = upload_ct(&t, &t.clinic_a, PATIENT, 1).await;
    sign(&t, first.id).await;
    let repeat = upload_ct(&t, &t.clinic_b, PATIENT, 2).await;
    let note = &repeat.possible_repeat;
    assert!(
        note.contains("possible repeat of CT-HEAD") && note.contains("recognition check"),
        "{note}"
    );
    for secret in ["TS-A", &first.study_date, &first.id.to_string()] {
        assert!(!note.contains(secret), "{secret:?} in {note:?}");
    }
    let hints = audit(&t, "recognition_hint").await;
    assert_eq!(hints.len(), 1);
    assert_eq!(hints[0].case_id, repeat.id);
    // The clinic's own earlier exam is its own to name.
    let own = upload_ct(&t, &t.clinic_a, PATIENT, 3).await;
    assert!(
        own.possible_repeat.contains("done here") && own.possible_repeat.contains("valid until"),
        "{}",
        own.possible_repeat
    );
}

/// Issue "Safe to deploy 1/2", item 8: reversing another institution's acceptance answered
/// "ledger row N belongs to TS-B", telling any clinic who accepted what. It must answer as for an
/// acceptance that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_institutions_acceptance_reads_as_a_missing_one() {
    let t = test_hub(|c| c.reading.two_level_review = false).await;
    let case = upload_ct(&t, &t.clinic_a, PATIENT, 1).await.id;
    sign(&t, case).await;
    let entry = check(&t.hub, &t.clinic_b, PATIENT, "CT-HEAD").await.entries[0]
        .entry
        .id;
    let row = t.hub.accept_recognition(&t.clinic_b, entry).await.unwrap();
    let foreign = t
        .hub
        .reverse_recognition(&t.clinic_a, row.id, "booked in error")
        .await
        .unwrap_err();
    let missing = t
        .hub
        .reverse_recognition(&t.clinic_a, row.id + 1000, "booked in error")
        .await
        .unwrap_err();
    assert!(matches!(foreign, Error::NotFound(_)), "{foreign:?}");
    assert_eq!(
        foreign.to_string().replace(&row.id.to_string(), "N"),
        missing
            .to_string()
            .replace(&(row.id + 1000).to_string(), "N")
    );
    assert!(!foreign.to_string().contains("TS-B"), "{foreign}");
    // The accepting institution may still correct its own row.
    assert!(
        t.hub
            .reverse_recognition(&t.clinic_b, row.id, "booked in error")
            .await
            .is_ok()
    );
}
