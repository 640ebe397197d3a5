//! Scores the ECG analysis against reference-annotated records and prints a Markdown table.
//!
//! `ecg-eval qrs DIR [--bar PERCENT] [--count-vf]`: QRS detection, bxb-style, on every WFDB
//! record under DIR with a `.atr` reference (see `worker_ecg::eval`). Exit status 0 when the
//! gross Se and +P over all records both reach the bar, 1 when either is below it, 2 when the
//! records cannot be read.
//!
//! `ecg-eval beats DIR [--bar PERCENT]`: beat classification, EC57 VEB and SVEB statistics
//! (see `worker_ecg::eval_beats`); exit status 1 when the gross VEB Se or +P is below the bar.

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
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Qrs { dir, bar, count_vf } => qrs(&dir, bar, Options { count_vf }),
        Command::Beats { dir, bar } => beats(&dir, bar),
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
