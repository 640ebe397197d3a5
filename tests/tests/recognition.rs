//! Result mutual recognition through the real `hub` and `viewer-cli` binaries: a region of three
//! institutions of two levels (TS-A and TS-B township, CTY county) with its own catalogue file,
//! price table and quality-control passes. A patient examined at TS-A is checked at TS-B and CTY
//! (accept → ledger at each one's own price), after the window (listed as expired, with its last
//! day), for an item TS-A has no QC pass for (not recognisable, with the reason), for an item not yet
//! in the catalogue; accepted or declined, never both; a possible repeat is flagged on upload; the
//! statistics agree with the ledger to the fen; and every new RPC enforces its roles. A check opens
//! only what it returned, to whoever checked; checks are rate-limited.

mod recognition_region;

use e2e::*;
use recognition_region::*;

#[test]
fn recognition_from_signed_report_to_savings_statistics() {
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
    let (county, admin) = (r.token("specialist"), r.token("admin"));

    // TS-A examines: a CT head 5 days ago, another patient's CT head 40 days ago (past its 30-day
    // window), a DR chest (no radiography QC pass yet) and a CT chest (not yet in the catalogue).
    let ct = upload(
        &r,
        clinic_a,
        &study(files.path(), "zhang-san-ct-head/CT0001.dcm", 1, PATIENT, 5),
        None,
    );
    assert_eq!(ct["exam_item_code"], "CT-HEAD");
    assert_eq!(ct["possible_repeat"], "", "nothing to repeat yet");
    let old = upload(
        &r,
        clinic_a,
        // Another slice: the same image under another patient would be held as a possible
        // patient mix-up.
        &study(
            files.path(),
            "zhang-san-ct-head/CT0002.dcm",
            2,
            OTHER_PATIENT,
            40,
        ),
        None,
    );
    let dr = upload(
        &r,
        clinic_a,
        &study(files.path(), "zhang-san-dr-chest/DX0001.dcm", 3, PATIENT, 3),
        None,
    );
    assert_eq!(dr["exam_item_code"], "DR-CHEST");
    let chest = upload(
        &r,
        clinic_a,
        &study(files.path(), "zhang-san-ct-head/CT0001.dcm", 4, PATIENT, 2),
        Some("CT-CHEST"),
    );
    for c in [&ct, &old, &dr, &chest] {
        sign(&r, c["case_id"].as_i64().unwrap());
    }

    // Another township cannot open TS-A's case by its number...
    let ct_case = ct["case_id"].to_string();
    let before = cli(&r.hub, clinic_b, &["show", &ct_case]);
    assert_eq!(before.code, 4, "reads as no such case: {}", before.stderr);

    // TS-B checks the patient's CT head: TS-A's result, valid for 30 days from the exam.
    let entries = check(&r, clinic_b, PATIENT, "CT-HEAD", 1);
    // ... but once it has looked the patient up, it may open the images it is deciding on, and
    // only those: the other patient's case and the not-recognisable DR chest stay closed.
    let opened = ok(&cli(&r.hub, clinic_b, &["show", &ct_case])).clone();
    assert_eq!(opened["case"]["case_id"], ct["case_id"]);
    for closed in [&old, &dr] {
        let denied = cli(&r.hub, clinic_b, &["show", &closed["case_id"].to_string()]);
        assert_eq!(denied.code, 4, "{}", denied.stderr);
    }
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(
        (
            e["institution_code"].as_str(),
            e["institution_level"].as_str()
        ),
        (Some("TS-A"), Some("township"))
    );
    assert_eq!(e["recognisable"], true);
    assert_eq!(e["case_id"], ct["case_id"]);
    assert_eq!(e["exam_date"].as_str().unwrap(), dashed(&dicom_date(5)));
    assert_eq!(
        e["valid_until"].as_str().unwrap(),
        dashed(&dicom_date(5 - 30))
    );
    assert_eq!(
        (e["hr_mark"].as_str(), e["impression"].as_str()),
        (Some("HR-E2E"), Some("normal study"))
    );
    assert_eq!(
        e["local_fee_fen"], 13_000,
        "TS-B is township-level: 130 yuan"
    );
    let entry = e["entry_id"].as_i64().unwrap().to_string();

    // Every check is audited with who, the pseudonym and why (never the identifier).
    let audit = ok(&cli(
        &r.hub,
        admin,
        &["audit", "--action", "recognition_check"],
    ))
    .clone();
    let first = &audit["entries"].as_array().unwrap()[0];
    assert_eq!(first["actor"], "clinic_b");
    assert!(first["patient_key"].as_str().unwrap().len() == 64);
    assert!(
        first["detail"].as_str().unwrap().contains("purpose"),
        "{first}"
    );
    assert!(
        !audit.to_string().contains(PATIENT),
        "raw identifier in the audit trail"
    );

    // Accept → the ledger books the receiving institution's own fee; once per institution.
    let mut ledger_total = 0;
    let accepted = ok(&cli(&r.hub, clinic_b, &["recognition", "accept", &entry])).clone();
    assert_eq!(
        (
            accepted["fee_fen"].as_i64(),
            accepted["institution_code"].as_str()
        ),
        (Some(13_000), Some("TS-B"))
    );
    ledger_total += accepted["fee_fen"].as_i64().unwrap();
    let again = cli(&r.hub, clinic_b, &["recognition", "accept", &entry]);
    assert_eq!(again.code, 4, "accepted twice: {}", again.stderr);
    // The county hospital pays county prices, and the 2099 price is not in force yet (its
    // specialist checks the patient first: knowing the entry id is not enough).
    check(&r, county, PATIENT, "CT-HEAD", 1);
    let at_county = ok(&cli(&r.hub, county, &["recognition", "accept", &entry])).clone();
    assert_eq!(at_county["fee_fen"], 15_000);
    ledger_total += 15_000;
    // A correction is a reversing row; then TS-B may accept again.
    let b_row = accepted["ledger_id"].as_i64().unwrap().to_string();
    let denied = cli(
        &r.hub,
        r.token("clinic_a"),
        &["recognition", "reverse", &b_row, "--reason", "x"],
    );
    // Answered as for an acceptance that does not exist: who accepted what is not TS-A's to learn.
    assert_eq!(
        denied.code, 4,
        "another institution's row: {}",
        denied.stderr
    );
    let reversed = ok(&cli(
        &r.hub,
        clinic_b,
        &[
            "recognition",
            "reverse",
            &b_row,
            "--reason",
            "patient was re-examined after all",
        ],
    ))
    .clone();
    assert_eq!(
        (
            reversed["fee_fen"].as_i64(),
            reversed["reverses_id"].as_i64()
        ),
        (Some(-13_000), accepted["ledger_id"].as_i64())
    );
    ledger_total -= 13_000;
    let twice = cli(
        &r.hub,
        clinic_b,
        &["recognition", "reverse", &b_row, "--reason", "again"],
    );
    assert_eq!(twice.code, 4, "{}", twice.stderr);
    ledger_total += ok(&cli(&r.hub, clinic_b, &["recognition", "accept", &entry]))["fee_fen"]
        .as_i64()
        .unwrap();
    let rechecked = check(&r, clinic_b, PATIENT, "CT-HEAD", 1);
    assert!(rechecked[0]["accepted_ledger_id"].as_i64().is_some());

    // After the window: the other patient's 40-day-old CT head is listed, but as expired, with
    // its last valid day; it cannot be accepted.
    let expired = check(&r, clinic_b, OTHER_PATIENT, "CT-HEAD", 1);
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(
        (
            expired[0]["recognisable"].as_bool(),
            expired[0]["standing"].as_str()
        ),
        (Some(false), Some("expired"))
    );
    let last_day = dashed(&dicom_date(40 - 30));
    assert!(
        expired[0]["reason"].as_str().unwrap().contains(&last_day),
        "{}",
        expired[0]["reason"]
    );

    // No QC pass: stored, shown as not recognisable with the reason, and cannot be accepted.
    let dr_entries = check(&r, clinic_b, PATIENT, "DR-CHEST", 1);
    assert_eq!(dr_entries[0]["recognisable"], false);
    assert_eq!(dr_entries[0]["standing"], "no-qc-pass");
    let why = dr_entries[0]["reason"].as_str().unwrap();
    assert!(
        why.contains("TS-A") && why.contains("quality-control") && why.contains("radiography"),
        "{why}"
    );
    let refused = cli(
        &r.hub,
        clinic_b,
        &[
            "recognition",
            "accept",
            &dr_entries[0]["entry_id"].to_string(),
        ],
    );
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("not recognisable"),
        "{}",
        refused.stderr
    );
    // Catalogue effective dates: CT chest enters the catalogue only in 2099.
    let chest_entries = check(&r, clinic_b, PATIENT, "CT-CHEST", 1);
    assert_eq!(chest_entries[0]["recognisable"], false);
    assert_eq!(chest_entries[0]["standing"], "outside-catalogue");
    assert!(
        chest_entries[0]["reason"]
            .as_str()
            .unwrap()
            .contains("2099-01-01")
    );

    // An institution accepts or declines an entry, not both: TS-B accepted it, so its decline is
    // refused; the county hospital reverses its acceptance, declines, and may not accept again.
    let both = cli(
        &r.hub,
        clinic_b,
        &["recognition", "decline", &entry, "--reason", "emergency"],
    );
    assert_eq!(both.code, 4, "accepted and declined: {}", both.stderr);
    assert!(both.stderr.contains("already accepted"), "{}", both.stderr);
    let cty_row = at_county["ledger_id"].to_string();
    let reason = ["--reason", "declined after all"];
    ok(&cli(
        &r.hub,
        county,
        &[&["recognition", "reverse", &cty_row][..], &reason].concat(),
    ));
    ledger_total -= 15_000;
    let d = cli(
        &r.hub,
        county,
        &[
            "recognition",
            "decline",
            &entry,
            "--reason",
            REASONS[0],
            "--note",
            "seen",
        ],
    );
    assert_eq!(ok(&d)["reason"], REASONS[0]);
    let declined = check(&r, county, PATIENT, "CT-HEAD", 1);
    assert_eq!(
        (
            declined[0]["standing"].as_str(),
            declined[0]["recognisable"].as_bool()
        ),
        (Some("declined"), Some(false))
    );
    let after = cli(&r.hub, county, &["recognition", "accept", &entry]);
    assert_eq!(after.code, 4, "declined and accepted: {}", after.stderr);
    assert!(
        after.stderr.contains("already declined"),
        "{}",
        after.stderr
    );
    // Every other standard reason is understood (the refusal is the precondition, not usage).
    for reason in &REASONS[1..] {
        let again = cli(
            &r.hub,
            county,
            &[
                "recognition",
                "decline",
                &entry,
                "--reason",
                reason,
                "--note",
                "seen",
            ],
        );
        assert_eq!(again.code, 4, "{reason}: {}", again.stderr);
    }
    let long = "x".repeat(201);
    assert_eq!(
        cli(
            &r.hub,
            clinic_b,
            &[
                "recognition",
                "decline",
                &entry,
                "--reason",
                "other",
                "--note",
                &long
            ]
        )
        .code,
        2
    );
    assert_eq!(
        cli(
            &r.hub,
            clinic_b,
            &["recognition", "decline", &entry, "--reason", "other"]
        )
        .code,
        2
    );
    assert_eq!(
        cli(
            &r.hub,
            clinic_b,
            &["recognition", "decline", &entry, "--reason", "bored"]
        )
        .code,
        2
    );

    // A possible repeat: TS-B uploads a CT head of the same patient while TS-A's is valid.
    let repeat = upload(
        &r,
        clinic_b,
        &study(files.path(), "zhang-san-ct-head/CT0001.dcm", 5, PATIENT, 0),
        None,
    );
    let note = repeat["possible_repeat"].as_str().unwrap();
    // It says a check is worth making, not where or when the patient was examined: that is for
    // the audited check to tell.
    assert!(
        note.contains("possible repeat of CT-HEAD")
            && note.contains("recognition check")
            && !note.contains("TS-A")
            && !note.contains(&dashed(&dicom_date(5))),
        "{note}"
    );
    let shown = ok(&cli(
        &r.hub,
        clinic_b,
        &["show", &repeat["case_id"].to_string()],
    ))
    .clone();
    assert!(shown.to_string().contains("possible repeat of CT-HEAD"));

    // The statistics agree with the ledger to the fen.
    let chart_svg = files.path().join("savings.svg");
    let chart_png = files.path().join("savings.png");
    let stats = ok(&cli(
        &r.hub,
        admin,
        &["stats", "--chart", chart_svg.to_str().unwrap()],
    ))
    .clone();
    let t = &stats["totals"];
    assert_eq!(t["saved_fen"].as_i64(), Some(ledger_total));
    assert_eq!(ledger_total, 13_000);
    assert_eq!(
        (
            t["recognitions"].as_i64(),
            t["reversals"].as_i64(),
            t["tests_avoided"].as_i64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(
        (t["declines"].as_i64(), t["repeats"].as_i64()),
        (Some(1), Some(1))
    );
    for reason in REASONS {
        let want = i64::from(reason == REASONS[0]);
        assert_eq!(stats["declines_by_reason"][reason], want, "{reason}");
    }
    let groups: Vec<(String, i64)> = stats["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_owned(),
                g["saved_fen"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        groups.contains(&("TS-B".into(), 13_000)) && groups.contains(&("CTY".into(), 0)),
        "{groups:?}"
    );
    let saved_by_month: i64 = stats["savings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["saved_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(saved_by_month, ledger_total);
    assert_eq!(
        (
            stats["cases_received"].as_i64(),
            stats["cases_reported"].as_i64()
        ),
        (Some(5), Some(4))
    );
    assert_eq!(stats["workload"][0]["signed"], 4);
    let by_item = ok(&cli(
        &r.hub,
        admin,
        &[
            "stats",
            "--by",
            "item",
            "--chart",
            chart_png.to_str().unwrap(),
        ],
    ))
    .clone();
    assert_eq!(by_item["groups"][0]["key"], "CT-HEAD");
    assert_eq!(
        by_item["groups"][0]["saved_fen"].as_i64(),
        Some(ledger_total)
    );
    let future = ok(&cli(&r.hub, admin, &["stats", "--from", "2099-01-01"])).clone();
    assert_eq!(future["totals"]["saved_fen"], 0);
    assert!(
        std::fs::read_to_string(&chart_svg)
            .unwrap()
            .starts_with("<svg")
    );
    assert!(std::fs::read(&chart_png).unwrap().starts_with(b"\x89PNG"));

    authorisation_matrix(&r, &entry);
}

/// Every new RPC: who may call it (exit 0 or a domain refusal other than 3) and who is refused
/// (exit 3: unauthenticated or permission denied).
fn authorisation_matrix(r: &Region, entry: &str) {
    let check = [
        "recognition",
        "check",
        "--patient-id",
        PATIENT,
        "--item",
        "CT-HEAD",
        "--purpose",
        "before-examining",
    ];
    let accept = ["recognition", "accept", entry];
    let decline = ["recognition", "decline", entry, "--reason", "emergency"];
    let reverse = ["recognition", "reverse", "999999", "--reason", "typo"];
    let stats = ["stats"];
    let calls: [(&str, &[&str]); 5] = [
        ("check", &check),
        ("accept", &accept),
        ("decline", &decline),
        ("reverse", &reverse),
        ("stats", &stats),
    ];
    // (user, allowed calls); TS-A's own entry: allowed callers get a precondition refusal (4).
    let matrix: [(&str, &[&str]); 5] = [
        ("clinic_b", &["check", "accept", "decline", "reverse"]),
        ("specialist", &["check", "accept", "decline", "reverse"]),
        ("admin", &["stats", "reverse"]),
        ("worker", &[]),
        ("", &[]),
    ];
    for (user, allowed) in matrix {
        let token = if user.is_empty() { "" } else { r.token(user) };
        for (name, args) in calls {
            let run = cli(&r.hub, token, args);
            if allowed.contains(&name) {
                assert_ne!(run.code, 3, "{user} may call {name}: {}", run.stderr);
            } else {
                assert_eq!(
                    run.code, 3,
                    "{user} may not call {name}: {} {}",
                    run.stdout, run.stderr
                );
            }
        }
    }
    // A clinic cannot recognise its own institution's result.
    assert_eq!(
        cli(
            &r.hub,
            r.token("clinic_a"),
            &["recognition", "accept", entry]
        )
        .code,
        4
    );
}

/// `recognition check` as `token` without waiting: one check, its JSON.
fn check_once(r: &Region, token: &str, patient: &str, item: &str) -> CliRun {
    let args = [
        "recognition",
        "check",
        "--patient-id",
        patient,
        "--item",
        item,
        "--purpose",
        "before-examining",
    ];
    cli(&r.hub, token, &args)
}

/// Issue 13, item 3: a check opens only the entries it returned, to the user who checked, for
/// that item; a check that returned nothing opens nothing, not even a result signed after it;
/// accepting needs such a check, and an entry id alone is not enough.
#[test]
fn a_check_opens_only_what_it_returned_and_knowing_an_id_is_not_enough() {
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
    let ct = upload(
        &r,
        clinic_a,
        &study(files.path(), "zhang-san-ct-head/CT0001.dcm", 1, PATIENT, 5),
        None,
    );
    let case = ct["case_id"].to_string();
    let show = |token| cli(&r.hub, token, &["show", &case]);
    // Not opened, and not told that the case exists either (exit 4: no such case).
    assert_eq!(show(clinic_b).code, 4, "opened without a check");

    // TS-B checks before TS-A's result is signed: nothing is returned, so nothing opens later.
    let before = ok(&check_once(&r, clinic_b, PATIENT, "CT-HEAD")).clone();
    assert_eq!(before["entries"].as_array().unwrap().len(), 0, "{before}");
    sign(&r, ct["case_id"].as_i64().unwrap());
    let entry = check(&r, r.token("specialist"), PATIENT, "CT-HEAD", 1)[0]["entry_id"]
        .as_i64()
        .unwrap();
    let refused = show(clinic_b);
    assert_eq!(
        refused.code, 4,
        "signed after the check: {}",
        refused.stdout
    );
    for id in [entry, entry + 1000] {
        let accept = cli(
            &r.hub,
            clinic_b,
            &["recognition", "accept", &id.to_string()],
        );
        assert_eq!(
            accept.code, 4,
            "accepted without a check: {}",
            accept.stdout
        );
        assert!(
            accept
                .stderr
                .contains("no recognition check of yours returned"),
            "{}",
            accept.stderr
        );
    }
    // A check of another item of the patient opens nothing of this one.
    check(&r, clinic_b, PATIENT, "DR-CHEST", 0);
    assert_eq!(show(clinic_b).code, 4, "opened by a check of another item");

    // Its own check of the item returns the entry: now the case opens, and the entry is accepted.
    check(&r, clinic_b, PATIENT, "CT-HEAD", 1);
    let opened = ok(&show(clinic_b)).clone();
    assert_eq!(opened["case"]["case_id"], ct["case_id"]);
    ok(&cli(
        &r.hub,
        clinic_b,
        &["recognition", "accept", &entry.to_string()],
    ));
    let views = ok(&cli(
        &r.hub,
        r.token("admin"),
        &["audit", "--action", "view"],
    ))
    .clone();
    assert!(
        views.to_string().contains("result recognition, check"),
        "{views}"
    );
}

/// Issue 13, item 3: checks are limited per user and patient and per user, with a message that
/// says which limit and when to try again; the purpose is required.
#[test]
fn recognition_checks_are_rate_limited_per_user_and_patient() {
    let r = Region::start(&[
        ("REMOTEDX_HUB_RECOGNITION__CHECKS_PER_PATIENT_PER_DAY", "2"),
        ("REMOTEDX_HUB_RECOGNITION__CHECKS_PER_USER_PER_HOUR", "3"),
    ]);
    let clinic_b = r.token("clinic_b");
    for _ in 0..2 {
        ok(&check_once(&r, clinic_b, PATIENT, "CT-HEAD"));
    }
    let third = check_once(&r, clinic_b, PATIENT, "CT-HEAD");
    assert_eq!(third.code, 1, "{}", third.stdout);
    assert!(
        third.stderr.contains("checks_per_patient_per_day") && third.stderr.contains("after"),
        "{}",
        third.stderr
    );
    ok(&check_once(&r, clinic_b, OTHER_PATIENT, "CT-HEAD"));
    let fourth = check_once(&r, clinic_b, OTHER_PATIENT, "CT-HEAD");
    assert!(
        fourth.code == 1 && fourth.stderr.contains("checks_per_user_per_hour"),
        "{}",
        fourth.stderr
    );
    // Another user is not held back.
    ok(&check_once(&r, r.token("clinic_a"), PATIENT, "CT-HEAD"));
    let args = [
        "recognition",
        "check",
        "--patient-id",
        PATIENT,
        "--item",
        "CT-HEAD",
    ];
    let bare = cli(&r.hub, r.token("clinic_a"), &args);
    assert_eq!(bare.code, 2, "a check without its purpose: {}", bare.stdout);
}
