//! The remotedx worker: turns a job (an image series, an ECG) into derived files, measurements
//! and flags, over the pure pipelines of `worker-imaging` and `worker-ecg`.
//!
//! - [`jobs`]: the job types and [`jobs::execute`], which the hub's in-process runner and the
//!   remote worker binary both call: one job path, two places to run it.
//! - [`guard`]: [`guard::execute`], the same under `catch_unwind`: a panicking input is refused
//!   by name instead of aborting the process.
//! - [`wire`]: conversions between those types and the gRPC contract.
//! - [`remote`]: the remote worker loop (lease, fetch inputs, execute, complete).
//! - [`link`]: its connection to the hub (TLS, client certificate, no token in clear).

pub mod guard;
pub mod jobs;
pub mod link;
pub mod remote;
pub mod wire;

/// The log filter of the hub and worker binaries when `RUST_LOG` is not set: our own messages
/// from INFO up; the codecs' chatter (OpenJPEG reports two INFO lines per decoded tile through
/// `jpeg2k`) only from WARN, so it is there with `RUST_LOG=jpeg2k=debug` but does not flood
/// the log.
pub const DEFAULT_LOG_FILTER: &str = "info,jpeg2k=warn";
