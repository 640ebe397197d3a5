//! Scores the ECG analysis against reference-annotated records and prints a Markdown table.
//!
//! `ecg-eval qrs DIR [--bar PERCENT] [--count-vf]`: QRS detection, bxb-style, on every WFDB
//! record under DIR with a `.atr` reference (see `worker_ecg::eval`). Exit status 0 when the
//! gross Se and +P over all records both reach the bar, 1 when either is below it, 2 when the
//! records cannot be read.
//!
//! `ecg-eval beats DIR [--bar PERCENT]`: beat classification, EC57 VEB and SVEB statistics
//! (see `worker_ecg::eval_beats`); exit status 1 when the gross VEB Se or +P is below the bar.
//!
//! `ecg-eval delineation DIR [--sd-scale FACTOR] [--max-mean-ms MS]`: P on/off, QRS on/off and
//! T off against the cardiologists' marks on every LUDB and QT Database record under DIR (see
//! `worker_ecg::eval_delineation`). Exit status 1 when a boundary's SD is above its CSE
//! tolerance (times FACTOR) or its |mean| error above MS, 2 when no record can be read.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use worker_ecg::eval::{Options, evaluate_dir, gross, gross_unpaced, table};

/// Scores remotedx's ECG analysis against reference annotations (ANSI/AAMI EC57 conventions).
#[derive(Debug, Parser)]
#[command(name = "ecg-eval", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// QRS detection: Se and +P per record and gross (150 ms window, from minute 5).
    Qrs {
        /// Directory searched (recursively) for WFDB records with a `.atr` reference file,
        /// e.g. ../shared/corpus/ecg-annotated/mitdb.
        dir: PathBuf,
        /// Exit with status 1 when the gross Se or +P (all records) is below this percentage.
        #[arg(long, default_value_t = 99.5, value_name = "PERCENT")]
        bar: f64,
        /// Count detections inside ventricular flutter/fibrillation episodes (where the
        /// reference marks no beats) as false positives.
        #[arg(long)]
        count_vf: bool,
    },
    /// Ectopic beats: EC57 VEB and SVEB Se, +P and FPR per record and gross (paced records
    /// left out), beats matched as `qrs` matches them.
    Beats {
        /// Directory searched (recursively) for WFDB records with a `.atr` reference file,
        /// e.g. ../shared/corpus/ecg-annotated/mitdb.
        dir: PathBuf,
        /// Exit with status 1 when the gross VEB Se or +P is below this percentage.
        #[arg(long, default_value_t = 90.0, value_name = "PERCENT")]
        bar: f64,
    },
    /// Wave delineation: P on/off, QRS on/off and T off against the cardiologists' marks
    /// (LUDB per-lead files, QT Database `.q1c`/`.q2c`): Se, +P, mean ± SD of the error.
    Delineation(DelineationArgs),
}

/// `ecg-eval delineation`'s arguments.
#[derive(Debug, clap::Args)]
struct DelineationArgs {
    /// Directory searched (recursively) for WFDB records with LUDB per-lead boundary files
    /// (`.i` … `.v6`) or a QT Database `.q1c`, e.g. ../shared/corpus/ecg-annotated.
    dir: PathBuf,
    /// Tolerances the SDs are held to (`cse`: P on 10.2, P off 12.7, QRS on 6.5, QRS off
    /// 11.6, T off 30.6 ms).
    #[arg(long, value_enum, default_value_t = Tolerance::Cse)]
    tolerance: Tolerance,
    /// Multiplies every SD tolerance (1 = the goal; CI holds a ratchet above it).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    sd_scale: f64,
    /// Largest |mean error| allowed per boundary, ms.
    #[arg(long, default_value_t = 5.0, value_name = "MS")]
    max_mean_ms: f64,
    /// Also print one row per record (mean ± SD of the error and TP/FN/FP per boundary).
    #[arg(long)]
    per_record: bool,
}

/// Tolerance sets for `ecg-eval delineation`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Tolerance {
    /// The CSE working party's (Common Standards for Quantitative Electrocardiography).
    Cse,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Qrs { dir, bar, count_vf } => qrs(&dir, bar, Options { count_vf }),
        Command::Beats { dir, bar } => beats(&dir, bar),
        Command::Delineation(args) => delineation(&args),
    }
}

fn qrs(dir: &std::path::Path, bar: f64, opts: Options) -> ExitCode {
    let results = match evaluate_dir(dir, opts) {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => {
            eprintln!(
                "ecg-eval: no WFDB record with a .atr file under {}",
                dir.display()
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("ecg-eval: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", table(&results));
    let (g, u) = (gross(&results), gross_unpaced(&results));
    println!(
        "\ngross Se {:.2} % / +P {:.2} %; without paced records Se {:.2} % / +P {:.2} %",
        g.se(),
        g.ppv(),
        u.se(),
        u.ppv()
    );
    if g.se() < bar || g.ppv() < bar {
        eprintln!(
            "ecg-eval: gross Se {:.2} % / +P {:.2} % below the {bar} % bar",
            g.se(),
            g.ppv()
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn beats(dir: &std::path::Path, bar: f64) -> ExitCode {
    use worker_ecg::eval_beats;
    let results = match eval_beats::evaluate_dir(dir) {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => {
            eprintln!(
                "ecg-eval: no WFDB record with a .atr file under {}",
                dir.display()
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("ecg-eval: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", eval_beats::table(&results));
    let (v, s) = eval_beats::gross(&results);
    let show = |x: Option<f64>| x.map_or("—".to_string(), |x| format!("{x:.2} %"));
    println!(
        "\ngross VEB Se {} / +P {}; SVEB Se {} / +P {} (paced records left out)",
        show(v.se()),
        show(v.ppv()),
        show(s.se()),
        show(s.ppv())
    );
    let (se, ppv) = (v.se().unwrap_or(0.0), v.ppv().unwrap_or(0.0));
    if se < bar || ppv < bar {
        eprintln!("ecg-eval: gross VEB Se {se:.2} % / +P {ppv:.2} % below the {bar} % bar");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn delineation(args: &DelineationArgs) -> ExitCode {
    use worker_ecg::eval_delineation::{Bar, evaluate_dir, misses, record_table, summarise, table};
    let Tolerance::Cse = args.tolerance;
    let bar = Bar {
        sd_scale: args.sd_scale,
        max_mean_ms: args.max_mean_ms,
    };
    let results = match evaluate_dir(&args.dir) {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => {
            eprintln!(
                "ecg-eval: no WFDB record with LUDB per-lead boundary files or a .q1c under {}",
                args.dir.display()
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("ecg-eval: {e}");
            return ExitCode::from(2);
        }
    };
    let summary = summarise(&results);
    print!("{}", table(&summary, &results, &bar));
    if args.per_record {
        print!("\n{}", record_table(&results));
    }
    let missed = misses(&summary, &bar);
    if missed.is_empty() {
        return ExitCode::SUCCESS;
    }
    for m in &missed {
        eprintln!("ecg-eval: {m}");
    }
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
