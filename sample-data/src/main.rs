//! `sample-data generate --out DIR [--seed N]`: writes the synthetic sample set.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Generates remotedx's synthetic DICOM sample studies and their manifest.json.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write every sample file and manifest.json into a folder.
    Generate {
        /// The folder (created if missing). The committed set lives in sample-data/files.
        #[arg(long, default_value = "sample-data/files")]
        out: PathBuf,
        /// Seed for UIDs, accession numbers and noise; the committed set uses the default.
        #[arg(long, default_value_t = sample_data::DEFAULT_SEED)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let Cli {
        command: Command::Generate { out, seed },
    } = Cli::parse();
    match sample_data::generate(&out, seed) {
        Ok(set) => {
            let bytes: usize = set.files.iter().map(|f| f.bytes.len()).sum();
            println!(
                "wrote {} files ({} bytes) in {} studies and {} to {}",
                set.files.len(),
                bytes,
                set.manifest.studies.len(),
                sample_data::MANIFEST,
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
