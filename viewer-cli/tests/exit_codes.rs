//! The binary's exit codes and error output where no hub is needed.

use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_viewer-cli"))
        .args(args)
        .env_remove("HUB_URL")
        .env_remove("HUB_TOKEN")
        .output()
        .unwrap()
}

/// A URL where nothing listens.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(cli(&["bogus"]).status.code(), Some(2));
    assert_eq!(cli(&["claim", "not-a-number"]).status.code(), Some(2));
    assert_eq!(
        cli(&["report", "3", "--findings", "f"]).status.code(),
        Some(2),
        "--impression is required"
    );
    let missing = cli(&["upload", "/no/such/file.dcm"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/file.dcm"));
}

#[test]
fn an_unreachable_hub_exits_5_with_a_hint() {
    let url = dead_url();
    let out = cli(&["whoami", "--hub", &url]);
    assert_eq!(out.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&url), "{stderr}");
    assert!(
        stderr.contains("hint: is the hub running? check --hub / HUB_URL"),
        "{stderr}"
    );
}

#[test]
fn json_errors_go_to_stderr_as_json() {
    let out = cli(&["queue", "--json", "--hub", &dead_url()]);
    assert_eq!(out.status.code(), Some(5));
    assert!(out.stdout.is_empty());
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).expect("JSON on stderr");
    assert_eq!(err["error"]["code"], "UNREACHABLE");
    assert_eq!(err["error"]["exit_code"], 5);
}

#[test]
fn help_documents_the_exit_codes() {
    let out = cli(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for line in [
        "0  success",
        "1  partial failure",
        "2  usage error",
        "3  unauthenticated",
        "4  not found",
        "5  hub unreachable",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}");
    }
}
