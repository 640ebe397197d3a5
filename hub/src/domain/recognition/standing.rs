//! Where an entry stands for the institution checking it: recognisable, or the reason it is not.
//!
//! A check shows every entry of the item for the patient, so a doctor never reads "no result"
//! when there is one that cannot be used: it is listed with the reason (expired on a date, no
//! quality-control pass, outside the catalogue, the doctor's own institution's result, declined).

use std::fmt;

use super::rules::Ineligible;
use crate::model::{RecognitionDecision, RecognitionEntry};

/// Where an entry stands for one institution at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Valid: it may be recognised instead of examining again.
    Recognisable,
    /// Valid, and this institution accepted it (its ledger row).
    Accepted {
        /// The acceptance's ledger row.
        ledger_id: i64,
    },
    /// Its validity window has ended.
    Expired {
        /// The last valid day, YYYY-MM-DD.
        valid_until: String,
    },
    /// It can never be recognised (catalogue dates, quality control).
    Ineligible(Ineligible),
    /// The checking institution performed it: recognition is between institutions.
    OwnResult,
    /// This institution declined it; an entry is accepted or declined, not both.
    Declined {
        /// The refusal.
        decline_id: i64,
    },
}

impl Standing {
    /// The standing of `entry` for `institution` at `now_ms`, given that institution's decision.
    /// A reason that holds for everyone comes before one that holds for this institution.
    pub fn of(
        entry: &RecognitionEntry,
        institution: &str,
        decision: Option<&RecognitionDecision>,
        now_ms: i64,
    ) -> Standing {
        if !entry.recognisable {
            let why = Ineligible::parse(&entry.reason_code).unwrap_or(Ineligible::NoQcPass);
            return Standing::Ineligible(why);
        }
        if entry.institution_code == institution {
            return Standing::OwnResult;
        }
        if now_ms >= entry.valid_until_ms {
            return Standing::Expired {
                valid_until: entry.valid_until.clone(),
            };
        }
        match decision {
            Some(RecognitionDecision {
                ledger_id: Some(ledger_id),
                ..
            }) => Standing::Accepted {
                ledger_id: *ledger_id,
            },
            Some(RecognitionDecision {
                decline_id: Some(decline_id),
                ..
            }) => Standing::Declined {
                decline_id: *decline_id,
            },
            _ => Standing::Recognisable,
        }
    }

    /// Whether the result may stand in for a new examination (recognisable or accepted).
    pub fn is_valid(&self) -> bool {
        matches!(self, Standing::Recognisable | Standing::Accepted { .. })
    }

    /// Why it cannot be recognised, as a sentence; empty when it can. `entry` gives the stored
    /// sentence of an ineligible result.
    pub fn reason(&self, entry: &RecognitionEntry) -> String {
        match self {
            Standing::Recognisable | Standing::Accepted { .. } => String::new(),
            Standing::Ineligible(_) => entry.reason.clone(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Standing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Standing::Recognisable => f.write_str("recognisable"),
            Standing::Accepted { ledger_id } => write!(f, "accepted (ledger row {ledger_id})"),
            Standing::Expired { valid_until } => {
                write!(f, "expired: valid until {valid_until}")
            }
            Standing::Ineligible(Ineligible::NoQcPass) => f.write_str("no quality-control pass"),
            Standing::Ineligible(Ineligible::OutsideCatalogue) => {
                f.write_str("outside the recognition catalogue")
            }
            Standing::OwnResult => {
                f.write_str("your institution's own result: recognition is between institutions")
            }
            Standing::Declined { decline_id } => {
                write!(f, "declined by your institution (refusal {decline_id})")
            }
        }
    }
}

/// Valid entries first, each group in its existing order (newest examination first).
pub fn valid_first<T>(entries: &mut [T], standing: impl Fn(&T) -> &Standing) {
    entries.sort_by_key(|e| !standing(e).is_valid());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> RecognitionEntry {
        RecognitionEntry {
            id: 1,
            institution_code: "TS-A".into(),
            valid_until: "2026-12-31".into(),
            valid_until_ms: 1_000,
            recognisable: true,
            ..RecognitionEntry::default()
        }
    }

    fn decision(ledger: Option<i64>, decline: Option<i64>) -> RecognitionDecision {
        RecognitionDecision {
            entry_id: 1,
            institution_code: "TS-B".into(),
            ledger_id: ledger,
            decline_id: decline,
            ..RecognitionDecision::default()
        }
    }

    #[test]
    fn every_reason_is_told_apart() {
        let e = entry();
        assert_eq!(Standing::of(&e, "TS-B", None, 999), Standing::Recognisable);
        assert_eq!(
            Standing::of(&e, "TS-B", None, 1_000),
            Standing::Expired {
                valid_until: "2026-12-31".into()
            }
        );
        assert_eq!(Standing::of(&e, "TS-A", None, 0), Standing::OwnResult);
        let accepted = decision(Some(7), None);
        assert_eq!(
            Standing::of(&e, "TS-B", Some(&accepted), 0),
            Standing::Accepted { ledger_id: 7 }
        );
        let declined = decision(None, Some(3));
        let s = Standing::of(&e, "TS-B", Some(&declined), 0);
        assert_eq!(s, Standing::Declined { decline_id: 3 });
        assert!(!s.is_valid() && s.reason(&e).contains("refusal 3"));
        let no_qc = RecognitionEntry {
            recognisable: false,
            reason_code: "no-qc-pass".into(),
            reason: "TS-A held no passed quality-control status".into(),
            ..entry()
        };
        let s = Standing::of(&no_qc, "TS-B", None, 0);
        assert_eq!(s, Standing::Ineligible(Ineligible::NoQcPass));
        assert_eq!(s.reason(&no_qc), no_qc.reason);
    }

    #[test]
    fn an_expired_acceptance_is_not_offered_as_valid() {
        let s = Standing::of(&entry(), "TS-B", Some(&decision(Some(7), None)), 5_000);
        assert!(matches!(s, Standing::Expired { .. }), "{s:?}");
        assert!(s.reason(&entry()).contains("2026-12-31"));
    }

    #[test]
    fn valid_entries_come_first_in_their_order() {
        let mut list = vec![
            (1, Standing::OwnResult),
            (2, Standing::Recognisable),
            (
                3,
                Standing::Expired {
                    valid_until: String::new(),
                },
            ),
            (4, Standing::Accepted { ledger_id: 1 }),
        ];
        valid_first(&mut list, |e| &e.1);
        let order: Vec<i32> = list.iter().map(|e| e.0).collect();
        assert_eq!(order, [2, 4, 1, 3]);
    }
}
