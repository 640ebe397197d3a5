//! One module per command group. Each command connects, calls the hub, and prints a table or
//! JSON; it returns the exit code for outcomes that are not errors (e.g. partial uploads).
//!
//! - [`account`] - `whoami`.
//! - [`upload`] - `upload`.
//! - [`cases`] - `cases`, `get`.
//! - [`show`] - `show` (and downloading a case's artifacts and renders).
//! - [`queue`] - `queue`, `claim`, `renew`, `release`.
//! - [`reports`] - `report`, `sign`, `amend`, `reports`; [`follow`] - `reports --follow`.
//! - [`admin`] - `audit`.
//! - [`recognition`] - `recognition check|accept|decline|reverse`.
//! - [`stats`] - `stats` (and its chart).
//! - [`mixup`] - `mixup list|resolve` (possible patient mix-ups).

pub mod account;
pub mod admin;
pub mod cases;
pub mod follow;
pub mod mixup;
pub mod queue;
pub mod recognition;
pub mod reports;
pub mod show;
pub mod stats;
pub mod upload;

use crate::cli::{Command, GlobalArgs};
use crate::client::Hub;
use crate::error::CliError;
use crate::output::Output;

/// Runs `command`; Ok holds the exit code.
pub async fn dispatch(global: &GlobalArgs, out: &Output, command: Command) -> Result<u8, CliError> {
    if let Command::Upload(args) = command {
        // The walk comes first: a wrong path is reported before any connection is made.
        return upload::run(global, out, args).await;
    }
    let hub = connect(global).await?;
    match command {
        Command::Whoami => account::whoami(&hub, out).await,
        Command::Upload(_) => unreachable!("handled above"),
        Command::Cases(a) => cases::list(&hub, out, a).await,
        Command::Show(a) => cases::show(&hub, out, a).await,
        Command::Get(a) => cases::get(&hub, out, a).await,
        Command::Queue(a) => queue::queue(&hub, out, a).await,
        Command::Claim(a) => queue::claim(&hub, out, a).await,
        Command::Renew(a) => queue::renew(&hub, out, a.case).await,
        Command::Release(a) => queue::release(&hub, out, a.case).await,
        Command::Report(a) => reports::file(&hub, out, a).await,
        Command::Sign(a) => reports::sign(&hub, out, a).await,
        Command::Amend(a) => reports::amend(&hub, out, a).await,
        Command::Reports(a) => reports::list(&hub, out, a).await,
        Command::Audit(a) => admin::audit(&hub, out, a).await,
        Command::Recognition(c) => recognition::run(&hub, out, c).await,
        Command::Stats(a) => stats::run(&hub, out, a).await,
        Command::Mixup(c) => mixup::run(&hub, out, c).await,
    }
}

/// Connects with the global options.
pub async fn connect(global: &GlobalArgs) -> Result<Hub, CliError> {
    let security = crate::client::Security {
        ca_file: global.ca_file.clone(),
        allow_plaintext: global.insecure_plaintext,
    };
    Hub::connect_secured(&global.hub, global.token.as_deref(), &security).await
}

/// "张* M 68y": the masked patient with sex and age.
pub fn patient_line(c: &remotedx_proto::v1::CaseSummary) -> String {
    let mut s = c.patient_display.clone();
    if !c.patient_sex.is_empty() {
        s.push(' ');
        s.push_str(&c.patient_sex);
    }
    if c.patient_age_years >= 0 {
        s.push_str(&format!(" {}y", c.patient_age_years));
    }
    s
}

/// Refuses a mistyped resident ID card number before anything is sent, saying what is wrong
/// (length, a character, the birth date, the check digit); `type_flag` names the option that
/// says the number is of another kind. The hub checks again for every other client.
pub fn check_id_card(id: &str, type_flag: &str) -> Result<(), CliError> {
    patient_id::IdCard::parse(id, patient_id::Ymd::today_china())
        .map(|_| ())
        .map_err(|e| {
            CliError::Usage(format!(
                "--patient-id: {e} (for another kind of number, give {type_flag})"
            ))
        })
}
