//! What `recognition check` and the reports tell a doctor is true, through the real binaries
//! (issue 19, items 5 to 7): a mistyped ID card number is refused with what is wrong (never
//! answered "no result"); a check lists every entry of the item, valid ones first and the others
//! with their reason; a senior who edits while signing is named beside the author; statistics
//! count cases, not report versions.

mod recognition_region;

use std::process::Command;

use e2e::*;
use recognition_region::*;
use serde_json::Value;

/// `recognition check` as `token` for a typed identifier that must be refused as a usage error
/// naming what is wrong.
fn refused_id(r: &Region, token: &str, typed: &str, says: &str) {
    let args = [
        "recognition",
        "check",
        "--patient-id",
        typed,
        "--item",
        "CT-HEAD",
        "--purpose",
        "before-examining",
    ];
    let run = cli(&r.hub, token, &args);
    assert_eq!(run.code, 2, "{typed:?} accepted: {}", run.stdout);
    assert!(run.stderr.contains(says), "{typed:?}: {}", run.stderr);
}

/// Files a preliminary report as the specialist; the senior signs it, with `edit` as the new
/// impression if given. Returns the signed version's JSON.
fn review(r: &Region, case: i64, edit: Option<&str>) -> Value {
    let id = case.to_string();
    ok(&cli(&r.hub, r.token("specialist"), &["claim", &id]));
    let report = [
        "report",
        &id,
        "--findings",
        "no bleed",
        "--impression",
        "normal",
    ];
    ok(&cli(&r.hub, r.token("specialist"), &report));
    let mut sign = vec!["sign", id.as_str()];
    if let Some(edit) = edit {
        sign.extend(["--impression", edit]);
    }
    ok(&cli(&r.hub, r.token("senior"), &sign));
    let shown = ok(&cli(&r.hub, r.token("senior"), &["show", &id])).clone();
    shown["reports"].as_array().unwrap().last().unwrap().clone()
}

#[test]
fn typos_are_refused_every_entry_is_explained_and_versions_name_their_writers() {
    let files = tempfile::tempdir().unwrap();
    let catalogue = files.path().join("region.toml");
    std::fs::write(&catalogue, CATALOGUE).unwrap();
    let r = Region::start(
        &[
            &[("REMOTEDX_HUB_CATALOG__PATH", catalogue.to_str().unwrap())][..],
            &GENEROUS_CHECK_LIMITS,
        ]
        .concat(),
    );
    let (clinic_a, clinic_b) = (r.token("clinic_a"), r.token("clinic_b"));

    // Typos in the ID card number: length, check digit, impossible or future birth date.
    let with_check =
        |first17: &str| format!("{first17}{}", patient_id::check_char(first17).unwrap());
    refused_id(&r, clinic_b, &PATIENT[..17], "has 17");
    refused_id(&r, clinic_b, "990321195803040171", "check digit");
    refused_id(&r, clinic_b, &with_check("99032119581304017"), "19581304");
    refused_id(
        &r,
        clinic_b,
        &with_check("99032120991231017"),
        "in the future",
    );
    let ct = study(files.path(), "zhang-san-ct-head/CT0001.dcm", 1, PATIENT, 3);
    let short = cli(
        &r.hub,
        clinic_a,
        &["upload", ct.to_str().unwrap(), "--patient-id", "12345"],
    );
    assert_eq!(
        short.code, 2,
        "12345 taken for an ID card: {}",
        short.stdout
    );
    assert!(short.stderr.contains("has 5"), "{}", short.stderr);

    // Two CT heads of the patient at TS-A: 3 days ago (read by Dr Li, signed unedited by Dr Chen)
    // and 50 days ago (the impression edited by Dr Chen while signing).
    let recent = upload(&r, clinic_a, &ct, None)["case_id"].as_i64().unwrap();
    let old_file = study(files.path(), "zhang-san-ct-head/CT0001.dcm", 2, PATIENT, 50);
    let old = upload(&r, clinic_a, &old_file, None)["case_id"]
        .as_i64()
        .unwrap();
    let unedited = review(&r, recent, None);
    let edited = review(&r, old, Some("normal CT of the head"));
    let names = |v: &Value| {
        ["author_name", "editor_name", "signer_name"].map(|k| v[k].as_str().unwrap().to_owned())
    };
    assert_eq!(names(&unedited), ["specialist", "", "senior"]);
    assert_eq!(names(&edited), ["specialist", "senior", "senior"]);

    // Checked with full-width digits and spaces, as a Chinese input method types them: both
    // entries, the valid one first, the expired one with its last valid day.
    let typed: String = PATIENT
        .chars()
        .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap())
        .collect::<String>()
        .replacen("１９５８", " １９５８ ", 1);
    let entries = check(&r, clinic_b, &typed, "CT-HEAD", 2);
    let seen: Vec<(i64, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["case_id"].as_i64().unwrap(),
                e["standing"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [(recent, "recognisable"), (old, "expired")]);
    let last_day = dashed(&dicom_date(50 - 30));
    assert!(
        entries[1]["reason"].as_str().unwrap().contains(&last_day),
        "{}",
        entries[1]
    );
    // TS-A sees its own results, saying why it cannot recognise them.
    let own = check(&r, clinic_a, PATIENT, "CT-HEAD", 2);
    assert!(own.iter().all(|e| e["standing"] == "own-result"), "{own:?}");
    // The human table says why too, rather than "no result".
    let table = Command::new(binary("viewer-cli"))
        .args([
            "recognition",
            "check",
            "--patient-id",
            PATIENT,
            "--item",
            "CT-HEAD",
            "--purpose",
            "before-examining",
        ])
        .env("HUB_URL", &r.hub.url)
        .env("HUB_TOKEN", clinic_a)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("No valid CT-HEAD result") && table.contains("own-result"),
        "{table}"
    );

    // Statistics count cases: Dr Li wrote two (four versions carry his name), Dr Chen signed two.
    let stats = ok(&cli(&r.hub, r.token("admin"), &["stats"])).clone();
    let load: Vec<(String, i64, i64)> = stats["workload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let n = |k: &str| w[k].as_i64().unwrap();
            (
                w["name"].as_str().unwrap().to_owned(),
                n("written"),
                n("signed"),
            )
        })
        .collect();
    assert_eq!(
        load,
        [("specialist".to_owned(), 2, 0), ("senior".to_owned(), 0, 2)]
    );
}
