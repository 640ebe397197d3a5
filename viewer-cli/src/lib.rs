//! `viewer-cli`: the remotedx command line for the three audiences, a tonic client of the
//! `remotedx.v1` contract.
//!
//! Township clinics `upload` studies and read `reports`; county specialists work the `queue`
//! (`claim`, `show`, `report`, `sign`, `amend`); administrators read the `audit` trail. Every
//! command prints a table, or JSON with `--json`; exit codes are listed in [`cli::EXIT_CODES`].
//!
//! Modules:
//! - [`cli`]: the clap definitions (global options flattened into every command).
//! - [`client`]: the connection, the bearer-token interceptor, one client per service.
//! - [`error`]: errors, exit codes and hints.
//! - [`commands`]: one module per command group.
//! - [`upload`]: the directory walk and the streaming upload session.
//! - [`download`]: saving streamed files.
//! - [`output`]: tables, human times, colours and the JSON shapes.
//! - [`since`]: `--since` parsing.

pub mod cli;
pub mod client;
pub mod commands;
pub mod download;
pub mod error;
pub mod output;
pub mod since;
pub mod upload;

use cli::Cli;
use error::CliError;
use output::Output;

/// Runs a parsed command line and returns the process exit code. Errors are printed on stderr
/// (as `{"error": ...}` with `--json`), with a hint where one helps.
pub async fn run(cli: Cli) -> u8 {
    let out = Output::new(cli.global.json, cli.global.no_color);
    match commands::dispatch(&cli.global, &out, cli.command).await {
        Ok(code) => code,
        Err(e) => report(&out, &e),
    }
}

fn report(out: &Output, e: &CliError) -> u8 {
    let code = e.exit_code();
    if code == error::EXIT_OK {
        // A closed pipe (`viewer-cli queue | head`): the reader has what it wanted.
        return code;
    }
    if out.json {
        let text = serde_json::to_string(&e.to_json()).expect("error JSON serialises");
        eprintln!("{}", output::terminal::escape_json(text));
    } else {
        // The hub's messages can quote what a clinic sent (a file name, a UID).
        let clean = |text: String| output::terminal::clean(&text, false).into_owned();
        let label = output::Style::Alarm.paint("error:", out.color);
        eprintln!("{label} {}", clean(e.to_string()));
        if let Some(hint) = e.hint() {
            eprintln!("hint: {}", clean(hint));
        }
    }
    code
}
