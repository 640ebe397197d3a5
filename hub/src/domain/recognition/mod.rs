//! Result mutual recognition (检查检验结果互认): a patient examined at one institution is not
//! examined again at another while the result is valid.
//!
//! - [`RecognitionExtension`]: subscribes to signed and amended reports and keeps one entry per
//!   case of a recognisable item (stored as not recognisable, with the reason, when the performing
//!   institution holds no quality-control pass); it also writes the "possible repeat" note of new
//!   cases.
//! - [`Hub::check_recognition`], [`Hub::accept_recognition`], [`Hub::decline_recognition`],
//!   [`Hub::reverse_recognition`]: what a doctor at the receiving institution does; every check is
//!   audited, acceptances go to the append-only ledger, corrections are reversing rows.
//! - [`access`]: what a check opens (the entries it returned, to the user who checked, for a
//!   window), and the per-user and per-patient rate limits of checks.
//! - [`rules`]: the pure rules (days, validity, QC passes, prices); [`region`]: the region's time
//!   zone, which decides local days; [`stats`]: the administrators' figures.

pub mod access;
pub mod region;
pub mod rules;
pub mod standing;
pub mod stats;

use std::sync::Arc;

use async_trait::async_trait;

use super::catalog::{Catalog, ExamItem};
use super::pseudonym::{IdType, id_calendar_today};
use super::reports::{REPORT_AMENDED, REPORT_SIGNED};
use super::{Error, Extension, Hub, Result, audit};
use crate::clock::now_ms;
use crate::model::{
    Case, DeclineReason, LedgerRow, Principal, RecognitionDecision, RecognitionDecline,
    RecognitionEntry, Role,
};
use crate::storage::events::StoredEvent;
use crate::storage::{SqlTx, cases, recognition as store, reports, users};
use access::CheckMade;
pub use access::CheckPurpose;
pub use region::Region;
use rules::{Day, Eligibility};
use standing::Standing;

/// Longest note a refusal may carry, in characters.
pub const MAX_NOTE_CHARS: usize = 200;

/// Ledger row kind of an acceptance.
pub const ACCEPT: &str = "accept";
/// Ledger row kind of a correction.
pub const REVERSAL: &str = "reversal";
/// Decision kind of a refusal.
pub const DECLINE: &str = "decline";

/// Keeps recognition entries in step with signed reports and flags possible repeats.
pub struct RecognitionExtension {
    catalog: Arc<Catalog>,
    region: Region,
}

impl RecognitionExtension {
    /// Over the region's catalogue (items, prices, QC passes), counting days in its time zone.
    pub fn new(catalog: Catalog, region: Region) -> Self {
        RecognitionExtension {
            catalog: Arc::new(catalog),
            region,
        }
    }

    async fn record(&self, tx: &mut dyn SqlTx, event: &StoredEvent) -> Result<()> {
        let payload: serde_json::Value = serde_json::from_str(&event.payload)
            .map_err(|e| Error::Internal(format!("event {}: bad payload: {e}", event.id)))?;
        let report_id = payload["report_id"].as_i64().unwrap_or(0);
        let Some(case) = cases::get(tx, event.case_id).await? else {
            tracing::warn!(
                event = event.id,
                case = event.case_id,
                "recognition: no such case"
            );
            return Ok(());
        };
        let Some(item) = self
            .catalog
            .item(&case.exam_item_code)
            .filter(|i| i.recognisable)
        else {
            return Ok(());
        };
        let report = reports::get(tx, report_id)
            .await?
            .ok_or_else(|| Error::Internal(format!("event {}: no report {report_id}", event.id)))?;
        let level = users::institution(tx, &case.institution_code)
            .await?
            .map(|i| i.level)
            .unwrap_or_default();
        let entry = self.entry_of(&case, item, &level, report.id, &report.impression);
        store::upsert_entry(tx, &entry).await?;
        Ok(())
    }

    /// The entry a signed report of `case` creates.
    fn entry_of(
        &self,
        case: &Case,
        item: &ExamItem,
        level: &str,
        report_id: i64,
        impression: &str,
    ) -> RecognitionEntry {
        let exam =
            Day::parse(&case.study_date).unwrap_or_else(|_| self.region.day_of(case.created_at_ms));
        let until = rules::valid_until(exam, item.validity_days);
        let eligibility =
            rules::eligibility(item, &case.institution_code, exam, &self.catalog.qc_passes);
        let fee = rules::price_on(&self.catalog.prices, &item.code, level, exam);
        let now = now_ms();
        RecognitionEntry {
            case_id: case.id,
            report_id,
            patient_key: case.patient_key.clone(),
            exam_item_code: item.code.clone(),
            category: item.category.clone(),
            modality: case.modality.clone(),
            institution_code: case.institution_code.clone(),
            institution_level: level.to_owned(),
            exam_date: exam.to_string(),
            valid_until: until.to_string(),
            valid_until_ms: self.region.start_ms(until.plus(1)),
            scope: item.scope.clone(),
            hr_mark: item.hr_mark.clone(),
            fee_fen: fee.map_or(0, rules::Price::fee_fen),
            recognisable: eligibility == Eligibility::Recognisable,
            reason_code: match &eligibility {
                Eligibility::Recognisable => String::new(),
                Eligibility::NotRecognisable(code, _) => code.code().to_owned(),
            },
            reason: match eligibility {
                Eligibility::Recognisable => String::new(),
                Eligibility::NotRecognisable(_, why) => why,
            },
            impression: impression.to_owned(),
            created_at_ms: now,
            updated_at_ms: now,
            ..RecognitionEntry::default()
        }
    }
}

#[async_trait]
impl Extension for RecognitionExtension {
    fn name(&self) -> &'static str {
        "recognition"
    }

    async fn case_created(&self, tx: &mut dyn SqlTx, case: &Case) -> Result<Option<String>> {
        if self
            .catalog
            .item(&case.exam_item_code)
            .is_none_or(|i| !i.recognisable)
        {
            return Ok(None);
        }
        let entries =
            store::entries_in_window(tx, &case.patient_key, &case.exam_item_code, now_ms()).await?;
        let Some(e) = entries.iter().find(|e| e.recognisable) else {
            return Ok(None);
        };
        if e.institution_code == case.institution_code {
            return Ok(Some(format!(
                "possible repeat of {} done here on {}, valid until {} (case {})",
                e.exam_item_code, e.exam_date, e.valid_until, e.case_id
            )));
        }
        // Another institution's exam: the uploader learns only that a check is worth making; what
        // and where is for the (audited, rate-limited) check to say. The hint is audited too.
        let hub = Principal {
            institution_code: case.institution_code.clone(),
            ..Principal::system()
        };
        let detail = format!(
            "possible repeat of {} hinted to {}: entry {} of {}",
            e.exam_item_code, case.institution_code, e.id, e.institution_code
        );
        audit::record(
            tx,
            &hub,
            "recognition_hint",
            case.id,
            &case.patient_key,
            detail,
        )
        .await?;
        Ok(Some(format!(
            "possible repeat of {item}: a valid result may be on record for this patient; run \
             `recognition check --item {item} --purpose before-examining` before examining again",
            item = case.exam_item_code
        )))
    }

    async fn handle_event(&self, tx: &mut dyn SqlTx, event: &StoredEvent) -> Result<()> {
        if event.kind == REPORT_SIGNED || event.kind == REPORT_AMENDED {
            self.record(tx, event).await?;
        }
        Ok(())
    }
}

/// What a doctor asks: is there a valid result of this item for this patient?
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// How the identifier is to be read (not a local record number).
    pub id_type: IdType,
    /// The identifier the patient presents.
    pub patient_id: String,
    /// Exam item code.
    pub item: String,
    /// Why the doctor looks (goes to the audit trail); a check without one is refused.
    pub purpose: Option<CheckPurpose>,
    /// What the doctor adds about why (required with [`CheckPurpose::Other`]).
    pub note: String,
}

impl CheckRequest {
    /// Refuses any field longer than its limit (see [`crate::domain::limits`]) and a check
    /// without its purpose; returns the purpose.
    fn check_fields(&self) -> Result<CheckPurpose> {
        use crate::domain::limits::{CODE_CHARS, NOTE_CHARS, bounded};
        bounded("the patient ID", &self.patient_id, CODE_CHARS)?;
        bounded("the exam item code", &self.item, CODE_CHARS)?;
        bounded("the purpose note", &self.note, NOTE_CHARS)?;
        let purpose = self.purpose.ok_or_else(|| {
            Error::InvalidArgument(
                "a recognition check needs its purpose (--purpose before-examining, referral, \
                 consultation or other)"
                    .into(),
            )
        })?;
        if purpose == CheckPurpose::Other && self.note.trim().is_empty() {
            return Err(Error::InvalidArgument(
                "purpose \"other\" needs a note saying why you check (--note)".into(),
            ));
        }
        Ok(purpose)
    }
}

/// An entry as the checking institution sees it.
#[derive(Debug, Clone)]
pub struct CheckedEntry {
    /// The entry.
    pub entry: RecognitionEntry,
    /// What the checking institution would charge for the item today (fen), if priced.
    pub local_fee_fen: Option<i64>,
    /// Whether the checking institution may recognise it, and why not.
    pub standing: Standing,
}

/// The outcome of a check.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// The patient's pseudonym (what the audit trail records).
    pub patient_key: String,
    /// Every entry of the item for the patient: valid ones first, then the others with their
    /// reasons; newest examination first within each.
    pub entries: Vec<CheckedEntry>,
    /// Until when (Unix milliseconds) the caller may open the valid entries' cases and accept or
    /// decline the entries.
    pub open_until_ms: i64,
}

impl Hub {
    /// Lists every result of an item for a patient, valid ones first and the others with the
    /// reason they cannot be recognised; audited.
    pub async fn check_recognition(
        &self,
        who: &Principal,
        req: &CheckRequest,
    ) -> Result<CheckOutcome> {
        who.require(
            &[Role::Clinic, Role::Specialist],
            "checking recognition entries",
        )?;
        let purpose = req.check_fields()?;
        if req.id_type == IdType::Mrn {
            return Err(Error::InvalidArgument(
                "a record number is only meaningful in its hospital: check with an id-card, insurance or health-card number".into(),
            ));
        }
        let patient_id = req
            .id_type
            .validate(&req.patient_id, id_calendar_today())
            .map_err(|e| Error::InvalidArgument(format!("--patient-id: {e}")))?;
        let item = self.recognisable_item(&req.item)?;
        let key = self
            .inner
            .pseudonyms
            .key_for(req.id_type, &patient_id, &who.institution_code)
            .key;
        let now = now_ms();
        let tx = self.store().write().await?;
        let mut tx = self.enforce_check_limits(tx, who, &key, now).await?;
        let level = self.level_of(tx.as_mut(), &who.institution_code).await?;
        let local_fee_fen = rules::price_on(
            &self.catalog().prices,
            &item.code,
            &level,
            self.region().day_of(now),
        )
        .map(rules::Price::fee_fen);
        let mut entries = Vec::new();
        for entry in store::entries_of_patient(tx.as_mut(), &key, &item.code).await? {
            let decision = store::decision_of(tx.as_mut(), entry.id, &who.institution_code).await?;
            let standing = Standing::of(&entry, &who.institution_code, decision.as_ref(), now);
            entries.push(CheckedEntry {
                entry,
                local_fee_fen,
                standing,
            });
        }
        standing::valid_first(&mut entries, |e| &e.standing);
        let valid = entries.iter().filter(|e| e.standing.is_valid()).count();
        let open_until_ms = self
            .record_check(
                tx.as_mut(),
                &CheckMade {
                    who,
                    patient_key: &key,
                    item: &item.code,
                    purpose,
                    entries: &entries,
                    now,
                },
            )
            .await?;
        let returned: Vec<String> = entries.iter().map(|e| e.entry.id.to_string()).collect();
        let detail = format!(
            "checked {} ({}): {} entries, {valid} valid (returned: {}); purpose: {} {}",
            item.code,
            req.id_type.as_str(),
            entries.len(),
            returned.join(", "),
            purpose,
            req.note.trim()
        );
        audit::record(
            tx.as_mut(),
            who,
            "recognition_check",
            0,
            &key,
            detail.trim_end(),
        )
        .await?;
        tx.commit().await?;
        Ok(CheckOutcome {
            patient_key: key,
            entries,
            open_until_ms,
        })
    }

    /// Recognises an entry instead of examining again: books the fee the caller's institution
    /// would have charged today in the ledger.
    pub async fn accept_recognition(&self, who: &Principal, entry_id: i64) -> Result<LedgerRow> {
        who.require(&[Role::Clinic, Role::Specialist], "accepting a recognition")?;
        let now = now_ms();
        let mut tx = self.store().write().await?;
        let entry = self
            .entry_returned_to(tx.as_mut(), who, entry_id, now)
            .await?;
        if !entry.recognisable {
            return Err(Error::FailedPrecondition(format!(
                "entry {entry_id} is not recognisable: {}",
                entry.reason
            )));
        }
        if now >= entry.valid_until_ms {
            return Err(Error::FailedPrecondition(format!(
                "entry {entry_id} was valid until {}; it can no longer be recognised",
                entry.valid_until
            )));
        }
        refuse_if_decided(tx.as_mut(), who, entry_id).await?;
        let level = self.level_of(tx.as_mut(), &who.institution_code).await?;
        let today = self.region().day_of(now);
        let price = rules::price_on(&self.catalog().prices, &entry.exam_item_code, &level, today);
        let note = if price.is_none() {
            format!(
                "no price for {} at {level} level on {today} in the price table; booked as 0",
                entry.exam_item_code
            )
        } else {
            String::new()
        };
        let mut row = LedgerRow {
            entry_id,
            kind: ACCEPT.into(),
            institution_code: who.institution_code.clone(),
            institution_level: level,
            exam_item_code: entry.exam_item_code.clone(),
            modality: entry.modality.clone(),
            performing_institution: entry.institution_code.clone(),
            user_id: who.user_id,
            fee_fen: price.map_or(0, rules::Price::fee_fen),
            note,
            at_ms: now,
            ..LedgerRow::default()
        };
        row.id = store::append_ledger(tx.as_mut(), &row).await?;
        let decision = RecognitionDecision {
            decision: ACCEPT.into(),
            ledger_id: Some(row.id),
            ..decision_of(who, entry_id, now)
        };
        record_decision(tx.as_mut(), &decision).await?;
        let detail = format!(
            "accepted entry {entry_id} ({} of {} on {}): ledger row {}, {} fen",
            entry.exam_item_code, entry.institution_code, entry.exam_date, row.id, row.fee_fen
        );
        audit::record(
            tx.as_mut(),
            who,
            "recognition_accept",
            entry.case_id,
            &entry.patient_key,
            detail,
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Records a refusal to recognise an entry, with a standard reason and an optional note.
    pub async fn decline_recognition(
        &self,
        who: &Principal,
        entry_id: i64,
        reason: DeclineReason,
        note: &str,
    ) -> Result<RecognitionDecline> {
        who.require(&[Role::Clinic, Role::Specialist], "declining a recognition")?;
        let note = note.trim();
        crate::domain::limits::bounded("a decline note", note, MAX_NOTE_CHARS)?;
        if reason == DeclineReason::Other && note.is_empty() {
            return Err(Error::InvalidArgument(
                "reason \"other\" needs a note saying what (--note)".into(),
            ));
        }
        let mut tx = self.store().write().await?;
        let entry = self
            .entry_returned_to(tx.as_mut(), who, entry_id, now_ms())
            .await?;
        refuse_if_decided(tx.as_mut(), who, entry_id).await?;
        let mut decline = RecognitionDecline {
            entry_id,
            institution_code: who.institution_code.clone(),
            exam_item_code: entry.exam_item_code.clone(),
            modality: entry.modality.clone(),
            user_id: who.user_id,
            reason: reason.as_str().into(),
            note: note.into(),
            at_ms: now_ms(),
            ..RecognitionDecline::default()
        };
        decline.id = store::append_decline(tx.as_mut(), &decline).await?;
        let decision = RecognitionDecision {
            decision: DECLINE.into(),
            decline_id: Some(decline.id),
            ..decision_of(who, entry_id, decline.at_ms)
        };
        record_decision(tx.as_mut(), &decision).await?;
        let detail = format!(
            "declined entry {entry_id} ({}): {reason} {note}",
            entry.exam_item_code
        );
        audit::record(
            tx.as_mut(),
            who,
            "recognition_decline",
            entry.case_id,
            &entry.patient_key,
            detail.trim_end(),
        )
        .await?;
        tx.commit().await?;
        Ok(decline)
    }

    /// Corrects an acceptance booked in error with a reversing ledger row (the ledger is append
    /// only). The accepting institution's users or an administrator may do it.
    pub async fn reverse_recognition(
        &self,
        who: &Principal,
        ledger_id: i64,
        reason: &str,
    ) -> Result<LedgerRow> {
        who.require(
            &[Role::Clinic, Role::Specialist, Role::Admin],
            "correcting the savings ledger",
        )?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_NOTE_CHARS {
            return Err(Error::InvalidArgument(format!(
                "a correction needs a reason of 1 to {MAX_NOTE_CHARS} characters (--reason)"
            )));
        }
        let mut tx = self.store().write().await?;
        // Another institution's row answers as a missing one: which institution accepted what is
        // not the caller's to learn (issue "Safe to deploy 1/2", item 8).
        let row = store::ledger_row(tx.as_mut(), ledger_id)
            .await?
            .filter(|r| r.kind == ACCEPT)
            .filter(|r| who.role == Role::Admin || who.institution_code == r.institution_code)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no acceptance of {} with ledger id {ledger_id}",
                    who.institution_code
                ))
            })?;
        if let Some(r) = store::reversal_of(tx.as_mut(), ledger_id).await? {
            return Err(Error::FailedPrecondition(format!(
                "ledger row {ledger_id} was already reversed by row {}",
                r.id
            )));
        }
        let mut reversal = LedgerRow {
            id: 0,
            kind: REVERSAL.into(),
            reverses_id: Some(ledger_id),
            user_id: who.user_id,
            fee_fen: -row.fee_fen,
            note: reason.into(),
            at_ms: now_ms(),
            ..row.clone()
        };
        reversal.id = store::append_ledger(tx.as_mut(), &reversal).await?;
        // The institution may decide on the entry again (accept, or decline after all).
        store::withdraw_acceptance(tx.as_mut(), ledger_id).await?;
        let detail = format!(
            "reversed ledger row {ledger_id} by row {}: {reason}",
            reversal.id
        );
        audit::record(tx.as_mut(), who, "recognition_reverse", 0, "", detail).await?;
        tx.commit().await?;
        Ok(reversal)
    }

    /// The item if it is in the recognition catalogue.
    fn recognisable_item(&self, code: &str) -> Result<&ExamItem> {
        let code = code.trim().to_ascii_uppercase();
        self.catalog()
            .item(&code)
            .filter(|i| i.recognisable)
            .ok_or_else(|| {
                let known: Vec<&str> = self
                    .catalog()
                    .items
                    .iter()
                    .filter(|i| i.recognisable)
                    .map(|i| i.code.as_str())
                    .collect();
                Error::InvalidArgument(format!(
                    "{code} is not in the region's recognition catalogue (recognisable items: {})",
                    known.join(", ")
                ))
            })
    }

    /// The level of an institution ("" if it is unknown).
    async fn level_of(&self, tx: &mut dyn SqlTx, code: &str) -> Result<String> {
        Ok(users::institution(tx, code)
            .await?
            .map(|i| i.level)
            .unwrap_or_default())
    }
}

/// A decision of `who`'s institution on an entry, to be completed with its kind and row.
fn decision_of(who: &Principal, entry_id: i64, at_ms: i64) -> RecognitionDecision {
    RecognitionDecision {
        entry_id,
        institution_code: who.institution_code.clone(),
        at_ms,
        ..RecognitionDecision::default()
    }
}

/// Refuses a second decision by the same institution on an entry, saying what the first was.
async fn refuse_if_decided(tx: &mut dyn SqlTx, who: &Principal, entry_id: i64) -> Result<()> {
    let Some(d) = store::decision_of(tx, entry_id, &who.institution_code).await? else {
        return Ok(());
    };
    let inst = &who.institution_code;
    Err(Error::FailedPrecondition(
        match (d.ledger_id, d.decline_id) {
            (Some(row), _) => format!(
                "{inst} already accepted entry {entry_id} (ledger row {row}); to decline it instead, \
             reverse the acceptance first (`recognition reverse {row} --reason ...`)"
            ),
            (None, decline) => format!(
                "{inst} already declined entry {entry_id} (refusal {}); an entry is accepted or \
             declined by an institution, not both",
                decline.unwrap_or_default()
            ),
        },
    ))
}

/// Records a decision; the database refuses a second one for the same entry and institution,
/// which is what stops two users deciding at the same moment.
async fn record_decision(tx: &mut dyn SqlTx, d: &RecognitionDecision) -> Result<()> {
    if store::record_decision(tx, d).await? {
        return Ok(());
    }
    Err(Error::FailedPrecondition(format!(
        "another user of {} decided on entry {} at the same moment; check it again",
        d.institution_code, d.entry_id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_ends_at_the_regions_midnight() {
        let catalog = Catalog::load(None).unwrap();
        let item = catalog.item("CT-HEAD").unwrap().clone();
        let case = Case {
            study_date: "20261101".into(),
            institution_code: "TS-A".into(),
            ..Case::default()
        };
        let region = Region::new("Asia/Shanghai").unwrap();
        let ext = RecognitionExtension::new(catalog, region.clone());
        let entry = ext.entry_of(&case, &item, "township", 1, "normal");
        let last = Day::parse(&entry.valid_until).unwrap();
        // The first instant of the day after the last valid one, in Shanghai (UTC+8).
        let midnight = jiff::civil::date(2026, 11, 1)
            .checked_add(jiff::ToSpan::days(i64::from(item.validity_days) + 1))
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
            .unwrap()
            .timestamp()
            .as_millisecond();
        assert_eq!(entry.valid_until_ms, midnight);
        assert_eq!(
            entry.valid_until_ms,
            last.plus(1).start_ms() - 8 * 3_600_000
        );
        assert_eq!(region.day_of(entry.valid_until_ms - 1), last);
        assert_eq!(region.day_of(entry.valid_until_ms), last.plus(1));
    }
}
