//! The `worker` binary: a remote worker that leases decode and analysis jobs from a hub.

use std::path::PathBuf;

use clap::Parser;

/// remotedx remote worker: takes image and ECG jobs from a hub when one machine is not enough.
#[derive(Debug, Parser)]
#[command(name = "worker", version, about)]
struct Cli {
    /// The hub's gRPC URL.
    #[arg(long, env = "HUB_URL", default_value = "http://127.0.0.1:50051")]
    hub: String,
    /// A token of a user with the worker role (`hub user add --role worker`).
    #[arg(long, env = "HUB_TOKEN", hide_env_values = true)]
    token: String,
    /// This worker's name in the hub's logs.
    #[arg(long, default_value = "worker")]
    name: String,
    /// Threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// The CA certificate (PEM) an https:// hub's certificate is checked against (the county
    /// CA's ca.pem; default: the system's roots).
    #[arg(long, env = "HUB_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// This worker's client certificate (PEM), from `hub cert worker`, for hubs that require
    /// one (mTLS).
    #[arg(long, env = "WORKER_CERT", requires = "key")]
    cert: Option<PathBuf>,
    /// The private key of --cert.
    #[arg(long, env = "WORKER_KEY", requires = "cert")]
    key: Option<PathBuf>,
    /// Send the token over plaintext http:// to a hub on another machine (refused otherwise):
    /// only on a private link you trust.
    #[arg(long)]
    insecure_plaintext: bool,
    /// Scratch directory for job inputs.
    #[arg(long, default_value_os_t = std::env::temp_dir().join("remotedx-worker"))]
    scratch: PathBuf,
    /// The most bytes one decoded frame may take (the hub's `imaging.max_frame_bytes`): a larger
    /// frame is refused by name, from its attributes, before it is decoded.
    #[arg(long, env = "WORKER_MAX_FRAME_BYTES", default_value_t = worker_imaging::DEFAULT_MAX_FRAME_BYTES)]
    max_frame_bytes: u64,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| worker::DEFAULT_LOG_FILTER.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    worker_imaging::set_max_frame_bytes(cli.max_frame_bytes);
    let cfg = worker::remote::RemoteConfig {
        hub_url: cli.hub,
        token: cli.token,
        name: cli.name,
        threads: cli.threads,
        scratch: cli.scratch,
        security: worker::link::LinkSecurity {
            ca_file: cli.ca_file,
            identity: cli.cert.zip(cli.key),
            allow_plaintext: cli.insecure_plaintext,
        },
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match worker::remote::run(cfg, shutdown).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("worker: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
