//! A county log server for the audit export tests: Debian's rsyslog receiving syslog over TLS
//! (imtcp with the gtls stream driver, client certificates required), writing each message as
//! received to a file; and a checker of what it wrote: RFC 5424 header, the hub's structured data,
//! and the DICOM audit message's structure (PS3.15 A.5.1), written here from the standard's text.

#![allow(dead_code)]

mod audit_message;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e::binary;

pub use audit_message::Record;

/// A county CA, the log server's certificate (the `hub cert server` kind, for 127.0.0.1) and the
/// hub's client certificate (`hub cert audit`).
pub struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    /// Issues them with `hub cert`.
    pub fn issue() -> Certs {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_owned();
        for args in [
            &["init", "--dir", &d, "--county", "Qingshan County"][..],
            &["server", "--dir", &d, "--host", "127.0.0.1"],
            &["audit", "--dir", &d, "--name", "hub1"],
        ] {
            let out = Command::new(binary("hub"))
                .arg("cert")
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "hub cert {args:?}: {out:?}");
        }
        Certs { dir }
    }

    /// A file of the CA's directory.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    /// The hub's `[audit_export]` settings for `server`.
    pub fn hub_env(&self, server: &str) -> Vec<(String, String)> {
        [
            ("ENABLED", "true".to_owned()),
            ("SERVER", server.to_owned()),
            ("CA_FILE", self.path("ca.pem")),
            ("CLIENT_CERT", self.path("audit-hub1.pem")),
            ("CLIENT_KEY", self.path("audit-hub1.key")),
            ("SITE", "Qingshan".to_owned()),
            ("POLL_INTERVAL", "200ms".to_owned()),
            ("MAX_BACKOFF", "1s".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (format!("REMOTEDX_HUB_AUDIT_EXPORT__{k}"), v))
        .collect()
    }
}

/// rsyslogd in the foreground, on a port of its own, writing to `received.log`.
pub struct Rsyslog {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
}

impl Rsyslog {
    /// Starts it (the test fails if Debian's rsyslog and rsyslog-gnutls are not installed:
    /// scripts/ci-deps/audit_export.sh installs them).
    pub fn start(certs: &Certs) -> Rsyslog {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = format!(
            r#"global(workDirectory="{work}" maxMessageSize="64k"
       defaultNetstreamDriver="gtls"
       defaultNetstreamDriverCAFile="{ca}"
       defaultNetstreamDriverCertFile="{cert}"
       defaultNetstreamDriverKeyFile="{key}")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1"
       streamDriver.authMode="x509/certvalid")
template(name="asReceived" type="string" string="%rawmsg%\n")
ruleset(name="audit") {{ action(type="omfile" file="{out}" template="asReceived") }}
input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="audit")
"#,
            work = dir.path().display(),
            ca = certs.path("ca.pem"),
            cert = certs.path("server.pem"),
            key = certs.path("server.key"),
            out = dir.path().join("received.log").display(),
        );
        std::fs::write(dir.path().join("rsyslog.conf"), conf).unwrap();
        let mut r = Rsyslog {
            child: None,
            dir,
            port,
        };
        r.restart();
        r
    }

    /// `host:port` for the hub.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts it again (same port, same file, appended to).
    pub fn restart(&mut self) {
        let rsyslogd = ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
            .into_iter()
            .find(|p| std::path::Path::new(p).is_file())
            .expect("rsyslogd is not installed: run scripts/ci-deps/audit_export.sh");
        let child = Command::new(rsyslogd)
            .arg("-n")
            .arg("-f")
            .arg(self.dir.path().join("rsyslog.conf"))
            .arg("-i")
            .arg(self.dir.path().join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start rsyslogd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rsyslogd does not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops it (SIGTERM) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }

    /// The messages it has written so far, one per line.
    pub fn lines(&self) -> Vec<String> {
        let path: PathBuf = self.dir.path().join("received.log");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Checks one received message and returns what it says.
pub fn parse_record(line: &str) -> Result<Record, String> {
    audit_message::parse(line)
}
