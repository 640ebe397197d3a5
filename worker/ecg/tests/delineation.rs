//! The hub's wave delineation scored against the cardiologists' boundaries on the development
//! records of LUDB (records 1–100, per-lead files) and the QT Database (21 records, `.q1c`,
//! `.q2c`), as `ecg-eval delineation` prints it; the bars are what is reached today, so that a
//! regression fails (the goal, the CSE tolerances and |mean| ≤ 5 ms, is printed beside them).

mod common;

use std::path::PathBuf;
use std::process::Command;

use worker_ecg::eval_delineation::run::INTERVAL_NAMES;
use worker_ecg::eval_delineation::{
    Bar, Boundary, Pooled, Stats, evaluate_dir, misses, summarise, table,
};

fn annotated() -> PathBuf {
    let dir = common::corpus().join("ecg-annotated");
    for db in ["ludb", "qtdb"] {
        assert!(
            dir.join(db).is_dir(),
            "{} is missing",
            dir.join(db).display()
        );
    }
    dir
}

/// Per boundary (as [`Boundary::ALL`]): the lowest Se and +P (%), the largest |mean| and SD
/// (ms) allowed, a little beyond what is reached today.
struct Reached {
    se: [f64; 5],
    ppv: [f64; 5],
    mean: [f64; 5],
    sd: [f64; 5],
}

fn check(what: &str, p: &Pooled, bar: &Reached) -> Vec<String> {
    let mut out = Vec::new();
    for (i, b) in Boundary::ALL.into_iter().enumerate() {
        let s: &Stats = p.ours.get(b);
        if s.se() < bar.se[i] || s.ppv() < bar.ppv[i] {
            out.push(format!(
                "{what} {}: Se {:.1} % +P {:.1} % below {} / {}",
                b.name(),
                s.se(),
                s.ppv(),
                bar.se[i],
                bar.ppv[i]
            ));
        }
        if s.mean_ms().abs() > bar.mean[i] || s.sd_ms() > bar.sd[i] {
            out.push(format!(
                "{what} {}: {:+.1} ± {:.1} ms beyond ±{} / {}",
                b.name(),
                s.mean_ms(),
                s.sd_ms(),
                bar.mean[i],
                bar.sd[i]
            ));
        }
    }
    out
}

/// LUDB records 1–100 (reached: Se 94.8 / 94.8 / 99.1 / 99.1 / 99.0 %, +P 82.2 / 82.2 /
/// 99.9 / 100 / 89.4 %, error +10.2 ± 10.4, −2.4 ± 10.9, +2.7 ± 15.8, +3.0 ± 15.7,
/// −6.3 ± 25.3 ms; the QRS offset was −6.8 ± 12.8 ms at a 5 % quiet level, see
/// `measure::QRS_OFF_QUIET`). +P of the P wave and T end: LUDB leaves the first and last waves of a record
/// unmarked where we find them, and marks no P wave in AF.
const LUDB: Reached = Reached {
    se: [94.0, 94.0, 99.0, 99.0, 98.5],
    ppv: [80.0, 80.0, 99.5, 99.5, 88.0],
    mean: [11.5, 4.0, 4.0, 4.5, 7.5],
    sd: [11.5, 12.0, 17.0, 16.5, 27.0],
};

/// QT Database, 21 records against `.q1c` (reached: Se 91.7 / 91.7 / 100 / 100 / 100 %, +P
/// 100 %, error +4.7 ± 16.7, +3.5 ± 15.3, +2.2 ± 17.8, +16.3 ± 31.8, −12.0 ± 40.7 ms; the
/// second cardiologist differs from the first by +3.7 ± 14.8, +1.3 ± 19.7, −6.6 ± 34.0 ms on
/// QRS on, QRS off and T off). The QRS offset is 10 ms later than at the 5 % quiet level
/// (+6.3 ± 33.4 ms): the `.q1c` marks follow one lead, LUDB's global offset the latest lead.
const QTDB: Reached = Reached {
    se: [91.0, 91.0, 99.5, 99.5, 99.5],
    ppv: [99.5; 5],
    mean: [6.0, 5.0, 3.5, 17.5, 13.5],
    sd: [18.0, 17.0, 19.0, 33.0, 42.0],
};

/// LUDB records whose PR, QRS and QT are all within ±10 / ±10 / ±25 ms of the cardiologists'
/// (reached 41.2 %; 28.2 % before the QRS offset's quiet level went from 5 to 3 %; the goal is
/// 90 %), and per interval (reached 76.5, 46.0, 78.0 %).
const INTERVALS_ALL_PCT: f64 = 40.0;
const INTERVAL_PCT: [f64; 3] = [75.0, 45.0, 76.0];

#[test]
fn development_records_reach_the_bars() {
    let results = evaluate_dir(&annotated()).unwrap();
    let s = summarise(&results);
    println!("{}", table(&s, &results, &Bar::cse()));
    assert!(results.iter().all(Result::is_ok), "every record is scored");
    assert_eq!(s.ludb.records, 100, "LUDB records 1–100");
    assert_eq!(s.qtdb.records, 21, "21 QT Database records");
    assert!(s.qtdb_two_ours.records >= 6, "records with a .q2c");
    assert!(
        s.ludb.ours.get(Boundary::QrsOn).tp > 850,
        "too few LUDB beats matched"
    );
    let mut bad = check("LUDB", &s.ludb, &LUDB);
    bad.extend(check("QTDB", &s.qtdb, &QTDB));
    for (i, (name, bar)) in INTERVAL_NAMES.iter().zip(INTERVAL_PCT).enumerate() {
        if s.interval_pct(i) < bar {
            bad.push(format!(
                "{name} within tolerance on {:.1} % of records, below {bar} %",
                s.interval_pct(i)
            ));
        }
    }
    let (n, k) = s.intervals_all;
    let all = 100.0 * k as f64 / n.max(1) as f64;
    if all < INTERVALS_ALL_PCT {
        bad.push(format!(
            "PR, QRS and QT all within tolerance on {all:.1} % of records"
        ));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The goal is printed, not yet met everywhere.
    println!("still beyond the CSE goal: {:?}", misses(&s, &Bar::cse()));
}

/// `ecg-eval delineation` prints the table and exits 1 below the bar, 0 at a bar it meets.
#[test]
fn ecg_eval_delineation_exits_by_the_bar() {
    let dir = annotated().join("ludb");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ecg-eval"))
            .arg("delineation")
            .arg(&dir)
            .args(args)
            .output()
            .unwrap()
    };
    let strict = run(&["--sd-scale", "0.01", "--max-mean-ms", "0"]);
    let out = String::from_utf8_lossy(&strict.stdout);
    assert!(out.contains("| LUDB (100 records) | QRS on |"), "{out}");
    assert_eq!(strict.status.code(), Some(1), "{out}");
    let loose = run(&["--sd-scale", "100", "--max-mean-ms", "1000"]);
    assert_eq!(loose.status.code(), Some(0));
    let none = Command::new(env!("CARGO_BIN_EXE_ecg-eval"))
        .args(["delineation", env!("CARGO_MANIFEST_DIR")])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
}
