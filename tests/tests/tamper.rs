//! Tamper evidence through the real `hub` binary and the `sqlite3` shell, as someone holding the
//! index file would try it: the database refuses UPDATE and DELETE on the audit trail, report
//! versions and ledger; with the triggers dropped by hand, an altered audit row, a deleted ledger
//! row and an edited signed report are each named by `hub verify` (exit status 1), and the hub
//! refuses to start on them, saying to run `hub verify`.

mod recognition_region;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use e2e::*;
use recognition_region::*;

/// A region whose history has audit rows, a signed report and a ledger row; stopped.
struct History {
    region: Region,
    _files: tempfile::TempDir,
    env: Vec<(String, String)>,
}

fn history() -> History {
    let files = tempfile::tempdir().unwrap();
    let catalogue = files.path().join("region.toml");
    std::fs::write(&catalogue, CATALOGUE).unwrap();
    let env = vec![(
        "REMOTEDX_HUB_CATALOG__PATH".to_owned(),
        catalogue.to_str().unwrap().to_owned(),
    )];
    let mut region = Region::start(&[("REMOTEDX_HUB_CATALOG__PATH", &env[0].1)]);
    let study = study(files.path(), "zhang-san-ct-head/CT0001.dcm", 1, PATIENT, 5);
    let ct = upload(&region, region.token("clinic_a"), &study, None);
    sign(&region, ct["case_id"].as_i64().unwrap());
    let entries = check(&region, region.token("clinic_b"), PATIENT, "CT-HEAD", 1);
    let entry = entries[0]["entry_id"].as_i64().unwrap().to_string();
    let accept = ["recognition", "accept", &entry];
    ok(&cli(&region.hub, region.token("clinic_b"), &accept));
    assert!(region.hub.terminate().success());
    History {
        region,
        _files: files,
        env,
    }
}

impl History {
    /// A copy of the stopped hub's data directory with `sql` run on its index by `sqlite3`.
    fn tampered(&self, sql: &str) -> tempfile::TempDir {
        let copy = tempfile::tempdir().unwrap();
        let status = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", self.region.hub.data_dir.display()))
            .arg(copy.path())
            .status()
            .unwrap();
        assert!(status.success());
        let out = sqlite3(copy.path(), sql);
        assert!(out.status.success(), "{sql}: {}", stderr(&out));
        copy
    }

    fn hub(&self, data_dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary("hub"));
        cmd.arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .envs(self.env.iter().cloned());
        cmd
    }

    fn verify(&self, data_dir: &Path) -> Output {
        self.hub(data_dir, &["verify"]).output().unwrap()
    }

    /// Starts `hub serve` and expects it to exit by itself (refusing); returns its stderr.
    fn refused_start(&self, data_dir: &Path) -> String {
        let mut child = self
            .hub(data_dir, &["serve", "--listen", "127.0.0.1:0"])
            .args(["--dicom-listen", "127.0.0.1:0"])
            .args(["--http-listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                let out = child.wait_with_output().unwrap();
                assert!(!out.status.success(), "the hub exited 0");
                assert!(!String::from_utf8_lossy(&out.stdout).contains("hub listening"));
                return stderr(&out);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the hub started on a tampered index");
    }
}

fn sqlite3(data_dir: &Path, sql: &str) -> Output {
    Command::new("sqlite3")
        .arg(data_dir.join("index.sqlite3"))
        .arg(sql)
        .output()
        .expect("sqlite3 (scripts/ci-deps/integrity.sh installs it)")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn max_id(data_dir: &Path, table: &str) -> String {
    let out = sqlite3(data_dir, &format!("SELECT MAX(id) FROM {table}"));
    stdout(&out).trim().to_owned()
}

#[test]
fn tampering_with_the_index_is_refused_then_named_and_the_hub_will_not_start() {
    let h = history();
    let dir = h.region.hub.data_dir.clone();

    // Untouched, every chain verifies.
    let clean = h.verify(&dir);
    assert!(clean.status.success(), "{}", stderr(&clean));
    assert_eq!(
        stdout(&clean).matches("intact").count(),
        3,
        "{}",
        stdout(&clean)
    );

    // The database itself refuses changes to the chained tables.
    for sql in [
        "UPDATE audit SET detail = 'nothing happened' WHERE id = 1",
        "DELETE FROM recognition_ledger",
        "UPDATE reports SET impression = 'haemorrhage'",
    ] {
        let out = sqlite3(&dir, sql);
        assert!(!out.status.success(), "{sql} was allowed");
        assert!(stderr(&out).contains("append-only"), "{}", stderr(&out));
    }

    // With the triggers dropped by hand, each change is named by `hub verify` and stops the hub.
    let audit_id = max_id(&dir, "audit");
    let ledger_id = max_id(&dir, "recognition_ledger");
    let report_id = max_id(&dir, "reports");
    let cases = [
        (
            format!(
                "DROP TRIGGER audit_append_only_update;
                 UPDATE audit SET actor = 'someone else' WHERE id = {audit_id};"
            ),
            format!("audit: BROKEN in table audit: row id {audit_id}"),
            "actor differs",
        ),
        (
            format!(
                "PRAGMA foreign_keys = OFF; DROP TRIGGER recognition_ledger_append_only_delete;
                 DELETE FROM recognition_ledger WHERE id = {ledger_id};"
            ),
            format!("ledger: BROKEN in table recognition_ledger: row id {ledger_id}"),
            "was deleted",
        ),
        (
            format!(
                "DROP TRIGGER reports_append_only_update;
                 UPDATE reports SET impression = 'haemorrhage' WHERE id = {report_id};"
            ),
            format!("reports: BROKEN in table reports: row id {report_id}"),
            "impression differs",
        ),
    ];
    for (sql, names, what) in cases {
        let copy = h.tampered(&sql);
        let out = h.verify(copy.path());
        assert_eq!(out.status.code(), Some(1), "{sql}: {}", stdout(&out));
        let said = stdout(&out);
        assert!(
            said.contains(&names) && said.contains(what),
            "{sql}:\n{said}"
        );
        assert!(stderr(&out).contains("restore"), "{}", stderr(&out));
        let refused = h.refused_start(copy.path());
        assert!(
            refused.contains("refusing to start")
                && refused.contains(&names)
                && refused.contains("hub verify"),
            "{sql}:\n{refused}"
        );
    }
}
