//! The administrators' figures: recognitions, refusals, savings and repeats, next to the reading
//! workflow's volume, turnaround and deadline breaches. Computed from the ledger and the cases by
//! the pure [`compute`], so the totals are the ledger's own sums.

use std::collections::BTreeMap;

use super::Region;
use super::rules::Day;
use super::{ACCEPT, Error, Hub, Result};
use crate::clock::now_ms;
use crate::model::{DeclineReason, LedgerRow, Principal, Priority, RecognitionDecline, Role};
use crate::storage::recognition::{self as store, CaseTimes};

/// What the recognition figures are broken down by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupBy {
    /// The institution that recognised, declined or uploaded.
    #[default]
    Institution,
    /// The exam item.
    Item,
    /// The month ("YYYY-MM", UTC).
    Month,
    /// The modality.
    Modality,
}

impl GroupBy {
    /// Parses "institution", "item", "month" or "modality" ("" is institution).
    pub fn parse(text: &str) -> Result<GroupBy> {
        match text.trim() {
            "" | "institution" => Ok(GroupBy::Institution),
            "item" => Ok(GroupBy::Item),
            "month" => Ok(GroupBy::Month),
            "modality" => Ok(GroupBy::Modality),
            other => Err(Error::InvalidArgument(format!(
                "cannot group statistics by {other:?} (expected institution, item, month or modality)"
            ))),
        }
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Institution => "institution",
            GroupBy::Item => "item",
            GroupBy::Month => "month",
            GroupBy::Modality => "modality",
        }
    }

    fn key(self, region: &Region, row: (&str, &str, &str), at_ms: i64) -> String {
        let (institution, item, modality) = row;
        match self {
            GroupBy::Institution => institution.to_owned(),
            GroupBy::Item => item.to_owned(),
            GroupBy::Month => region.day_of(at_ms).month(),
            GroupBy::Modality => modality.to_owned(),
        }
    }
}

/// Which period and breakdown.
#[derive(Debug, Clone, Default)]
pub struct StatsQuery {
    /// First day (inclusive); the beginning when absent.
    pub from: Option<Day>,
    /// Last day (inclusive); today and before when absent.
    pub to: Option<Day>,
    /// The breakdown.
    pub by: GroupBy,
}

impl StatsQuery {
    /// The period as `[from_ms, to_ms)`, its days counted in the region's time zone.
    pub fn range_ms(&self, region: &Region) -> (i64, i64) {
        (
            self.from.map_or(0, |d| region.start_ms(d)),
            self.to.map_or(i64::MAX, |d| region.start_ms(d.plus(1))),
        )
    }
}

/// Recognition figures of a period or a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Acceptances booked.
    pub recognitions: i64,
    /// Acceptances reversed (corrections).
    pub reversals: i64,
    /// Examinations not repeated: acceptances less reversals.
    pub tests_avoided: i64,
    /// Fees not charged, in fen: the ledger's sum.
    pub saved_fen: i64,
    /// Refusals.
    pub declines: i64,
    /// Uploads flagged as possible repeats of a valid result.
    pub repeats: i64,
}

/// Savings of one institution in one month (the chart's bars).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlySaving {
    /// "YYYY-MM".
    pub month: String,
    /// The recognising institution.
    pub institution_code: String,
    /// Fen saved.
    pub saved_fen: i64,
}

/// Upload-to-final turnaround of the cases of one priority signed in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turnaround {
    /// The priority.
    pub priority: Priority,
    /// Cases signed.
    pub reported: i64,
    /// Median, milliseconds.
    pub p50_ms: i64,
    /// 90th percentile, milliseconds.
    pub p90_ms: i64,
    /// Cases of this priority received in the period that missed their deadline.
    pub deadline_breaches: i64,
}

/// A specialist's reports in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// User id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Cases whose report they wrote (once per case, however many versions).
    pub written: i64,
    /// Cases whose report they signed (once per case; an amendment signs the same case again).
    pub signed: i64,
}

/// Everything `stats` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// The breakdown used for `groups`.
    pub by: GroupBy,
    /// The period's totals.
    pub totals: Figures,
    /// Refusals per standard reason (every reason listed, zeros included).
    pub declines_by_reason: Vec<(String, i64)>,
    /// The totals broken down.
    pub groups: Vec<(String, Figures)>,
    /// Savings by month and institution.
    pub savings: Vec<MonthlySaving>,
    /// Cases uploaded in the period.
    pub cases_received: i64,
    /// Cases signed in the period.
    pub cases_reported: i64,
    /// Cases uploaded in the period that missed (or are past) their deadline.
    pub deadline_breaches: i64,
    /// Turnaround per priority.
    pub turnaround: Vec<Turnaround>,
    /// Per-specialist workload.
    pub workload: Vec<Workload>,
}

/// The rows the figures come from.
#[derive(Debug, Clone, Default)]
pub struct StatsInput {
    /// Ledger rows booked in the period.
    pub ledger: Vec<LedgerRow>,
    /// Refusals recorded in the period.
    pub declines: Vec<RecognitionDecline>,
    /// Cases uploaded or signed in the period.
    pub cases: Vec<CaseTimes>,
    /// (user id, name, cases written, cases signed) per specialist.
    pub workload: Vec<(i64, String, i64, i64)>,
}

fn add_ledger(f: &mut Figures, row: &LedgerRow) {
    if row.kind == ACCEPT {
        f.recognitions += 1;
        f.tests_avoided += 1;
    } else {
        f.reversals += 1;
        f.tests_avoided -= 1;
    }
    f.saved_fen += row.fee_fen;
}

/// The value at percentile `p` (nearest rank) of sorted values; 0 when empty.
pub fn percentile(sorted: &[i64], p: u32) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1);
    sorted[usize::try_from(rank)
        .unwrap_or(usize::MAX)
        .min(sorted.len())
        - 1]
}

/// Computes the figures of `(from_ms, to_ms)` at `now` from the rows.
pub fn compute(input: &StatsInput, q: &StatsQuery, region: &Region, now: i64) -> Stats {
    let (from, to) = q.range_ms(region);
    let within = |at: i64| at >= from && at < to;
    let mut totals = Figures::default();
    let mut groups: BTreeMap<String, Figures> = BTreeMap::new();
    let mut savings: BTreeMap<(String, String), i64> = BTreeMap::new();
    for row in input.ledger.iter().filter(|r| within(r.at_ms)) {
        add_ledger(&mut totals, row);
        let key = q.by.key(
            region,
            (&row.institution_code, &row.exam_item_code, &row.modality),
            row.at_ms,
        );
        add_ledger(groups.entry(key).or_default(), row);
        *savings
            .entry((
                region.day_of(row.at_ms).month(),
                row.institution_code.clone(),
            ))
            .or_default() += row.fee_fen;
    }
    let mut by_reason: BTreeMap<String, i64> = DeclineReason::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), 0))
        .collect();
    for d in input.declines.iter().filter(|d| within(d.at_ms)) {
        totals.declines += 1;
        *by_reason.entry(d.reason.clone()).or_default() += 1;
        let key = q.by.key(
            region,
            (&d.institution_code, &d.exam_item_code, &d.modality),
            d.at_ms,
        );
        groups.entry(key).or_default().declines += 1;
    }
    let received: Vec<&CaseTimes> = input
        .cases
        .iter()
        .filter(|c| within(c.created_at_ms))
        .collect();
    for c in received.iter().filter(|c| c.possible_repeat) {
        totals.repeats += 1;
        let key = q.by.key(
            region,
            (&c.institution_code, &c.exam_item_code, &c.modality),
            c.created_at_ms,
        );
        groups.entry(key).or_default().repeats += 1;
    }
    let breached = |c: &CaseTimes| {
        c.deadline_at_ms > 0
            && if c.signed_at_ms > 0 {
                c.signed_at_ms > c.deadline_at_ms
            } else {
                now > c.deadline_at_ms
            }
    };
    let turnaround = Priority::ALL
        .iter()
        .rev()
        .map(|&p| {
            let mut times: Vec<i64> = input
                .cases
                .iter()
                .filter(|c| c.priority == p.rank() && c.signed_at_ms > 0 && within(c.signed_at_ms))
                .map(|c| c.signed_at_ms - c.created_at_ms)
                .collect();
            times.sort_unstable();
            Turnaround {
                priority: p,
                reported: times.len() as i64,
                p50_ms: percentile(&times, 50),
                p90_ms: percentile(&times, 90),
                deadline_breaches: received
                    .iter()
                    .filter(|c| c.priority == p.rank() && breached(c))
                    .count() as i64,
            }
        })
        .collect::<Vec<_>>();
    Stats {
        by: q.by,
        totals,
        declines_by_reason: by_reason.into_iter().collect(),
        groups: groups.into_iter().collect(),
        savings: savings
            .into_iter()
            .map(|((month, institution_code), saved_fen)| MonthlySaving {
                month,
                institution_code,
                saved_fen,
            })
            .collect(),
        cases_received: received.len() as i64,
        cases_reported: input
            .cases
            .iter()
            .filter(|c| c.signed_at_ms > 0 && within(c.signed_at_ms))
            .count() as i64,
        deadline_breaches: turnaround.iter().map(|t| t.deadline_breaches).sum(),
        turnaround,
        workload: input
            .workload
            .iter()
            .map(|(user_id, name, written, signed)| Workload {
                user_id: *user_id,
                name: name.clone(),
                written: *written,
                signed: *signed,
            })
            .collect(),
    }
}

impl Hub {
    /// The administrators' statistics of a period.
    pub async fn stats(&self, who: &Principal, q: &StatsQuery) -> Result<Stats> {
        who.require(&[Role::Admin], "reading statistics")?;
        if let (Some(from), Some(to)) = (q.from, q.to)
            && to < from
        {
            return Err(Error::InvalidArgument(format!(
                "--to {to} is before --from {from}"
            )));
        }
        let (from, to) = q.range_ms(self.region());
        let mut tx = self.store().scan().await?;
        let input = StatsInput {
            ledger: store::ledger_between(tx.as_mut(), from, to).await?,
            declines: store::declines_between(tx.as_mut(), from, to).await?,
            cases: store::case_times(tx.as_mut(), from, to).await?,
            workload: store::workload(tx.as_mut(), from, to).await?,
        };
        Ok(compute(&input, q, self.region(), now_ms()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn shanghai() -> Region {
        Region::new("Asia/Shanghai").unwrap()
    }

    fn at(day: &str) -> i64 {
        Day::parse(day).unwrap().start_ms() + 3_600_000
    }

    fn accept(id: i64, inst: &str, item: &str, fen: i64, day: &str) -> LedgerRow {
        LedgerRow {
            id,
            entry_id: id,
            kind: ACCEPT.into(),
            institution_code: inst.into(),
            exam_item_code: item.into(),
            modality: item[..2].into(),
            fee_fen: fen,
            at_ms: at(day),
            ..LedgerRow::default()
        }
    }

    #[test]
    fn one_in_the_morning_on_the_first_counts_to_the_new_month_in_the_region() {
        // 01:00 on 1 December in Shanghai is 17:00 UTC on 30 November.
        let mut row = accept(1, "TS-B", "CT-HEAD", 15_000, "2026-12-01");
        row.at_ms = "2026-12-01T01:00:00+08:00"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        let input = StatsInput {
            ledger: vec![row],
            ..StatsInput::default()
        };
        let month = |first: &str, last: &str| StatsQuery {
            from: Some(Day::parse(first).unwrap()),
            to: Some(Day::parse(last).unwrap()),
            by: GroupBy::Month,
        };
        let december = compute(&input, &month("2026-12-01", "2026-12-31"), &shanghai(), 0);
        assert_eq!(december.totals.recognitions, 1);
        assert_eq!(december.groups[0].0, "2026-12");
        assert_eq!(december.savings[0].month, "2026-12");
        let november = compute(&input, &month("2026-11-01", "2026-11-30"), &shanghai(), 0);
        assert_eq!(november.totals.recognitions, 0);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!((percentile(&v, 50), percentile(&v, 90)), (5, 9));
        assert_eq!(percentile(&[7], 90), 7);
        assert_eq!(percentile(&[], 50), 0);
    }

    #[test]
    fn savings_are_the_ledger_sums_with_reversals() {
        let mut reversal = accept(3, "TS-B", "CT-HEAD", -15_000, "2026-11-03");
        reversal.kind = "reversal".into();
        let input = StatsInput {
            ledger: vec![
                accept(1, "TS-B", "CT-HEAD", 15_000, "2026-10-30"),
                accept(2, "CTY", "DR-CHEST", 6_000, "2026-11-02"),
                reversal,
                accept(4, "TS-B", "CT-HEAD", 13_000, "2026-12-01"),
            ],
            declines: vec![RecognitionDecline {
                institution_code: "CTY".into(),
                exam_item_code: "CT-HEAD".into(),
                reason: "emergency".into(),
                at_ms: at("2026-11-05"),
                ..RecognitionDecline::default()
            }],
            ..StatsInput::default()
        };
        let q = StatsQuery {
            from: Some(Day::parse("2026-11-01").unwrap()),
            to: Some(Day::parse("2026-11-30").unwrap()),
            by: GroupBy::Institution,
        };
        let s = compute(&input, &q, &shanghai(), at("2026-12-02"));
        assert_eq!(
            s.totals,
            Figures {
                recognitions: 1,
                reversals: 1,
                tests_avoided: 0,
                saved_fen: -9_000,
                declines: 1,
                repeats: 0
            }
        );
        assert_eq!(s.groups.len(), 2);
        assert_eq!(s.groups[0].0, "CTY");
        assert_eq!(
            (s.groups[0].1.saved_fen, s.groups[0].1.declines),
            (6_000, 1)
        );
        assert_eq!(s.groups[1].1.saved_fen, -15_000);
        assert!(s.declines_by_reason.contains(&("emergency".into(), 1)));
        assert_eq!(s.declines_by_reason.len(), DeclineReason::ALL.len());
        let all = compute(
            &input,
            &StatsQuery {
                by: GroupBy::Month,
                ..q.clone()
            },
            &shanghai(),
            0,
        );
        assert_eq!(
            all.groups.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(),
            ["2026-11"]
        );
        let everything = compute(&input, &StatsQuery::default(), &shanghai(), 0);
        assert_eq!(
            everything.totals.saved_fen,
            15_000 + 6_000 - 15_000 + 13_000
        );
        assert_eq!(
            everything.savings.len(),
            4,
            "October TS-B, November CTY and TS-B, December TS-B: {:?}",
            everything.savings
        );
    }

    #[test]
    fn turnaround_and_breaches_per_priority() {
        let case = |priority: i64, created: i64, signed: i64, deadline: i64| CaseTimes {
            priority,
            created_at_ms: created,
            signed_at_ms: signed,
            deadline_at_ms: deadline,
            ..CaseTimes::default()
        };
        let t0 = at("2026-11-10");
        let input = StatsInput {
            cases: vec![
                case(3, t0, t0 + 10 * 60_000, t0 + 30 * 60_000),
                case(3, t0, t0 + 40 * 60_000, t0 + 30 * 60_000),
                case(1, t0, 0, t0 + DAY),
                case(1, t0, t0 + 2 * DAY, t0 + DAY),
            ],
            ..StatsInput::default()
        };
        let s = compute(&input, &StatsQuery::default(), &shanghai(), t0 + 3 * DAY);
        assert_eq!(
            (s.cases_received, s.cases_reported, s.deadline_breaches),
            (4, 3, 3)
        );
        let stat = &s.turnaround[0];
        assert_eq!(stat.priority, Priority::Stat);
        assert_eq!(
            (
                stat.reported,
                stat.p50_ms,
                stat.p90_ms,
                stat.deadline_breaches
            ),
            (2, 600_000, 2_400_000, 1)
        );
        let routine = s
            .turnaround
            .iter()
            .find(|t| t.priority == Priority::Routine)
            .unwrap();
        assert_eq!((routine.reported, routine.deadline_breaches), (1, 2));
    }
}
