//! `serve --demo` and real hubs kept apart (issue 13, item 2), through the real `hub` binary: the
//! demo refuses a real hub's data directory, a real `serve` refuses the demo's (and any index in
//! which a demo token works), and the demo's allow-any calling AE cannot be configured.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use e2e::*;

/// Runs `hub --data-dir DIR ARGS` with `env`, expecting it to exit (a refusal) within 30 s.
fn hub_exits(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut child = Command::new(binary("hub"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hub");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if child.try_wait().expect("wait for hub").is_some() {
            return child.wait_with_output().expect("hub output");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("hub {args:?} kept running: it should have refused the data directory");
}

fn serve(demo: bool) -> Vec<&'static str> {
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--dicom-listen",
        "127.0.0.1:0",
        "--http-listen",
        "127.0.0.1:0",
    ];
    if demo {
        args.push("--demo");
    }
    args
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout_of(dir: &Path, args: &[&str]) -> String {
    let out = hub_exits(dir, &[], args);
    assert!(out.status.success(), "hub {args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_demo_refuses_a_real_hubs_data_directory_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let real = [
        "institution",
        "add",
        "--code",
        "TS-A",
        "--name",
        "Real Township Hospital",
    ];
    stdout_of(dir.path(), &real);
    stdout_of(
        dir.path(),
        &[
            "user",
            "add",
            "--name",
            "Dr Real",
            "--role",
            "admin",
            "--institution",
            "TS-A",
        ],
    );

    let out = hub_exits(dir.path(), &[], &serve(true));
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(
        msg.contains("not created by `--demo`") && msg.contains("--data-dir"),
        "{msg}"
    );
    let institutions = stdout_of(dir.path(), &["institution", "list"]);
    assert!(
        institutions.contains("Real Township Hospital") && !institutions.contains("Baishui"),
        "{institutions}"
    );
    let users = stdout_of(dir.path(), &["user", "list"]);
    assert!(
        !users.contains("Admin Sun"),
        "no demo user was added: {users}"
    );
}

#[test]
fn a_demo_directory_serves_only_as_a_demo() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-samples");
    std::fs::create_dir_all(&empty).unwrap();
    let demo = ["--demo", "--demo-data", empty.to_str().unwrap()];
    let mut hub = HubProcess::start_with(dir.path(), &[], &demo);
    assert_eq!(ok(&cli(&hub, "demo-admin", &["whoami"]))["role"], "admin");
    hub.kill();

    // Without --demo, the demo's directory is refused: its tokens are public.
    let out = hub_exits(dir.path(), &[], &serve(false));
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(msg.contains("created by `hub serve --demo`"), "{msg}");

    // The README's command run a second time on the same directory still works.
    hub.restart();
    assert_eq!(
        ok(&cli(&hub, "demo-clinic-a", &["whoami"]))["role"],
        "clinic"
    );
    hub.kill();

    // Deleting the marker does not make the demo a real hub: its tokens still work, so no.
    std::fs::remove_file(dir.path().join("DEMO-REGION")).unwrap();
    let out = hub_exits(dir.path(), &[], &serve(false));
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(
        msg.contains("demo-clinic-a") && msg.contains("hub user disable"),
        "{msg}"
    );
}

#[test]
fn any_calling_ae_cannot_be_allowed_outside_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let out = hub_exits(
        dir.path(),
        &[("REMOTEDX_HUB_DICOM__ALLOW_ANY_CALLING_AE", "true")],
        &serve(false),
    );
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(msg.contains("allow_any_calling_ae"), "{msg}");
}
