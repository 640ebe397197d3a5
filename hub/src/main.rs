//! The `hub` binary: parse flags, load configuration, bind listeners, call [`hub::run`].

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use hub::config::Config;
use hub::domain::auth::NewUser;
use hub::model::{Institution, Principal, Role};

/// remotedx hub: township clinics upload studies and ECGs, county specialists read and report them.
#[derive(Debug, Parser)]
#[command(name = "hub", version, about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Options every command takes.
#[derive(Debug, Args)]
struct Global {
    /// Configuration file (TOML); environment variables REMOTEDX_HUB_* override it.
    #[arg(long, global = true, env = "REMOTEDX_HUB_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (index, blobs, pseudonym key). Overrides the configuration.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve gRPC (the default command).
    Serve(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage institutions.
    #[command(subcommand)]
    Institution(InstitutionCommand),
    /// Print the effective configuration (defaults, file and environment merged) as TOML.
    Config,
    /// Walk the hash chains of the audit trail, report versions and ledger; name the first
    /// broken link of each (exit status 1 if any is broken).
    Verify,
    /// Manage the pseudonym key.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Create a county's local CA and the hub's, workers' and modalities' TLS certificates.
    #[command(subcommand)]
    Cert(CertCommand),
    /// The export of the audit trail to the county's log server ([audit_export]).
    #[command(subcommand, name = "audit-export")]
    AuditExport(AuditExportCommand),
}

#[derive(Debug, Subcommand)]
enum AuditExportCommand {
    /// Where the export stands: entries sent, when, the last error, entries still to send.
    Status,
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Rotate the pseudonym key: a new key, every stored pseudonym re-keyed with it (stop every
    /// hub serving this index first). The old key is kept as <key file>.v<version>: back up both.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum CertCommand {
    /// Create the county CA (ca.pem, and ca.key which never leaves this directory).
    Init {
        /// Directory for the CA and the certificates it issues.
        #[arg(long)]
        dir: PathBuf,
        /// The county, e.g. "Qingshan County" (in the CA's name).
        #[arg(long)]
        county: String,
    },
    /// Issue the hub's server certificate (server.pem, server.key).
    Server {
        /// The CA's directory.
        #[arg(long)]
        dir: PathBuf,
        /// A DNS name or IP address clients reach the hub by (repeat for each).
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
    },
    /// Issue a remote worker's client certificate (worker-NAME.pem, .key) for mTLS.
    Worker {
        /// The CA's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The worker's name.
        #[arg(long)]
        name: String,
    },
    /// Issue a modality's client certificate (modality-NAME.pem, .key) for the DICOM TLS port.
    Modality {
        /// The CA's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The modality's name (its AE title, say).
        #[arg(long)]
        name: String,
    },
    /// Revoke a certificate this CA issued (NAME: its file stem, e.g. worker-w1 or
    /// modality-CT_TSA) and write the CA's revocation list, ca.crl.pem, for `[tls] crl_files`.
    Revoke {
        /// The CA's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The certificate's file name without .pem.
        name: String,
    },
    /// Issue the hub's client certificate (audit-NAME.pem, .key) for a county log server that
    /// asks for one ([audit_export] client_cert, client_key).
    Audit {
        /// The CA's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The hub's name (its host name, say).
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Args, Default)]
struct ServeArgs {
    /// gRPC address to listen on (default 127.0.0.1:50051).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// DICOM address to listen on (default 127.0.0.1:11112; `[dicom] enabled = false` turns it off).
    #[arg(long)]
    dicom_listen: Option<SocketAddr>,
    /// HTTP address to listen on: DICOMweb under /dicomweb (default 127.0.0.1:8080; `[http]
    /// enabled = false` turns it off).
    #[arg(long)]
    http_listen: Option<SocketAddr>,
    /// DICOM TLS address to listen on (dicom.tls_listen; needs [tls] cert and key).
    #[arg(long)]
    dicom_tls_listen: Option<SocketAddr>,
    /// Serve gRPC without TLS on a non-loopback address (tls.allow_plaintext): only behind a
    /// TLS-terminating proxy on a private link.
    #[arg(long)]
    insecure_plaintext: bool,
    /// Seed a demo region (institutions, users with well-known tokens, sample studies) if absent.
    /// Also lets any calling AE title store over DICOM, for the demo's first township.
    #[arg(long)]
    demo: bool,
    /// Where the sample studies for --demo are.
    #[arg(long, default_value = hub::demo::SAMPLE_DATA)]
    demo_data: PathBuf,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user and print their token (shown once; only its hash is stored).
    Add {
        /// Display name.
        #[arg(long)]
        name: String,
        /// clinic, specialist, admin or worker.
        #[arg(long)]
        role: Role,
        /// Institution code.
        #[arg(long)]
        institution: String,
        /// A senior specialist, who may sign reports final.
        #[arg(long)]
        senior: bool,
    },
    /// List users.
    List,
    /// Disable a user: their token stops working and their open streams end within a second
    /// on every hub serving this index; audited.
    Disable {
        /// User id.
        id: i64,
    },
    /// Give a user another role (clinic, specialist, admin, auditor, worker); audited. Their open
    /// streams end and their token is looked up again, with the new role.
    SetRole {
        /// User id.
        id: i64,
        /// The new role.
        role: Role,
    },
    /// Move a user to another institution; audited. Their open streams end and their token is
    /// looked up again, with the new institution.
    Move {
        /// User id.
        id: i64,
        /// The new institution's code.
        institution: String,
    },
}

#[derive(Debug, Subcommand)]
enum InstitutionCommand {
    /// Add or rename an institution.
    Add {
        /// Short code, e.g. TS-C.
        #[arg(long)]
        code: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// township, county, city or province.
        #[arg(long, default_value = "township")]
        level: String,
    },
    /// List institutions.
    List,
}

fn main() -> std::process::ExitCode {
    // One crypto provider for every TLS configuration in the process (tonic builds its own).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| worker::DEFAULT_LOG_FILTER.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hub: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hub: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.global.config.as_deref(), std::env::vars())?;
    if let Some(dir) = cli.global.data_dir {
        config.data_dir = dir;
    }
    match cli.command.unwrap_or(Command::Serve(ServeArgs {
        demo_data: hub::demo::SAMPLE_DATA.into(),
        ..ServeArgs::default()
    })) {
        Command::Serve(args) => serve(config, args).await,
        Command::User(cmd) => user(config, cmd).await,
        Command::Institution(cmd) => institution(config, cmd).await,
        Command::Config => {
            print!("{}", config.to_redacted_toml()?);
            Ok(())
        }
        Command::Verify => verify(config).await,
        Command::Key(KeyCommand::Rotate) => rotate_key(config).await,
        Command::Cert(cmd) => cert(cmd),
        Command::AuditExport(AuditExportCommand::Status) => audit_export_status(config).await,
    }
}

/// `hub audit-export status`: one line per log server the trail was sent to.
async fn audit_export_status(config: Config) -> anyhow::Result<()> {
    let enabled = config
        .audit_export
        .enabled
        .then(|| config.audit_export.server.clone());
    let hub = hub::startup::open(config).await?;
    let statuses = hub.audit_export_status(&Principal::system()).await?;
    match &enabled {
        Some(server) => println!("audit export: on, to {server}"),
        None => println!("audit export: off ([audit_export] enabled = false)"),
    }
    for s in &statuses {
        let c = &s.cursor;
        let when = |ms: i64| {
            if ms == 0 {
                "never".to_owned()
            } else {
                hub::domain::audit_export::message::date_time(ms)
            }
        };
        println!(
            "{}: sent up to entry {} (last at {}), {} waiting",
            c.target,
            c.last_seq,
            when(c.sent_at_ms),
            s.lag
        );
        if !c.error.is_empty() {
            println!("  last error at {}: {}", when(c.error_at_ms), c.error);
        }
    }
    Ok(())
}

async fn verify(config: Config) -> anyhow::Result<()> {
    let (store, _) = hub::startup::open_store(&config).await?;
    let reports = hub::domain::integrity::verify(&store).await?;
    for r in &reports {
        println!("{r}");
    }
    let broken = reports.iter().filter(|r| r.broken.is_some()).count();
    anyhow::ensure!(
        broken == 0,
        "{broken} of {} hash chains are broken: records were altered outside the hub. Keep a copy of \
         the data directory as evidence and restore the index from the last backup that `hub verify` passes",
        reports.len()
    );
    Ok(())
}

async fn rotate_key(config: Config) -> anyhow::Result<()> {
    let (store, pseudonyms) = hub::startup::open_store(&config).await?;
    hub::startup::refuse_broken_chains(&store).await?;
    let version = hub::keys::rotate(&store, &config, &pseudonyms).await?;
    println!(
        "pseudonym key rotated to version {version}; back up {} and {}.v{}",
        config.key_file().display(),
        config.key_file().display(),
        pseudonyms.version()
    );
    Ok(())
}

/// `hub cert`: issues, then says what to copy where.
fn cert(cmd: CertCommand) -> anyhow::Result<()> {
    use hub::tls::issue::{self, ClientKind};
    let (issued, next) = match &cmd {
        CertCommand::Init { dir, county } => (
            issue::init(dir, county)?,
            "Keep ca.key in this directory only (back it up offline). Copy ca.pem to the hub \
             ([tls] client_ca), to every worker (--ca-file) and to every viewer-cli user (--ca-file / HUB_CA_FILE).",
        ),
        CertCommand::Server { dir, hosts } => (
            issue::server(dir, hosts)?,
            "On the hub: [tls] cert = server.pem, key = server.key (readable by the hub's user only).",
        ),
        CertCommand::Worker { dir, name } => (
            issue::client(dir, ClientKind::Worker, name)?,
            "On the worker's machine: worker --hub https://HUB:50051 --ca-file ca.pem --cert <this .pem> --key <this .key>.",
        ),
        CertCommand::Modality { dir, name } => (
            issue::client(dir, ClientKind::Modality, name)?,
            "On the modality: its TLS client certificate and key for the hub's DICOM TLS port, with ca.pem as the trusted CA.",
        ),
        CertCommand::Revoke { dir, name } => return revoke_cert(dir, name),
        CertCommand::Audit { dir, name } => (
            issue::client(dir, ClientKind::AuditExport, name)?,
            "On the hub: [audit_export] client_cert = <this .pem>, client_key = <this .key>; the log server trusts ca.pem for clients.",
        ),
    };
    println!("wrote {}", issued.cert.display());
    println!("wrote {} (private key, mode 0600)", issued.key.display());
    println!("{next}");
    Ok(())
}

/// `hub cert revoke`: revokes, then says where the new CRL goes.
fn revoke_cert(dir: &std::path::Path, name: &str) -> anyhow::Result<()> {
    let crl = hub::tls::revoke::revoke(dir, name)?;
    println!("revoked {name}; wrote {}", crl.display());
    println!(
        "Copy it to every hub ([tls] crl_files) and restart them: the certificate is then refused \
         on the DICOM TLS port and by the worker service."
    );
    Ok(())
}

async fn serve(mut config: Config, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(listen) = args.listen {
        config.grpc.listen = listen;
    }
    if let Some(listen) = args.dicom_tls_listen {
        config.dicom.tls_listen = Some(listen);
    }
    config.tls.allow_plaintext |= args.insecure_plaintext;
    let tls = hub::tls::ServerTls::load(&config.tls)?.map(std::sync::Arc::new);
    if tls.is_none() {
        hub::tls::check_plaintext(
            "gRPC",
            config.grpc.listen,
            config.tls.allow_plaintext,
            "--insecure-plaintext or tls.allow_plaintext = true",
        )?;
    }
    let grpc = tokio::net::TcpListener::bind(config.grpc.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is another hub running?)",
                config.grpc.listen
            )
        })?;
    if let Some(listen) = args.dicom_listen {
        config.dicom.listen = listen;
    }
    if args.demo {
        config.dicom.allow_any_calling_ae = true;
        if config.dicom.default_institution.is_empty()
            && let Some((code, _, _)) = hub::demo::INSTITUTIONS
                .iter()
                .find(|(_, _, level)| *level == "township")
        {
            config.dicom.default_institution = (*code).to_owned();
        }
    }
    let dicom_tls = dicom_tls_listener(&config, tls.is_some()).await?;
    let dicom = if config.dicom.enabled {
        hub::tls::check_plaintext(
            "DICOM",
            config.dicom.listen,
            config.dicom.allow_plaintext,
            "dicom.allow_plaintext = true (with [dicom.calling_ae_networks]); peers that speak TLS use dicom.tls_listen",
        )?;
        let listener = tokio::net::TcpListener::bind(config.dicom.listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen for DICOM on {} (another hub or PACS? set [dicom] listen, or enabled = false)",
                    config.dicom.listen
                )
            })?;
        Some((listener.local_addr()?, listener))
    } else {
        None
    };
    if let Some(listen) = args.http_listen {
        config.http.listen = listen;
    }
    let http = http_listener(&config, tls.is_some()).await?;
    let ae_title = config.dicom.ae_title.clone();
    let data_dir = config.data_dir.clone();
    hub::demo::guard::check_data_dir(&config, args.demo)?;
    let hub = hub::startup::open(config).await?;
    if !args.demo {
        hub::demo::guard::refuse_public_tokens(&hub).await?;
    }
    let addr = grpc.local_addr()?;
    if args.demo {
        let seeded = hub::demo::seed(&hub, &args.demo_data).await?;
        eprint!("{}", hub::demo::banner(addr, &seeded));
    }
    // Tests and scripts read these lines to find the ports when they asked for port 0; the DICOM
    // line comes first.
    if let Some((dicom_addr, _)) = &dicom {
        println!("dicom listening on {dicom_addr} (AE {ae_title})");
    }
    if let Some((tls_addr, _)) = &dicom_tls {
        println!("dicom-tls listening on {tls_addr} (AE {ae_title})");
    }
    if let Some((http_addr, _)) = &http {
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!(
            "http listening on {http_addr} (DICOMweb at {scheme}://{http_addr}/dicomweb, \
             the viewer at {scheme}://{http_addr}/viewer)"
        );
    }
    let security = if tls.is_some() { "TLS" } else { "plaintext" };
    println!(
        "hub listening on {addr} ({security}; data in {})",
        data_dir.display()
    );
    let listeners = hub::Listeners {
        grpc,
        dicom: dicom.map(|(_, listener)| listener),
        dicom_tls: dicom_tls.map(|(_, listener)| listener),
        http: http.map(|(_, listener)| listener),
        tls,
    };
    hub::run(hub, listeners, shutdown_signal()).await
}

/// Binds the HTTP port (`http.listen`), refusing plaintext off loopback as gRPC does.
async fn http_listener(
    config: &Config,
    has_tls: bool,
) -> anyhow::Result<Option<(SocketAddr, tokio::net::TcpListener)>> {
    if !config.http.enabled {
        return Ok(None);
    }
    let listen = config.http.listen;
    if !has_tls {
        hub::tls::check_plaintext(
            "HTTP",
            listen,
            config.http.allow_plaintext,
            "http.allow_plaintext = true",
        )?;
    }
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| {
        format!(
            "cannot listen for HTTP on {listen} (another hub or web server? use --http-listen or set [http] listen, or enabled = false)"
        )
    })?;
    Ok(Some((listener.local_addr()?, listener)))
}

/// Binds the DICOM TLS port (`dicom.tls_listen`), which needs the hub's certificate.
async fn dicom_tls_listener(
    config: &Config,
    has_tls: bool,
) -> anyhow::Result<Option<(SocketAddr, tokio::net::TcpListener)>> {
    let Some(listen) = config.dicom.tls_listen.filter(|_| config.dicom.enabled) else {
        return Ok(None);
    };
    anyhow::ensure!(
        has_tls,
        "dicom.tls_listen ({listen}) needs the hub's certificate: set [tls] cert and key (see `hub cert server`)"
    );
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for DICOM TLS on {listen} (dicom.tls_listen)"))?;
    Ok(Some((listener.local_addr()?, listener)))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

async fn user(config: Config, cmd: UserCommand) -> anyhow::Result<()> {
    let hub = hub::startup::open(config).await?;
    match cmd {
        UserCommand::Add {
            name,
            role,
            institution,
            senior,
        } => {
            let (id, token) = hub
                .create_user(&NewUser {
                    name,
                    role,
                    institution_code: institution,
                    senior,
                })
                .await?;
            println!("created user {id}");
            println!("token: {token}");
            eprintln!("The token is shown only now; the hub keeps only its hash.");
        }
        UserCommand::List => {
            println!(
                "  id  {:<28} {:<11} {:<8} {:<6} status",
                "name", "role", "inst.", "senior"
            );
            for u in hub.users(&Principal::system()).await? {
                let status = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:>4}  {:<28} {:<11} {:<8} {:<6} {status}",
                    u.id, u.name, u.role, u.institution_code, u.senior
                );
            }
        }
        UserCommand::Disable { id } => {
            // Audited; serving hubs on this index end the user's sessions within a second.
            hub.disable_user(&Principal::system(), id).await?;
            println!("user {id} disabled");
        }
        UserCommand::SetRole { id, role } => {
            hub.set_user_role(&Principal::system(), id, role).await?;
            println!("user {id} is now a {role} user");
        }
        UserCommand::Move { id, institution } => {
            hub.move_user(&Principal::system(), id, &institution)
                .await?;
            println!("user {id} now belongs to {institution}");
        }
    }
    Ok(())
}

async fn institution(config: Config, cmd: InstitutionCommand) -> anyhow::Result<()> {
    let hub = hub::startup::open(config).await?;
    match cmd {
        InstitutionCommand::Add { code, name, level } => {
            hub.upsert_institution(&Institution {
                code: code.clone(),
                name,
                level,
            })
            .await?;
            println!("institution {code} saved");
        }
        InstitutionCommand::List => {
            for i in hub.institutions().await? {
                println!("{:<8} {:<10} {}", i.code, i.level, i.name);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
