//! What a recognition check opens, to whom, and how often one may check.
//!
//! A check is the only way across institutions: it records the entries it returned to the user
//! who asked, and for `[recognition] access_window` (24 h by default) that user, and nobody else,
//! may open the cases of the valid ones (read-only, each open audited) and accept or decline any of
//! them. A check that returned nothing opens nothing; a result signed after the check, or another
//! item of the same patient, is not opened by it. Knowing an entry or case id is never enough.
//!
//! Checks are limited per user (`checks_per_user_per_hour`) and per user and patient
//! (`checks_per_patient_per_day`), so that a token cannot be used to sweep the region's patients.

use std::fmt;
use std::str::FromStr;

use super::{CheckedEntry, store};
use crate::clock::describe_ms;
use crate::config::RecognitionConfig;
use crate::domain::{Error, Hub, Result, audit};
use crate::model::{Principal, RecognitionEntry};
use crate::storage::SqlTx;
use crate::storage::recognition_access::{self as access, CheckRecord, Returned};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Why a doctor checks a patient's results (recorded with every check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckPurpose {
    /// Deciding whether to examine the patient again (the ordinary use).
    BeforeExamining,
    /// Receiving a referred or transferred patient.
    Referral,
    /// A consultation or treatment decision about the patient in front of the doctor.
    Consultation,
    /// Anything else; the check must then say what in its note.
    Other,
}

impl CheckPurpose {
    /// Every purpose, in the order they are offered.
    pub const ALL: [CheckPurpose; 4] = [
        CheckPurpose::BeforeExamining,
        CheckPurpose::Referral,
        CheckPurpose::Consultation,
        CheckPurpose::Other,
    ];

    /// The code stored and typed (`before-examining`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckPurpose::BeforeExamining => "before-examining",
            CheckPurpose::Referral => "referral",
            CheckPurpose::Consultation => "consultation",
            CheckPurpose::Other => "other",
        }
    }
}

impl fmt::Display for CheckPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CheckPurpose {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        CheckPurpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let codes: Vec<&str> = CheckPurpose::ALL.iter().map(|p| p.as_str()).collect();
                format!("unknown check purpose {s:?} (one of: {})", codes.join(", "))
            })
    }
}

/// The window and the rate limits, in the units the rules use.
#[derive(Debug, Clone, Copy)]
pub(super) struct AccessRules {
    window_ms: i64,
    per_hour: i64,
    per_patient_day: i64,
}

impl From<&RecognitionConfig> for AccessRules {
    fn from(c: &RecognitionConfig) -> Self {
        AccessRules {
            window_ms: i64::try_from(c.access_window.as_millis()).unwrap_or(i64::MAX),
            per_hour: i64::from(c.checks_per_user_per_hour),
            per_patient_day: i64::from(c.checks_per_patient_per_day),
        }
    }
}

impl AccessRules {
    /// The window as people say it ("24 h", "90 min").
    fn window(&self) -> String {
        match self.window_ms {
            ms if ms % HOUR_MS == 0 => format!("{} h", ms / HOUR_MS),
            ms => format!("{} min", (ms + 59_999) / 60_000),
        }
    }
}

/// What a check records: who asked about which patient and item, why, and what it returned.
pub(super) struct CheckMade<'a> {
    pub who: &'a Principal,
    pub patient_key: &'a str,
    pub item: &'a str,
    pub purpose: CheckPurpose,
    pub entries: &'a [CheckedEntry],
    pub now: i64,
}

impl Hub {
    pub(super) fn access_rules(&self) -> AccessRules {
        AccessRules::from(&self.config().recognition)
    }

    /// Refuses a check past either rate limit, saying which and when the user may check again;
    /// the refusal itself is audited (committed here) so that probing shows in the trail.
    pub(super) async fn enforce_check_limits(
        &self,
        mut tx: Box<dyn SqlTx>,
        who: &Principal,
        patient_key: &str,
        now: i64,
    ) -> Result<Box<dyn SqlTx>> {
        let rules = self.access_rules();
        let (hour, day) = (now - HOUR_MS, now - DAY_MS);
        let (all, patient) =
            access::checks_since(tx.as_mut(), who.user_id, hour, patient_key, day).await?;
        let (limit, since, key, what) = if all >= rules.per_hour {
            let what = format!(
                "{} has made {all} recognition checks in the last hour; the limit is {} per user per hour",
                who.name, rules.per_hour
            );
            ("recognition.checks_per_user_per_hour", hour, None, what)
        } else if patient >= rules.per_patient_day {
            let what = format!(
                "{} has checked this patient {patient} times in the last 24 hours; the limit is {} per patient per day",
                who.name, rules.per_patient_day
            );
            (
                "recognition.checks_per_patient_per_day",
                day,
                Some(patient_key),
                what,
            )
        } else {
            return Ok(tx);
        };
        let oldest = access::oldest_check_since(tx.as_mut(), who.user_id, since, key).await?;
        let again = oldest.map_or(now, |t| t + (now - since));
        audit::record(
            tx.as_mut(),
            who,
            "recognition_check_refused",
            0,
            patient_key,
            format!("rate limit {limit}: {what}"),
        )
        .await?;
        tx.commit().await?;
        Err(Error::ResourceExhausted(format!(
            "{what}. Check again after {} (an administrator may change {limit}); entries your \
             earlier checks returned stay open for {} after each check",
            describe_ms(again),
            rules.window()
        )))
    }

    /// Records a check and the entries it returned; returns until when they stay open.
    pub(super) async fn record_check(&self, tx: &mut dyn SqlTx, c: &CheckMade<'_>) -> Result<i64> {
        let record = CheckRecord {
            user_id: c.who.user_id,
            institution_code: c.who.institution_code.clone(),
            patient_key: c.patient_key.to_owned(),
            exam_item_code: c.item.to_owned(),
            purpose: c.purpose.as_str().to_owned(),
            at_ms: c.now,
        };
        let check_id = access::record_check(tx, &record).await?;
        let returned: Vec<Returned> = c
            .entries
            .iter()
            .map(|e| Returned {
                entry_id: e.entry.id,
                case_id: e.entry.case_id,
                may_open: e.standing.is_valid(),
            })
            .collect();
        let until = c.now.saturating_add(self.access_rules().window_ms);
        access::record_returned(tx, check_id, &returned, until).await?;
        Ok(until)
    }

    /// The check of `who`'s that opens case `case_id` to them now, if any: the case of a valid
    /// entry that check returned, within the access window.
    pub(crate) async fn recognition_opening(
        &self,
        tx: &mut dyn SqlTx,
        who: &Principal,
        case_id: i64,
    ) -> Result<Option<i64>> {
        let now = crate::clock::now_ms();
        Ok(access::check_opening_case(tx, who.user_id, case_id, now).await?)
    }

    /// The entry `who` may accept or decline: one a check of theirs returned within the window,
    /// of another institution. An entry that does not exist is refused the same way as one never
    /// returned, so that ids cannot be probed.
    pub(super) async fn entry_returned_to(
        &self,
        tx: &mut dyn SqlTx,
        who: &Principal,
        entry_id: i64,
        now: i64,
    ) -> Result<RecognitionEntry> {
        let returned = access::check_returning_entry(tx, who.user_id, entry_id, now).await?;
        let entry = match returned {
            Some(_) => store::entry_by_id(tx, entry_id).await?,
            None => None,
        };
        let Some(entry) = entry else {
            return Err(Error::FailedPrecondition(format!(
                "no recognition check of yours returned entry {entry_id} in the last {}: check the \
                 patient first (`recognition check --patient-id ... --item ... --purpose ...`), \
                 then accept or decline an entry that check lists",
                self.access_rules().window()
            )));
        };
        if entry.institution_code == who.institution_code {
            return Err(Error::FailedPrecondition(format!(
                "entry {entry_id} is {}'s own result; recognition is between institutions",
                entry.institution_code
            )));
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip_and_unknown_ones_are_named() {
        for p in CheckPurpose::ALL {
            assert_eq!(p.as_str().parse::<CheckPurpose>(), Ok(p));
        }
        let err = "curiosity".parse::<CheckPurpose>().unwrap_err();
        assert!(
            err.contains("curiosity") && err.contains("before-examining"),
            "{err}"
        );
    }

    #[test]
    fn the_window_is_said_in_hours_or_minutes() {
        let rules = |secs| {
            AccessRules::from(&RecognitionConfig {
                access_window: std::time::Duration::from_secs(secs),
                ..RecognitionConfig::default()
            })
        };
        assert_eq!(rules(24 * 3600).window(), "24 h");
        assert_eq!(rules(90 * 60).window(), "90 min");
    }
}
