//! `mixup list` and `mixup resolve`: cases held because their content (an image's pixels, an
//! ECG's samples) is already on file under a different patient.

use remotedx_proto::v1 as pb;
use serde::Serialize;

use crate::cli::{MixupCommand, MixupListArgs, MixupResolveArgs};
use crate::client::Hub;
use crate::error::{CliError, EXIT_OK};
use crate::output::json::CaseJson;
use crate::output::table::{Cell, Table};
use crate::output::{Output, Style, text, time};

/// Runs a `mixup` subcommand.
pub async fn run(hub: &Hub, out: &Output, c: MixupCommand) -> Result<u8, CliError> {
    match c {
        MixupCommand::List(a) => list(hub, out, a).await,
        MixupCommand::Resolve(a) => resolve(hub, out, a).await,
    }
}

/// One side of a mix-up, as JSON.
#[derive(Debug, Serialize)]
pub struct SideJson {
    /// Case id.
    pub case_id: i64,
    /// Institution code.
    pub institution_code: String,
    /// Masked patient display.
    pub patient_display: String,
    /// Masked patient identifier.
    pub patient_id_masked: String,
    /// The patient's pseudonym (administrators only; empty otherwise).
    pub patient_key: String,
    /// The instance holding the shared content.
    pub sop_instance_uid: String,
    /// The case's state.
    pub state: &'static str,
    /// Modality.
    pub modality: String,
    /// Study date (YYYYMMDD).
    pub study_date: String,
}

/// A mix-up, as JSON.
#[derive(Debug, Serialize)]
pub struct MixupJson {
    /// Mix-up id.
    pub mixup_id: i64,
    /// "open", "different_patient" or "withdrawn".
    pub state: &'static str,
    /// The held (later) case.
    pub held: Option<SideJson>,
    /// The case already on file; null when it is not yours to see.
    pub earlier: Option<SideJson>,
    /// What the hub can tell you.
    pub message: String,
    /// When it was found (ms).
    pub created_at_ms: i64,
    /// Who resolved it.
    pub resolved_by_name: String,
    /// Their note.
    pub resolution_note: String,
    /// When (ms), 0 while open.
    pub resolved_at_ms: i64,
}

/// `mixup list` as JSON.
#[derive(Debug, Serialize)]
pub struct MixupsJson {
    /// Newest first.
    pub mixups: Vec<MixupJson>,
}

fn side(s: pb::MixupSide) -> SideJson {
    SideJson {
        case_id: s.case_id,
        institution_code: s.institution_code,
        patient_display: s.patient_display,
        patient_id_masked: s.patient_id_masked,
        patient_key: s.patient_key,
        sop_instance_uid: s.sop_instance_uid,
        state: text::state(s.state),
        modality: s.modality,
        study_date: s.study_date,
    }
}

fn state(s: i32) -> &'static str {
    match pb::MixupState::try_from(s) {
        Ok(pb::MixupState::Open) => "open",
        Ok(pb::MixupState::DifferentPatient) => "different_patient",
        Ok(pb::MixupState::Withdrawn) => "withdrawn",
        Ok(pb::MixupState::Unspecified) | Err(_) => "unspecified",
    }
}

impl From<pb::Mixup> for MixupJson {
    fn from(m: pb::Mixup) -> Self {
        MixupJson {
            mixup_id: m.mixup_id,
            state: state(m.state),
            held: m.held.map(side),
            earlier: m.earlier.map(side),
            message: m.message,
            created_at_ms: m.created_at_ms,
            resolved_by_name: m.resolved_by_name,
            resolution_note: m.resolution_note,
            resolved_at_ms: m.resolved_at_ms,
        }
    }
}

/// Lists possible patient mix-ups.
async fn list(hub: &Hub, out: &Output, a: MixupListArgs) -> Result<u8, CliError> {
    let req = pb::ListMixupsRequest {
        include_resolved: a.all,
        limit: a.limit,
    };
    let list = hub
        .cases()
        .list_mixups(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    let list = MixupsJson {
        mixups: list.mixups.into_iter().map(MixupJson::from).collect(),
    };
    if out.json {
        out.json(&list)?;
        return Ok(EXIT_OK);
    }
    if list.mixups.is_empty() {
        out.line("No possible patient mix-ups waiting.")?;
        return Ok(EXIT_OK);
    }
    out.line(&table(&list.mixups).render(out.color))?;
    out.line(
        "Resolve with: viewer-cli mixup resolve CASE --different-patient|--withdraw --note \"how you checked\"",
    )?;
    Ok(EXIT_OK)
}

/// "12 TS-A 张* 3301**********1234 [key 9f3a…]".
fn side_cell(s: Option<&SideJson>) -> String {
    let Some(s) = s else {
        return "on file under a different patient (not yours to see)".into();
    };
    let mut line = format!(
        "case {} {} {} {} {}",
        s.case_id, s.institution_code, s.state, s.patient_display, s.patient_id_masked
    );
    if !s.patient_key.is_empty() {
        line.push_str(&format!(
            " key {}",
            &s.patient_key[..12.min(s.patient_key.len())]
        ));
    }
    line
}

fn table(list: &[MixupJson]) -> Table {
    let mut t = Table::new(&[
        "ID",
        "FOUND",
        "STATE",
        "HELD CASE",
        "ALREADY ON FILE",
        "RESOLUTION",
    ])
    .max_width(70);
    for m in list {
        let state = if m.state == "open" {
            Cell::styled("OPEN", Style::Red)
        } else {
            Cell::from(m.state)
        };
        let resolution = if m.resolved_at_ms > 0 {
            format!("{}: {}", m.resolved_by_name, m.resolution_note)
        } else {
            "-".into()
        };
        t.row(vec![
            m.mixup_id.to_string().into(),
            time::absolute(m.created_at_ms).into(),
            state,
            side_cell(m.held.as_ref()).into(),
            side_cell(m.earlier.as_ref()).into(),
            resolution.into(),
        ]);
    }
    t
}

/// Resolves the open mix-ups of a held case.
async fn resolve(hub: &Hub, out: &Output, a: MixupResolveArgs) -> Result<u8, CliError> {
    let outcome = if a.withdraw {
        pb::MixupState::Withdrawn
    } else {
        pb::MixupState::DifferentPatient
    };
    let req = pb::ResolveMixupRequest {
        case_id: a.case,
        outcome: outcome as i32,
        note: a.note,
    };
    let case = hub
        .cases()
        .resolve_mixup(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner()
        .case
        .unwrap_or_default();
    let case = CaseJson::from(case);
    if out.json {
        out.json(&case)?;
        return Ok(EXIT_OK);
    }
    let what = if a.withdraw {
        "withdrawn: it will not be read"
    } else {
        "queued for reading as a different patient"
    };
    out.line(&format!(
        "case {} {what} (state {})",
        case.case_id, case.state
    ))?;
    Ok(EXIT_OK)
}
