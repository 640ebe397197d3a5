//! Reports: a specialist files, a senior signs (where two-level review is on), corrections are
//! amendments. Every version is kept; statuses follow FHIR DiagnosticReport (preliminary, final,
//! amended). Signing and amending write a domain event in the same transaction, which result
//! recognition (and anything else) subscribes to.

use super::{Error, Hub, ReportNotice, Result, audit};
use crate::clock::now_ms;
use crate::model::{Case, CaseState, Principal, Report, ReportStatus, Role};
use crate::storage::{SqlTx, cases, events, reports};

/// Event kind written when a report is signed final.
pub const REPORT_SIGNED: &str = "report_signed";
/// Event kind written when a signed report is amended.
pub const REPORT_AMENDED: &str = "report_amended";

/// The text of a report.
#[derive(Debug, Clone, Default)]
pub struct ReportText {
    /// What was seen.
    pub findings: String,
    /// The conclusion.
    pub impression: String,
    /// States a critical finding.
    pub critical: bool,
}

impl ReportText {
    fn check(&self) -> Result<()> {
        if self.impression.trim().is_empty() {
            return Err(Error::InvalidArgument(
                "a report needs an impression (--impression)".into(),
            ));
        }
        self.check_lengths()
    }

    /// Refuses findings or an impression longer than its limit (edits at signing included).
    fn check_lengths(&self) -> Result<()> {
        use super::limits::{FINDINGS_CHARS, IMPRESSION_CHARS, bounded};
        bounded("the findings", &self.findings, FINDINGS_CHARS)?;
        bounded("the impression", &self.impression, IMPRESSION_CHARS)
    }
}

impl Hub {
    /// Files the report of a case `who` holds the lease on; with `sign`, signs it final at once.
    pub async fn file_report(
        &self,
        who: &Principal,
        case_id: i64,
        text: &ReportText,
        sign: bool,
    ) -> Result<Report> {
        who.require(&[Role::Specialist], "reporting a case")?;
        text.check()?;
        if sign && self.config().reading.two_level_review && !who.senior {
            return Err(Error::PermissionDenied(format!(
                "two-level review is on: {} is not a senior specialist and cannot sign; file the report without --sign and a senior will sign it",
                who.name
            )));
        }
        let now = now_ms();
        let mut tx = self.store().write().await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        if case.state() != CaseState::Claimed
            || case.claimed_by != Some(who.user_id)
            || !case.claim_active(now)
        {
            return Err(Error::FailedPrecondition(format!(
                "only the specialist holding an unexpired claim can report case {case_id}; claim it first (`claim {case_id}`)"
            )));
        }
        let status = if sign {
            ReportStatus::Final
        } else {
            ReportStatus::Preliminary
        };
        let report = Report {
            case_id,
            status: status.as_str().into(),
            findings: text.findings.trim().into(),
            impression: text.impression.trim().into(),
            critical: text.critical,
            author_id: who.user_id,
            signer_id: sign.then_some(who.user_id),
            created_at_ms: now,
            signed_at_ms: if sign { now } else { 0 },
            ..Report::default()
        };
        let to = if sign {
            CaseState::Signed
        } else {
            CaseState::Reported
        };
        let saved = self
            .save_version(tx.as_mut(), &case, report, &[CaseState::Claimed], to, who)
            .await?;
        tx.commit().await?;
        self.announce(case_id, saved).await
    }

    /// A senior specialist signs the preliminary report of a case final, optionally editing it.
    /// The final version keeps the preliminary's author, names the signer, and names the signer
    /// as its editor too when the findings or impression were changed.
    pub async fn sign_report(
        &self,
        who: &Principal,
        case_id: i64,
        edits: &ReportText,
    ) -> Result<Report> {
        who.require(&[Role::Specialist], "signing a report")?;
        edits.check_lengths()?;
        let review = self.config().reading.two_level_review;
        if review && !who.senior {
            return Err(Error::PermissionDenied(format!(
                "signing needs a senior specialist; {} is not one",
                who.name
            )));
        }
        let now = now_ms();
        let mut tx = self.store().write().await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        let prelim = reports::latest(tx.as_mut(), case_id).await?;
        let Some(prelim) = prelim.filter(|_| case.state() == CaseState::Reported) else {
            return Err(Error::FailedPrecondition(format!(
                "case {case_id} has no preliminary report waiting for a signature"
            )));
        };
        if review && prelim.author_id == who.user_id {
            return Err(Error::FailedPrecondition(format!(
                "two-level review needs a second reader: {} wrote this report and cannot also sign it",
                who.name
            )));
        }
        let pick = |edit: &str, old: &str| {
            if edit.trim().is_empty() {
                old.to_owned()
            } else {
                edit.trim().to_owned()
            }
        };
        let findings = pick(&edits.findings, &prelim.findings);
        let impression = pick(&edits.impression, &prelim.impression);
        // The signer who changes the text is named as its editor: the version no longer says
        // only what its author wrote.
        let edited = findings != prelim.findings || impression != prelim.impression;
        let report = Report {
            case_id,
            status: ReportStatus::Final.as_str().into(),
            findings,
            impression,
            critical: prelim.critical || edits.critical,
            author_id: prelim.author_id,
            editor_id: edited.then_some(who.user_id),
            signer_id: Some(who.user_id),
            created_at_ms: now,
            signed_at_ms: now,
            ..Report::default()
        };
        let saved = self
            .save_version(
                tx.as_mut(),
                &case,
                report,
                &[CaseState::Reported],
                CaseState::Signed,
                who,
            )
            .await?;
        tx.commit().await?;
        self.announce(case_id, saved).await
    }

    /// Corrects a signed report; the earlier versions stay. `critical` sets the corrected report's
    /// critical flag; `None` keeps the earlier one.
    pub async fn amend_report(
        &self,
        who: &Principal,
        case_id: i64,
        text: &ReportText,
        critical: Option<bool>,
        reason: &str,
    ) -> Result<Report> {
        who.require(&[Role::Specialist], "amending a report")?;
        text.check()?;
        super::limits::bounded("the amendment reason", reason, super::limits::NOTE_CHARS)?;
        if reason.trim().is_empty() {
            return Err(Error::InvalidArgument(
                "an amendment needs a reason (--reason)".into(),
            ));
        }
        let now = now_ms();
        let mut tx = self.store().write().await?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        let last = reports::latest(tx.as_mut(), case_id).await?;
        let Some(last) = last.filter(|_| case.state() == CaseState::Signed) else {
            return Err(Error::FailedPrecondition(format!(
                "case {case_id} has no signed report to amend"
            )));
        };
        if self.config().reading.two_level_review
            && !who.senior
            && last.signer_id != Some(who.user_id)
        {
            return Err(Error::PermissionDenied(format!(
                "only the signer or a senior specialist can amend case {case_id}'s report"
            )));
        }
        let report = Report {
            case_id,
            status: ReportStatus::Amended.as_str().into(),
            findings: text.findings.trim().into(),
            impression: text.impression.trim().into(),
            critical: critical.unwrap_or(last.critical),
            author_id: who.user_id,
            signer_id: Some(who.user_id),
            created_at_ms: now,
            signed_at_ms: now,
            amend_reason: reason.trim().into(),
            ..Report::default()
        };
        let saved = self
            .save_version(
                tx.as_mut(),
                &case,
                report,
                &[CaseState::Signed],
                CaseState::Signed,
                who,
            )
            .await?;
        tx.commit().await?;
        self.announce(case_id, saved).await
    }

    /// Appends a version, moves the case, records the event and the audit entry.
    async fn save_version(
        &self,
        tx: &mut dyn SqlTx,
        case: &Case,
        report: Report,
        from: &[CaseState],
        to: CaseState,
        who: &Principal,
    ) -> Result<i64> {
        let now = report.created_at_ms;
        if !cases::advance_after_report(tx, case.id, from, to, now).await? {
            return Err(Error::FailedPrecondition(format!(
                "case {} changed state meanwhile; look again",
                case.id
            )));
        }
        let id = reports::append(tx, &report).await?;
        let amended = report.status == ReportStatus::Amended.as_str();
        if report.critical || amended {
            let reason = if report.critical {
                "critical finding in the report"
            } else {
                ""
            };
            cases::set_critical(tx, case.id, report.critical, reason).await?;
        }
        let event = match report.status.parse::<ReportStatus>() {
            Ok(ReportStatus::Final) => Some(REPORT_SIGNED),
            Ok(ReportStatus::Amended) => Some(REPORT_AMENDED),
            _ => None,
        };
        if let Some(kind) = event {
            let payload = serde_json::json!({ "report_id": id, "case_id": case.id, "status": report.status, "signed_at_ms": report.signed_at_ms });
            events::append(tx, kind, case.id, &payload.to_string(), now).await?;
        }
        let action = match report.status.as_str() {
            "final" if from == [CaseState::Reported] => "sign",
            "final" => "report_signed",
            "amended" => "amend",
            _ => "report",
        };
        let detail = format!(
            "report {id} {}{}",
            report.status,
            if report.critical { ", CRITICAL" } else { "" }
        );
        audit::record(tx, who, action, case.id, &case.patient_key, detail).await?;
        Ok(id)
    }

    /// After commit: tells watching clinics and the event dispatcher, returns the saved version.
    async fn announce(&self, case_id: i64, report_id: i64) -> Result<Report> {
        self.notify_events();
        let mut tx = self.store().read().await?;
        let report = reports::get(tx.as_mut(), report_id)
            .await?
            .ok_or_else(|| Error::Internal(format!("report {report_id} vanished")))?;
        let case = self.case_or_not_found(tx.as_mut(), case_id).await?;
        let _ = self.inner.reports.send(ReportNotice {
            case,
            report: report.clone(),
        });
        Ok(report)
    }

    /// Newest report of each case `who` may see, newest first. Clinics see signed versions, and a
    /// preliminary one only when it states a critical finding (they must hear of that at once).
    pub async fn list_reports(
        &self,
        who: &Principal,
        since_ms: i64,
        critical_only: bool,
        limit: u32,
    ) -> Result<Vec<(Case, Report)>> {
        who.require(
            &[Role::Clinic, Role::Specialist, Role::Admin],
            "listing reports",
        )?;
        let institution = who.listing_scope();
        let limit = super::list_limit(limit);
        let mut tx = self.store().read().await?;
        let list =
            reports::recent(tx.as_mut(), institution, since_ms, critical_only, limit).await?;
        let mut out = Vec::with_capacity(list.len());
        for report in list.into_iter().filter(|r| visible_to(who, r)) {
            let case = self.case_or_not_found(tx.as_mut(), report.case_id).await?;
            out.push((case, report));
        }
        drop(tx);
        let ids: Vec<i64> = out.iter().map(|(c, _)| c.id).collect();
        self.audit_listing(who, "reports_read", "listed reports", &ids)
            .await?;
        Ok(out)
    }
}

/// Whether `who` may read this report version: everyone but clinics reads every version; clinics
/// read signed ones, and preliminary ones stating a critical finding.
pub fn visible_to(who: &Principal, report: &Report) -> bool {
    who.role != Role::Clinic
        || report.status != ReportStatus::Preliminary.as_str()
        || report.critical
}
