//! The hub's configuration, in layers: built-in defaults → TOML file → environment → flags.
//!
//! Environment variables are `REMOTEDX_HUB_<SECTION>__<KEY>` (double underscore between levels),
//! e.g. `REMOTEDX_HUB_GRPC__LISTEN=0.0.0.0:50051` or `REMOTEDX_HUB_DATA_DIR=/srv/hub`. Durations are
//! written the human way: "30m", "4h", "90s".

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod audit_export;
pub mod dicomweb;
pub mod http;
mod imaging;
pub mod redact;
mod user_limits;

pub use imaging::ImagingConfig;
pub use user_limits::UserLimitsConfig;

pub use audit_export::AuditExportConfig;
pub mod viewer;

pub use http::HttpConfig;

pub use dicomweb::DicomWebConfig;

/// Prefix of the environment variables that configure the hub.
pub const ENV_PREFIX: &str = "REMOTEDX_HUB_";

/// Everything the hub can be told.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the embedded database, blobs, staging area and key live.
    pub data_dir: PathBuf,
    /// The gRPC listener.
    pub grpc: GrpcConfig,
    /// Where the index and blobs are kept.
    pub storage: StorageConfig,
    /// Report deadlines per priority.
    pub deadlines: DeadlineConfig,
    /// The reading workflow.
    pub reading: ReadingConfig,
    /// Uploads.
    pub ingest: IngestConfig,
    /// The job runner.
    pub jobs: JobsConfig,
    /// Patient pseudonyms.
    pub privacy: PrivacyConfig,
    /// The exam-item catalogue.
    pub catalog: CatalogConfig,
    /// The DICOM listener (C-ECHO and C-STORE from modalities).
    pub dicom: DicomConfig,
    /// The region the hub serves.
    pub region: RegionConfig,
    /// Tamper evidence: the key of the hash chains over the audit trail, reports and ledger.
    pub integrity: IntegrityConfig,
    /// Result recognition: how long a check opens what it returned, and how often one may check.
    pub recognition: RecognitionConfig,
    /// TLS: the hub's certificate, client certificates, plaintext opt-ins.
    pub tls: TlsConfig,
    /// Memory for decoding and rendering images.
    pub imaging: ImagingConfig,
    /// How much of the hub one user may take: concurrent requests and a request rate.
    pub user_limits: UserLimitsConfig,
    /// The audit trail sent to a county's log server (syslog over TLS, DICOM audit messages).
    pub audit_export: AuditExportConfig,
    /// The HTTP listener: DICOMweb (and the viewer).
    pub http: HttpConfig,
    /// The OHIF viewer served at `/viewer` and browser sign-ins.
    pub viewer: viewer::ViewerConfig,
    /// DICOMweb's searches.
    pub dicomweb: DicomWebConfig,
}

/// Tamper evidence (the `[integrity]` section).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct IntegrityConfig {
    /// File holding the secret key of the hash chains (created with 32 random bytes, mode 0600,
    /// when the index is new; default `<data_dir>/integrity.key`). Keep it apart from the
    /// database and its backups, and give every replica of a region the same one.
    pub key_file: Option<PathBuf>,
}

/// Result recognition: what a check opens, for how long, and how many checks a user may make.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RecognitionConfig {
    /// How long the entries a check returned stay open to the user who checked: their cases
    /// (read-only) and their acceptance or refusal.
    #[serde(with = "human_duration")]
    pub access_window: Duration,
    /// Checks one user may make in any hour.
    pub checks_per_user_per_hour: u32,
    /// Checks one user may make about one patient in any 24 hours.
    pub checks_per_patient_per_day: u32,
}

impl Default for RecognitionConfig {
    fn default() -> Self {
        RecognitionConfig {
            access_window: Duration::from_secs(24 * 3600),
            checks_per_user_per_hour: 30,
            checks_per_patient_per_day: 5,
        }
    }
}

/// TLS for gRPC (the worker link included) and the DICOM TLS port (`dicom.tls_listen`).
///
/// Without `cert` and `key` the hub serves plaintext, which it does on loopback addresses only
/// unless `allow_plaintext` (gRPC) or `dicom.allow_plaintext` opts in. `hub cert` creates a
/// county CA, the server certificate and client certificates.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The hub's certificate chain (PEM, the hub's certificate first): `server.pem`.
    pub cert: Option<PathBuf>,
    /// The hub's private key (PEM): `server.key`.
    pub key: Option<PathBuf>,
    /// The CA certificate client certificates must chain to (the county CA, `ca.pem`).
    pub client_ca: Option<PathBuf>,
    /// Which gRPC connections must present a client certificate issued by `client_ca`.
    pub client_certs: ClientCertPolicy,
    /// The county CA's certificate revocation lists (PEM; `ca.crl.pem` from `hub cert revoke`),
    /// read at start: a revoked certificate is refused on the DICOM TLS port and by the worker
    /// service.
    pub crl_files: Vec<PathBuf>,
    /// Serve gRPC in plaintext on a non-loopback address (logged as a WARN at start): only
    /// behind a TLS-terminating proxy on a private link.
    pub allow_plaintext: bool,
}

/// Which gRPC callers must present a client certificate (mTLS).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClientCertPolicy {
    /// None (certificates presented are still verified against `tls.client_ca`).
    #[default]
    None,
    /// Remote workers (the worker service); people authenticate with their tokens alone.
    Workers,
    /// Every connection: the TLS handshake fails without one.
    All,
}

impl ClientCertPolicy {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientCertPolicy::None => "none",
            ClientCertPolicy::Workers => "workers",
            ClientCertPolicy::All => "all",
        }
    }
}

/// The region the hub serves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RegionConfig {
    /// IANA time zone whose days and months statistics and validity windows count in.
    pub time_zone: String,
}

impl Default for RegionConfig {
    fn default() -> Self {
        RegionConfig {
            time_zone: "Asia/Shanghai".into(),
        }
    }
}

/// The gRPC listener.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcConfig {
    /// Address to listen on (localhost by default: put a TLS-terminating proxy in front to expose it).
    pub listen: SocketAddr,
    /// Most concurrent requests served at once; more wait.
    pub max_concurrent_requests: usize,
    /// Most TCP connections open at once; further ones are closed at once.
    pub max_connections: usize,
    /// Most TCP connections open at once from one IP address (a county's NAT may put a clinic's
    /// machines behind one).
    pub max_connections_per_ip: usize,
    /// A connection that sends nothing for this long is closed (the hub pings three times per
    /// timeout, so live clients always answer well within it).
    #[serde(with = "human_duration")]
    pub idle_timeout: Duration,
}

/// Storage backends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// "sqlite" (the file `<data_dir>/index.sqlite3`) or a `postgres://` URL.
    pub database: String,
    /// "local" (the directory `<data_dir>/blobs`) or an `s3://bucket` URL.
    pub blobs: String,
}

/// How long a case may wait for its report, per priority.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DeadlineConfig {
    /// STAT (also applies to critical cases).
    #[serde(with = "human_duration")]
    pub stat: Duration,
    /// URGENT.
    #[serde(with = "human_duration")]
    pub urgent: Duration,
    /// ROUTINE.
    #[serde(with = "human_duration")]
    pub routine: Duration,
}

/// The reading workflow.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReadingConfig {
    /// How long a claim lasts unless renewed.
    #[serde(with = "human_duration")]
    pub claim_lease: Duration,
    /// Preliminary reports need a senior specialist's signature.
    pub two_level_review: bool,
}

/// Uploads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// A study with no new instance for this long is queued even if its session never closed.
    #[serde(with = "human_duration")]
    pub quiet_period: Duration,
    /// Largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// Uploads and C-STORE are refused while the data directory's filesystem has less free space
    /// than this, in bytes, so that reading (whose views write audit rows) keeps working; 0 turns
    /// the check off.
    pub min_free_bytes: u64,
    /// A deflated DICOM file (Deflated Explicit VR Little Endian) whose data set would inflate to
    /// more than this many bytes is refused at upload, and never inflated past it by a view or a
    /// job (a 600 KB file can inflate to 600 MB).
    pub max_inflated_bytes: u64,
    /// A blob that no index row points at (left by a refused, conflicting or interrupted upload,
    /// or a replaced preview) is removed once it is this old; the age keeps the blob of an upload
    /// still being indexed.
    #[serde(with = "human_duration")]
    pub orphan_grace: Duration,
}

/// The job runner.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Threads of the in-process worker pool; 0 for one per core, and no in-process runner when
    /// `in_process` is false (remote workers only).
    pub threads: usize,
    /// Run jobs in the hub process.
    pub in_process: bool,
    /// How long a worker holds a job before it goes to another.
    #[serde(with = "human_duration")]
    pub lease: Duration,
    /// Attempts before a job is given up.
    pub max_attempts: u32,
}

/// Patient pseudonyms.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// File holding the secret HMAC key (created with 32 random bytes if missing; default
    /// `<data_dir>/pseudonym.key`). Every replica of a region must share it.
    pub key_file: Option<PathBuf>,
    /// Version of the key a new index starts with. The index records each version's fingerprint
    /// and, after `hub key rotate`, uses its own count; this applies only to a new index.
    pub key_version: i64,
}

/// The exam-item catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// A region's catalogue file; the shipped demo catalogue when absent.
    pub path: Option<PathBuf>,
}

/// The DICOM listener: modalities push studies with C-STORE to `ae_title` at `listen`.
///
/// Each calling AE title is mapped to the institution its studies belong to (`[dicom.calling_ae]`,
/// e.g. `CT_TSA = "TS-A"`; matched without regard to case, since environment variables arrive
/// lower-cased). An association from any other AE title is rejected unless
/// `allow_any_calling_ae` is set (demos only), in which case unknown peers act for
/// `default_institution`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DicomConfig {
    /// Start the listener.
    pub enabled: bool,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The hub's AE title (called AE title peers must use).
    pub ae_title: String,
    /// Most associations served at once; more are rejected as a transient local limit. A slot is
    /// taken only once the peer's AE titles are accepted, so connections that never identify
    /// themselves cannot lock modalities out.
    pub max_associations: usize,
    /// Most TCP connections open at once, associated or not; further ones are closed at once.
    pub max_connections: usize,
    /// Most TCP connections open at once from one IP address.
    pub max_connections_per_ip: usize,
    /// Largest PDU the hub accepts, in bytes (announced in A-ASSOCIATE-AC).
    pub max_pdu_length: u32,
    /// How long a new connection may take to request an association (ARTIM).
    #[serde(with = "human_duration")]
    pub artim_timeout: Duration,
    /// An association with no PDU for this long is aborted.
    #[serde(with = "human_duration")]
    pub idle_timeout: Duration,
    /// Accept any calling AE title: unknown peers act for `default_institution`. Set only by
    /// `serve --demo` in a demo's own data directory, never from a file or the environment.
    #[serde(skip)]
    pub allow_any_calling_ae: bool,
    /// The institution of unknown peers when `allow_any_calling_ae` is set.
    pub default_institution: String,
    /// Calling AE title → institution code.
    pub calling_ae: BTreeMap<String, String>,
    /// Calling AE title → the networks (CIDRs, e.g. "10.1.2.0/24") it may call from; an AE
    /// title listed here calling from elsewhere is rejected (A-ASSOCIATE-RJ) and logged.
    pub calling_ae_networks: BTreeMap<String, Vec<ipnet::IpNet>>,
    /// The DICOM TLS port (PS3.15 B.1 secure transport, e.g. 0.0.0.0:2762), served with
    /// `[tls] cert` and `key`; absent: none.
    pub tls_listen: Option<SocketAddr>,
    /// The DICOM TLS port requires a client certificate issued by `tls.client_ca`.
    pub tls_require_client_cert: bool,
    /// Serve plain (unencrypted) DICOM on a non-loopback `listen` address (logged as a WARN at
    /// start), for modalities that cannot speak TLS; pair it with `calling_ae_networks`.
    pub allow_plaintext: bool,
}

impl Default for DicomConfig {
    fn default() -> Self {
        DicomConfig {
            enabled: true,
            listen: ([127, 0, 0, 1], 11112).into(),
            ae_title: "REMOTEDX".into(),
            max_associations: 32,
            max_connections: 128,
            max_connections_per_ip: 16,
            max_pdu_length: 128 * 1024,
            artim_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
            allow_any_calling_ae: false,
            default_institution: String::new(),
            calling_ae: BTreeMap::new(),
            calling_ae_networks: BTreeMap::new(),
            tls_listen: None,
            tls_require_client_cert: false,
            allow_plaintext: false,
        }
    }
}

impl DicomConfig {
    /// The institution code a calling AE title acts for, if it may associate at all.
    pub fn institution_of(&self, calling_ae: &str) -> Option<&str> {
        let calling = calling_ae.trim();
        self.calling_ae
            .iter()
            .find(|(ae, _)| ae.trim().eq_ignore_ascii_case(calling))
            .map(|(_, code)| code.as_str())
            .or_else(|| {
                (self.allow_any_calling_ae && !self.default_institution.is_empty())
                    .then_some(self.default_institution.as_str())
            })
    }

    /// Whether `calling_ae` may call from `peer`: yes unless `calling_ae_networks` lists the AE
    /// title (matched without regard to case) and none of its networks holds `peer`.
    pub fn network_allows(&self, calling_ae: &str, peer: std::net::IpAddr) -> bool {
        let calling = calling_ae.trim();
        // An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d.
        let peer = match peer {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, std::net::IpAddr::V4),
            v4 => v4,
        };
        self.calling_ae_networks
            .iter()
            .find(|(ae, _)| ae.trim().eq_ignore_ascii_case(calling))
            .is_none_or(|(_, networks)| networks.iter().any(|n| n.contains(&peer)))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("hub-data"),
            grpc: GrpcConfig::default(),
            storage: StorageConfig::default(),
            deadlines: DeadlineConfig::default(),
            reading: ReadingConfig::default(),
            ingest: IngestConfig::default(),
            jobs: JobsConfig::default(),
            privacy: PrivacyConfig::default(),
            catalog: CatalogConfig::default(),
            dicom: DicomConfig::default(),
            region: RegionConfig::default(),
            integrity: IntegrityConfig::default(),
            recognition: RecognitionConfig::default(),
            tls: TlsConfig::default(),
            imaging: ImagingConfig::default(),
            user_limits: UserLimitsConfig::default(),
            audit_export: AuditExportConfig::default(),
            http: HttpConfig::default(),
            viewer: viewer::ViewerConfig::default(),
            dicomweb: DicomWebConfig::default(),
        }
    }
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            listen: ([127, 0, 0, 1], 50051).into(),
            max_concurrent_requests: 256,
            max_connections: 1024,
            max_connections_per_ip: 128,
            idle_timeout: Duration::from_secs(60),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            database: "sqlite".into(),
            blobs: "local".into(),
        }
    }
}

impl Default for DeadlineConfig {
    fn default() -> Self {
        DeadlineConfig {
            stat: Duration::from_secs(30 * 60),
            urgent: Duration::from_secs(4 * 3600),
            routine: Duration::from_secs(24 * 3600),
        }
    }
}

impl Default for ReadingConfig {
    fn default() -> Self {
        ReadingConfig {
            claim_lease: Duration::from_secs(30 * 60),
            two_level_review: true,
        }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            quiet_period: Duration::from_secs(60),
            max_file_bytes: 4 << 30,
            min_free_bytes: 2 << 30,
            max_inflated_bytes: 1 << 30,
            orphan_grace: Duration::from_secs(3600),
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            threads: 0,
            in_process: true,
            lease: Duration::from_secs(5 * 60),
            max_attempts: 3,
        }
    }
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            key_file: None,
            key_version: 1,
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A layer has a bad key or value.
    #[error("invalid configuration from {layer}: {reason}")]
    Invalid {
        /// Which layer: the file's path or "environment".
        layer: String,
        /// What is wrong.
        reason: String,
    },
}

impl Config {
    /// Builds the configuration from the defaults, an optional file and the environment
    /// (`vars`, usually `std::env::vars()`). Flags are applied by the caller afterwards.
    pub fn load(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = toml::Table::try_from(Config::default()).expect("defaults serialise");
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let layer: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
                layer: path.display().to_string(),
                reason: e.to_string(),
            })?;
            merge(&mut table, layer);
        }
        merge(&mut table, env_layer(vars)?);
        let config: Config =
            table
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    layer: layer_name(file),
                    reason: e.to_string(),
                })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            layer: "configuration".into(),
            reason: reason.into(),
        };
        if self.ingest.max_inflated_bytes == 0 {
            return Err(invalid("ingest.max_inflated_bytes must be at least 1"));
        }
        if let Some(reason) = self.imaging.invalid() {
            return Err(invalid(reason));
        }
        if let Some(reason) = self.user_limits.invalid() {
            return Err(invalid(reason));
        }
        if self.jobs.max_attempts == 0 {
            return Err(invalid("jobs.max_attempts must be at least 1"));
        }
        if self.reading.claim_lease.is_zero() {
            return Err(invalid("reading.claim_lease must be positive"));
        }
        if self.storage.database != "sqlite" && !self.storage.database.starts_with("postgres") {
            return Err(invalid(
                "storage.database must be \"sqlite\" or a postgres:// URL",
            ));
        }
        if self.storage.blobs != "local" && !self.storage.blobs.starts_with("s3://") {
            return Err(invalid("storage.blobs must be \"local\" or an s3:// URL"));
        }
        let ae = self.dicom.ae_title.trim();
        if ae.is_empty()
            || ae.len() > 16
            || !ae.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\')
        {
            return Err(invalid(
                "dicom.ae_title must be 1 to 16 printable ASCII characters without a backslash",
            ));
        }
        if self.grpc.max_connections == 0
            || self.grpc.max_connections_per_ip == 0
            || self.grpc.idle_timeout < Duration::from_secs(1)
        {
            return Err(invalid(
                "grpc.max_connections and grpc.max_connections_per_ip must be at least 1, grpc.idle_timeout at least 1s",
            ));
        }
        if self.dicom.max_associations == 0
            || self.dicom.max_connections == 0
            || self.dicom.max_connections_per_ip == 0
        {
            return Err(invalid(
                "dicom.max_associations, dicom.max_connections and dicom.max_connections_per_ip must be at least 1",
            ));
        }
        if !(4096..=16 << 20).contains(&self.dicom.max_pdu_length) {
            return Err(invalid(
                "dicom.max_pdu_length must be between 4096 and 16777216 bytes",
            ));
        }
        if let Err(e) = jiff::tz::TimeZone::get(&self.region.time_zone) {
            return Err(ConfigError::Invalid {
                layer: "configuration".into(),
                reason: format!("region.time_zone {:?}: {e}", self.region.time_zone),
            });
        }
        let r = &self.recognition;
        if r.access_window.is_zero()
            || r.checks_per_user_per_hour == 0
            || r.checks_per_patient_per_day == 0
        {
            return Err(invalid(
                "recognition.access_window must be positive, recognition.checks_per_user_per_hour and recognition.checks_per_patient_per_day at least 1",
            ));
        }
        if self.dicom.artim_timeout.is_zero() || self.dicom.idle_timeout.is_zero() {
            return Err(invalid(
                "dicom.artim_timeout and dicom.idle_timeout must be positive",
            ));
        }
        self.audit_export.validate().map_err(|r| invalid(&r))?;
        Ok(())
    }

    /// The SQLite index file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("index.sqlite3")
    }

    /// The configuration as TOML with every secret (passwords in URLs, tokens, secret keys)
    /// shown as `***`: what `hub config` prints and what may be logged.
    pub fn to_redacted_toml(&self) -> Result<String, toml::ser::Error> {
        let mut table = toml::Table::try_from(self)?;
        redact::redact_table(&mut table);
        toml::to_string_pretty(&table)
    }

    /// The local blob directory.
    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }

    /// Where uploads are written while they arrive (same file system as the blobs, so a finished
    /// file is moved in by rename).
    pub fn staging_dir(&self) -> PathBuf {
        self.data_dir.join("staging")
    }

    /// The pseudonym key file.
    pub fn key_file(&self) -> PathBuf {
        self.privacy
            .key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("pseudonym.key"))
    }

    /// The integrity key file (`[integrity] key_file`, default `<data_dir>/integrity.key`).
    pub fn integrity_key_file(&self) -> PathBuf {
        self.integrity
            .key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("integrity.key"))
    }

    /// The report deadline of a priority.
    pub fn deadline(&self, priority: crate::model::Priority) -> Duration {
        use crate::model::Priority;
        match priority {
            Priority::Stat => self.deadlines.stat,
            Priority::Urgent => self.deadlines.urgent,
            Priority::Routine => self.deadlines.routine,
        }
    }
}

fn layer_name(file: Option<&Path>) -> String {
    file.map_or_else(
        || "defaults and environment".to_owned(),
        |p| format!("{} and environment", p.display()),
    )
}

/// Overlays `layer` onto `base`, table by table.
fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(l)) => merge(b, l),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Turns `REMOTEDX_HUB_A__B=v` variables into a table `{a = {b = v}}`. Values are read as TOML
/// (numbers, booleans) and fall back to strings.
fn env_layer(vars: impl IntoIterator<Item = (String, String)>) -> Result<toml::Table, ConfigError> {
    let mut table = toml::Table::new();
    for (name, value) in vars {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        if keys.iter().any(String::is_empty) {
            return Err(ConfigError::Invalid {
                layer: "environment".into(),
                reason: format!("malformed variable {name}"),
            });
        }
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(value));
        let mut node = &mut table;
        for key in &keys[..keys.len() - 1] {
            node = node
                .entry(key.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| ConfigError::Invalid {
                    layer: "environment".into(),
                    reason: format!("{name} conflicts with another variable"),
                })?;
        }
        node.insert(keys[keys.len() - 1].clone(), parsed);
    }
    Ok(table)
}

/// Serde for durations written as "30m", "4h", "90s".
mod human_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map_err(|e| serde::de::Error::custom(format!("{text:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn shipped_defaults_parse_and_validate() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.deadlines.stat, Duration::from_secs(1800));
    }

    #[test]
    fn an_unknown_time_zone_is_refused_by_name() {
        let err = Config::load(
            None,
            env(&[("REMOTEDX_HUB_REGION__TIME_ZONE", "Asia/Atlantis")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("Asia/Atlantis"), "{err}");
    }

    #[test]
    fn file_then_environment_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hub.toml");
        std::fs::write(&file, "data_dir = \"/srv/hub\"\n[deadlines]\nstat = \"15m\"\n[reading]\ntwo_level_review = false\n").unwrap();
        let c = Config::load(
            Some(&file),
            env(&[
                ("REMOTEDX_HUB_DEADLINES__STAT", "10m"),
                ("REMOTEDX_HUB_JOBS__THREADS", "3"),
                ("HUB_URL", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/srv/hub"));
        assert_eq!(c.deadlines.stat, Duration::from_secs(600));
        assert_eq!(c.deadlines.urgent, Duration::from_secs(4 * 3600));
        assert_eq!(c.jobs.threads, 3);
        assert!(!c.reading.two_level_review);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_layer() {
        let err = Config::load(None, env(&[("REMOTEDX_HUB_GRPC__LISTN", "1.2.3.4:5")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listn"), "{err}");
        let err = Config::load(None, env(&[("REMOTEDX_HUB_DEADLINES__STAT", "soon")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("soon"), "{err}");
    }

    #[test]
    fn calling_ae_networks_and_tls_settings_parse() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hub.toml");
        std::fs::write(
            &file,
            "[tls]\ncert = \"/etc/remotedx/server.pem\"\nclient_certs = \"workers\"\n[dicom]\ntls_listen = \"0.0.0.0:2762\"\n[dicom.calling_ae_networks]\nCT_TSA = [\"10.1.2.0/24\", \"fd00::/8\"]\n",
        )
        .unwrap();
        let c = Config::load(Some(&file), env(&[])).unwrap();
        assert_eq!(c.tls.client_certs, ClientCertPolicy::Workers);
        assert_eq!(c.dicom.tls_listen, Some("0.0.0.0:2762".parse().unwrap()));
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(c.dicom.network_allows("ct_tsa", ip("10.1.2.77")));
        assert!(c.dicom.network_allows("CT_TSA", ip("::ffff:10.1.2.77")));
        assert!(!c.dicom.network_allows("CT_TSA", ip("10.9.9.9")));
        assert!(c.dicom.network_allows("OTHER", ip("10.9.9.9")));
        let err = Config::load(
            None,
            env(&[(
                "REMOTEDX_HUB_DICOM__CALLING_AE_NETWORKS__CT",
                "[\"10.1.2.0\"]",
            )]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("calling_ae_networks") || err.contains("10.1.2.0"),
            "{err}"
        );
    }

    #[test]
    fn calling_ae_titles_map_to_institutions() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hub.toml");
        std::fs::write(
            &file,
            "[dicom]\nae_title = \"HUB\"\n[dicom.calling_ae]\n\"CT-1\" = \"TS-A\"\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&file),
            env(&[("REMOTEDX_HUB_DICOM__CALLING_AE__DR_B", "TS-B")]),
        )
        .unwrap();
        assert_eq!(c.dicom.ae_title, "HUB");
        assert_eq!(c.dicom.institution_of("CT-1"), Some("TS-A"));
        // Environment keys arrive lower-cased; AE titles match without regard to case.
        assert_eq!(c.dicom.institution_of("DR_B "), Some("TS-B"));
        assert_eq!(c.dicom.institution_of("STRANGER"), None);
        let mut demo = c.dicom.clone();
        demo.allow_any_calling_ae = true;
        demo.default_institution = "TS-A".into();
        assert_eq!(demo.institution_of("STRANGER"), Some("TS-A"));
        assert_eq!(demo.institution_of("DR_B"), Some("TS-B"));

        let err = Config::load(
            None,
            env(&[("REMOTEDX_HUB_DICOM__AE_TITLE", "A_TITLE_LONGER_THAN_16")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("dicom.ae_title"), "{err}");
        let err = Config::load(None, env(&[("REMOTEDX_HUB_DICOM__MAX_ASSOCIATIONS", "0")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_associations"), "{err}");
    }
}
