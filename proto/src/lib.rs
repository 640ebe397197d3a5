//! The remotedx gRPC contract.
//!
//! The `.proto` files under `remotedx/v1/` are the source of truth; this crate compiles them at build
//! time with `protox` (no system `protoc`) and exposes the generated messages, clients and servers.
//!
//! Services, by audience:
//! - [`v1::upload_service_server::UploadService`]: township clinics push studies.
//! - [`v1::case_service_server::CaseService`]: everyone looks at the cases their role allows.
//! - [`v1::reading_service_server::ReadingService`]: county specialists' queue, claims and reports.
//! - [`v1::account_service_server::AccountService`]: who a token belongs to.
//! - [`v1::admin_service_server::AdminService`]: administrators' audit trail and statistics.
//! - [`v1::recognition_service_server::RecognitionService`]: result mutual recognition.
//! - [`v1::worker_service_server::WorkerService`]: remote workers lease decode and analysis jobs.

/// `remotedx.v1`: the first version of the contract.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("remotedx.v1");
}

/// The bearer-token metadata key every call carries: `authorization: Bearer <token>`.
pub const AUTHORIZATION: &str = "authorization";

/// Largest gRPC message either side accepts (artifacts and chunks stay well below it).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Size of the chunks files are streamed in.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// Initial metadata of a `WatchReports` response: the report id the stream starts after, the cursor
/// a watcher resumes from (`after_report_id`) if it loses the stream before any report arrives.
pub const REPORT_CURSOR: &str = "remotedx-report-cursor";

/// Trailer of a stream the hub ended because it is shutting down (value `1`): the watcher says so
/// and reconnects when the hub is back, instead of treating it as a failure.
pub const SHUTTING_DOWN: &str = "remotedx-shutting-down";
