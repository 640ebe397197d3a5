//! The JSON shapes of `recognition ...` and `stats`, and money as people read it. Amounts are
//! carried in fen (1/100 yuan, exact) with a `_yuan` twin for people.

use remotedx_proto::v1 as pb;
use serde::Serialize;

use super::text;

/// Fen as yuan with two decimals: 15000 → "150.00", -650 → "-6.50".
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn yuan_f(fen: i64) -> f64 {
    fen as f64 / 100.0
}

/// Where an entry stands for the checking institution, as JSON and tables show it: "recognisable",
/// "accepted", "expired", "no-qc-pass", "outside-catalogue", "own-result", "declined" or
/// "unspecified".
pub fn standing(s: i32) -> &'static str {
    match pb::EntryStanding::try_from(s) {
        Ok(pb::EntryStanding::Recognisable) => "recognisable",
        Ok(pb::EntryStanding::Accepted) => "accepted",
        Ok(pb::EntryStanding::Expired) => "expired",
        Ok(pb::EntryStanding::NoQcPass) => "no-qc-pass",
        Ok(pb::EntryStanding::OutsideCatalogue) => "outside-catalogue",
        Ok(pb::EntryStanding::OwnResult) => "own-result",
        Ok(pb::EntryStanding::Declined) => "declined",
        Ok(pb::EntryStanding::Unspecified) | Err(_) => "unspecified",
    }
}

/// One entry of `recognition check`.
#[derive(Debug, Clone, Serialize)]
pub struct EntryJson {
    /// Entry id (what accept and decline take).
    pub entry_id: i64,
    /// The case holding the images.
    pub case_id: i64,
    /// The report version.
    pub report_id: i64,
    /// Exam item code.
    pub item_code: String,
    /// Exam item name.
    pub item_name: String,
    /// Modality.
    pub modality: String,
    /// Performing institution.
    pub institution_code: String,
    /// Its name.
    pub institution_name: String,
    /// Its level.
    pub institution_level: String,
    /// YYYY-MM-DD.
    pub exam_date: String,
    /// Last valid day, YYYY-MM-DD.
    pub valid_until: String,
    /// county-alliance, city or province.
    pub scope: String,
    /// The "HR" mark.
    pub hr_mark: String,
    /// The performing institution's fee, fen.
    pub fee_fen: i64,
    /// True when your institution may recognise it (or already did).
    pub recognisable: bool,
    /// Where it stands for your institution (see [`standing`]).
    pub standing: &'static str,
    /// Why it cannot be recognised; empty when it can.
    pub reason: String,
    /// The report's impression (context only).
    pub impression: String,
    /// What your institution would charge today, fen (null if unpriced).
    pub local_fee_fen: Option<i64>,
    /// The same in yuan.
    pub local_fee_yuan: Option<f64>,
    /// Your institution's standing acceptance (ledger id), if any.
    pub accepted_ledger_id: Option<i64>,
    /// Your institution's refusal (decline id), if any.
    pub declined_id: Option<i64>,
    /// How to see the images.
    pub images: String,
}

/// `recognition check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckJson {
    /// The patient pseudonym the check was audited under.
    pub patient_key: String,
    /// Every entry of the item: valid ones first, then the others with their reasons.
    pub entries: Vec<EntryJson>,
    /// Until when (Unix milliseconds) the checking user may open the valid entries' cases and
    /// accept or decline the entries.
    pub open_until_ms: i64,
}

impl From<pb::CheckResponse> for CheckJson {
    fn from(r: pb::CheckResponse) -> Self {
        let entries = r
            .entries
            .into_iter()
            .map(|e| EntryJson {
                entry_id: e.entry_id,
                case_id: e.case_id,
                report_id: e.report_id,
                item_code: e.item_code,
                item_name: e.item_name,
                modality: e.modality,
                institution_code: e.institution_code,
                institution_name: e.institution_name,
                institution_level: e.institution_level,
                exam_date: e.exam_date,
                valid_until: e.valid_until,
                scope: e.scope,
                hr_mark: e.hr_mark,
                fee_fen: e.fee_fen,
                recognisable: e.recognisable,
                standing: standing(e.standing),
                reason: e.reason,
                impression: e.impression,
                local_fee_fen: (e.local_fee_fen >= 0).then_some(e.local_fee_fen),
                local_fee_yuan: (e.local_fee_fen >= 0).then(|| yuan_f(e.local_fee_fen)),
                accepted_ledger_id: (e.accepted_ledger_id > 0).then_some(e.accepted_ledger_id),
                declined_id: (e.declined_id > 0).then_some(e.declined_id),
                images: e.images,
            })
            .collect();
        CheckJson {
            patient_key: r.patient_key,
            entries,
            open_until_ms: r.open_until_ms,
        }
    }
}

/// A ledger row (`recognition accept` / `reverse`).
#[derive(Debug, Clone, Serialize)]
pub struct LedgerJson {
    /// Ledger id.
    pub ledger_id: i64,
    /// The entry.
    pub entry_id: i64,
    /// "accept" or "reversal".
    pub kind: String,
    /// The row a reversal cancels.
    pub reverses_id: Option<i64>,
    /// The recognising institution.
    pub institution_code: String,
    /// Its level.
    pub institution_level: String,
    /// Exam item code.
    pub item_code: String,
    /// Fee not charged, fen (negative for a reversal).
    pub fee_fen: i64,
    /// The same in yuan.
    pub fee_yuan: f64,
    /// Note.
    pub note: String,
    /// When (Unix ms).
    pub at_ms: i64,
}

impl From<pb::LedgerEntry> for LedgerJson {
    fn from(l: pb::LedgerEntry) -> Self {
        LedgerJson {
            ledger_id: l.ledger_id,
            entry_id: l.entry_id,
            kind: l.kind,
            reverses_id: (l.reverses_id > 0).then_some(l.reverses_id),
            institution_code: l.institution_code,
            institution_level: l.institution_level,
            item_code: l.item_code,
            fee_yuan: yuan_f(l.fee_fen),
            fee_fen: l.fee_fen,
            note: l.note,
            at_ms: l.at_ms,
        }
    }
}

/// `recognition decline`.
#[derive(Debug, Clone, Serialize)]
pub struct DeclineJson {
    /// Refusal id.
    pub decline_id: i64,
    /// The entry.
    pub entry_id: i64,
    /// Reason code.
    pub reason: String,
    /// Note.
    pub note: String,
    /// When (Unix ms).
    pub at_ms: i64,
}

impl From<pb::DeclineResponse> for DeclineJson {
    fn from(d: pb::DeclineResponse) -> Self {
        DeclineJson {
            decline_id: d.decline_id,
            entry_id: d.entry_id,
            reason: d.reason,
            note: d.note,
            at_ms: d.at_ms,
        }
    }
}

/// Recognition figures of the period or a group.
#[derive(Debug, Clone, Serialize)]
pub struct FiguresJson {
    /// The group ("" for totals).
    pub key: String,
    /// Acceptances.
    pub recognitions: i64,
    /// Reversed acceptances.
    pub reversals: i64,
    /// Examinations not repeated.
    pub tests_avoided: i64,
    /// Fees not charged, fen.
    pub saved_fen: i64,
    /// The same in yuan.
    pub saved_yuan: f64,
    /// Refusals.
    pub declines: i64,
    /// Possible repeats uploaded.
    pub repeats: i64,
}

impl From<pb::RecognitionFigures> for FiguresJson {
    fn from(f: pb::RecognitionFigures) -> Self {
        FiguresJson {
            key: f.key,
            recognitions: f.recognitions,
            reversals: f.reversals,
            tests_avoided: f.tests_avoided,
            saved_yuan: yuan_f(f.saved_fen),
            saved_fen: f.saved_fen,
            declines: f.declines,
            repeats: f.repeats,
        }
    }
}

/// Savings of an institution in a month.
#[derive(Debug, Clone, Serialize)]
pub struct SavingJson {
    /// YYYY-MM.
    pub month: String,
    /// The recognising institution.
    pub institution_code: String,
    /// Fen.
    pub saved_fen: i64,
}

/// Turnaround of one priority.
#[derive(Debug, Clone, Serialize)]
pub struct TurnaroundJson {
    /// "stat", "urgent" or "routine".
    pub priority: &'static str,
    /// Cases signed.
    pub reported: i64,
    /// Median, ms.
    pub p50_ms: i64,
    /// 90th percentile, ms.
    pub p90_ms: i64,
    /// Deadline breaches.
    pub deadline_breaches: i64,
}

/// A specialist's workload.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadJson {
    /// User id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Cases whose report they wrote (once per case, however many versions).
    pub written: i64,
    /// Cases whose report they signed (once per case).
    pub signed: i64,
}

/// `stats`.
#[derive(Debug, Clone, Serialize)]
pub struct StatsJson {
    /// First day asked ("" when open).
    pub from: String,
    /// Last day asked ("" when open).
    pub to: String,
    /// The breakdown.
    pub by: String,
    /// Totals.
    pub totals: FiguresJson,
    /// Broken down.
    pub groups: Vec<FiguresJson>,
    /// Refusals per reason.
    pub declines_by_reason: std::collections::BTreeMap<String, i64>,
    /// Savings by month and institution.
    pub savings: Vec<SavingJson>,
    /// Cases uploaded.
    pub cases_received: i64,
    /// Cases signed.
    pub cases_reported: i64,
    /// Deadline breaches.
    pub deadline_breaches: i64,
    /// Turnaround per priority.
    pub turnaround: Vec<TurnaroundJson>,
    /// Per-specialist workload.
    pub workload: Vec<WorkloadJson>,
}

impl From<pb::StatsResponse> for StatsJson {
    fn from(s: pb::StatsResponse) -> Self {
        StatsJson {
            from: s.from,
            to: s.to,
            by: s.by,
            totals: s.totals.unwrap_or_default().into(),
            groups: s.groups.into_iter().map(Into::into).collect(),
            declines_by_reason: s
                .declines_by_reason
                .into_iter()
                .map(|d| (d.reason, d.count))
                .collect(),
            savings: s
                .savings
                .into_iter()
                .map(|m| SavingJson {
                    month: m.month,
                    institution_code: m.institution_code,
                    saved_fen: m.saved_fen,
                })
                .collect(),
            cases_received: s.cases_received,
            cases_reported: s.cases_reported,
            deadline_breaches: s.deadline_breaches,
            turnaround: s
                .turnaround
                .into_iter()
                .map(|t| TurnaroundJson {
                    priority: text::priority(t.priority),
                    reported: t.reported,
                    p50_ms: t.p50_ms,
                    p90_ms: t.p90_ms,
                    deadline_breaches: t.deadline_breaches,
                })
                .collect(),
            workload: s
                .workload
                .into_iter()
                .map(|w| WorkloadJson {
                    user_id: w.user_id,
                    name: w.name,
                    written: w.written,
                    signed: w.signed,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_read_as_yuan() {
        assert_eq!(yuan(15_000), "150.00");
        assert_eq!(yuan(-650), "-6.50");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(0), "0.00");
    }
}
