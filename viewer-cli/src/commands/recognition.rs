//! `recognition check|accept|decline|reverse`: result mutual recognition at the receiving
//! institution.

use remotedx_proto::v1 as pb;

use crate::cli::{
    CheckIdType, CheckPurposeArg, RecognitionCheckArgs, RecognitionCommand, RecognitionDeclineArgs,
    RecognitionReverseArgs,
};
use crate::client::Hub;
use crate::error::{CliError, EXIT_OK};
use crate::output::recognition::{CheckJson, DeclineJson, LedgerJson, yuan};
use crate::output::table::{Cell, Table};
use crate::output::time::absolute;
use crate::output::{Output, Style};

/// Runs one `recognition` subcommand.
pub async fn run(hub: &Hub, out: &Output, cmd: RecognitionCommand) -> Result<u8, CliError> {
    match cmd {
        RecognitionCommand::Check(a) => check(hub, out, a).await,
        RecognitionCommand::Accept(a) => accept(hub, out, a.entry).await,
        RecognitionCommand::Decline(a) => decline(hub, out, a).await,
        RecognitionCommand::Reverse(a) => reverse(hub, out, a).await,
    }
}

fn id_type(t: CheckIdType) -> pb::PatientIdType {
    match t {
        CheckIdType::IdCard => pb::PatientIdType::IdCard,
        CheckIdType::Insurance => pb::PatientIdType::Insurance,
        CheckIdType::HealthCard => pb::PatientIdType::HealthCard,
    }
}

fn purpose(p: CheckPurposeArg) -> pb::CheckPurpose {
    match p {
        CheckPurposeArg::BeforeExamining => pb::CheckPurpose::BeforeExamining,
        CheckPurposeArg::Referral => pb::CheckPurpose::Referral,
        CheckPurposeArg::Consultation => pb::CheckPurpose::Consultation,
        CheckPurposeArg::Other => pb::CheckPurpose::Other,
    }
}

async fn check(hub: &Hub, out: &Output, a: RecognitionCheckArgs) -> Result<u8, CliError> {
    if a.id_type == CheckIdType::IdCard {
        super::check_id_card(&a.patient_id, "--id-type")?;
    }
    let req = pb::CheckRequest {
        patient_id: a.patient_id,
        id_type: id_type(a.id_type).into(),
        item_code: a.item.clone(),
        purpose: a.note.unwrap_or_default(),
        purpose_code: purpose(a.purpose).into(),
    };
    let res = hub
        .recognition()
        .check(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    let res = CheckJson::from(res);
    if out.json {
        out.json(&res)?;
        return Ok(EXIT_OK);
    }
    let item = a.item.to_ascii_uppercase();
    let valid = res.entries.iter().filter(|e| e.recognisable).count();
    if valid == 0 {
        out.line(&format!(
            "No valid {item} result for this patient: examine as usual."
        ))?;
        if res.entries.is_empty() {
            return Ok(EXIT_OK);
        }
        out.line(&format!(
            "{} {item} result(s) on record cannot be recognised:",
            res.entries.len()
        ))?;
    }
    let mut t = Table::new(&[
        "ENTRY",
        "CASE",
        "ITEM",
        "DONE AT",
        "LEVEL",
        "DATE",
        "VALID UNTIL",
        "MARK",
        "YOUR FEE",
        "STATUS",
        "IMPRESSION",
    ]);
    for e in &res.entries {
        let status = match (e.recognisable, e.accepted_ledger_id) {
            (true, Some(id)) => Cell::styled(format!("accepted (ledger {id})"), Style::Green),
            (true, None) => Cell::styled("recognisable", Style::Green),
            (false, _) => Cell::styled(
                format!("NOT recognisable ({}): {}", e.standing, e.reason),
                Style::Red,
            ),
        };
        t.row(vec![
            e.entry_id.to_string().into(),
            e.case_id.to_string().into(),
            e.item_code.clone().into(),
            format!("{} {}", e.institution_code, e.institution_name).into(),
            e.institution_level.clone().into(),
            e.exam_date.clone().into(),
            e.valid_until.clone().into(),
            e.hr_mark.clone().into(),
            e.local_fee_fen.map_or("unpriced".into(), yuan).into(),
            status,
            e.impression.clone().into(),
        ]);
    }
    out.line(&t.render(out.color))?;
    out.line(&format!(
        "Until {}, you (not your colleagues) may open the images of the recognisable entries \
         (`viewer-cli show CASE --out DIR`) and accept (`recognition accept ENTRY`) or decline \
         (`recognition decline ENTRY --reason CODE`) the entries above.",
        absolute(res.open_until_ms)
    ))?;
    Ok(EXIT_OK)
}

async fn accept(hub: &Hub, out: &Output, entry_id: i64) -> Result<u8, CliError> {
    let row = hub
        .recognition()
        .accept(pb::AcceptRequest { entry_id })
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    print_ledger(out, LedgerJson::from(row), "Recognised")
}

async fn reverse(hub: &Hub, out: &Output, a: RecognitionReverseArgs) -> Result<u8, CliError> {
    let req = pb::ReverseRequest {
        ledger_id: a.ledger,
        reason: a.reason,
    };
    let row = hub
        .recognition()
        .reverse(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    print_ledger(out, LedgerJson::from(row), "Reversed")
}

fn print_ledger(out: &Output, row: LedgerJson, verb: &str) -> Result<u8, CliError> {
    if out.json {
        out.json(&row)?;
        return Ok(EXIT_OK);
    }
    let mut line = format!(
        "{verb}: entry {} ({}) for {}, ledger row {}: {} yuan",
        row.entry_id,
        row.item_code,
        row.institution_code,
        row.ledger_id,
        yuan(row.fee_fen)
    );
    if !row.note.is_empty() {
        line.push_str(&format!(" ({})", row.note));
    }
    out.line(&line)?;
    Ok(EXIT_OK)
}

async fn decline(hub: &Hub, out: &Output, a: RecognitionDeclineArgs) -> Result<u8, CliError> {
    let req = pb::DeclineRequest {
        entry_id: a.entry,
        reason: a.reason.code(),
        note: a.note.unwrap_or_default(),
    };
    let d = hub
        .recognition()
        .decline(req)
        .await
        .map_err(|s| hub.error(s))?
        .into_inner();
    let d = DeclineJson::from(d);
    if out.json {
        out.json(&d)?;
    } else {
        out.line(&format!(
            "Declined entry {} ({}); refusal {} recorded.",
            d.entry_id, d.reason, d.decline_id
        ))?;
    }
    Ok(EXIT_OK)
}
