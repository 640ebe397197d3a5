//! The remotedx worker: turns a job (an image series, an ECG) into derived files, measurements
//! and flags, over the pure pipelines of `worker-imaging` and `worker-ecg`.
//!
//! - [`jobs`]: the job types and [`jobs::execute`], which the hub's in-process runner and the
//!   remote worker binary both call: one job path, two places to run it.
//! - [`wire`]: conversions between those types and the gRPC contract.
//! - [`remote`]: the remote worker loop (lease, fetch inputs, execute, complete).

pub mod jobs;
pub mod remote;
pub mod wire;
