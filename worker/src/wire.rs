//! Conversions between [`crate::jobs`] types and the gRPC contract, shared by the hub (which
//! receives remote results) and the remote worker (which sends them).

use remotedx_proto::v1 as pb;

use crate::jobs::{ArtifactOut, FlagOut, InstanceOutcome, JobKind, JobOutput, MeasurementOut};

/// The worker's job kind of a proto one.
pub fn kind_from(kind: i32) -> Option<JobKind> {
    match pb::JobKind::try_from(kind).ok()? {
        pb::JobKind::ImageSeries => Some(JobKind::ImageSeries),
        pb::JobKind::EcgAnalysis => Some(JobKind::EcgAnalysis),
        pb::JobKind::Unspecified => None,
    }
}

/// The proto job kind of the worker's.
pub fn kind_to(kind: JobKind) -> pb::JobKind {
    match kind {
        JobKind::ImageSeries => pb::JobKind::ImageSeries,
        JobKind::EcgAnalysis => pb::JobKind::EcgAnalysis,
    }
}

/// A job's results as the completion request of job `job_id`.
pub fn output_to(job_id: i64, out: JobOutput) -> pb::CompleteJobRequest {
    pb::CompleteJobRequest {
        job_id,
        artifacts: out
            .artifacts
            .into_iter()
            .map(|a| pb::Artifact {
                name: a.name,
                media_type: a.media_type,
                data: a.data,
            })
            .collect(),
        measurements: out
            .measurements
            .into_iter()
            .map(|m| pb::Measurement {
                name: m.name,
                value: m.value,
                unit: m.unit,
                source: m.source,
                lead: m.lead,
            })
            .collect(),
        flags: out
            .flags
            .into_iter()
            .map(|f| pb::Flag {
                code: f.code,
                critical: f.critical,
                message: f.message,
                urgent: f.urgent,
            })
            .collect(),
        instances: out
            .instances
            .into_iter()
            .map(|i| pb::InstanceOutcome {
                sop_instance_uid: i.sop_instance_uid,
                rows: i.rows,
                columns: i.columns,
                frames: i.frames,
                error: i.error,
            })
            .collect(),
    }
}

/// A completion request's results.
pub fn output_from(req: pb::CompleteJobRequest) -> JobOutput {
    JobOutput {
        artifacts: req
            .artifacts
            .into_iter()
            .map(|a| ArtifactOut {
                name: a.name,
                media_type: a.media_type,
                data: a.data,
            })
            .collect(),
        measurements: req
            .measurements
            .into_iter()
            .map(|m| MeasurementOut {
                name: m.name,
                value: m.value,
                unit: m.unit,
                source: m.source,
                lead: m.lead,
            })
            .collect(),
        flags: req
            .flags
            .into_iter()
            .map(|f| FlagOut {
                code: f.code,
                critical: f.critical,
                urgent: f.urgent,
                message: f.message,
            })
            .collect(),
        instances: req
            .instances
            .into_iter()
            .map(|i| InstanceOutcome {
                sop_instance_uid: i.sop_instance_uid,
                rows: i.rows,
                columns: i.columns,
                frames: i.frames,
                error: i.error,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_survive_the_round_trip() {
        let out = JobOutput {
            artifacts: vec![ArtifactOut {
                name: "preview/1.png".into(),
                media_type: "image/png".into(),
                data: vec![1, 2, 3],
            }],
            measurements: vec![MeasurementOut {
                name: "heart_rate".into(),
                value: 61.5,
                unit: "/min".into(),
                source: "hub".into(),
                lead: String::new(),
            }],
            flags: vec![FlagOut {
                code: "tachycardia".into(),
                critical: false,
                urgent: true,
                message: "HR 130".into(),
            }],
            instances: vec![InstanceOutcome {
                sop_instance_uid: "1.2".into(),
                rows: 2,
                columns: 3,
                frames: 1,
                error: String::new(),
            }],
        };
        assert_eq!(output_from(output_to(7, out.clone())), out);
        assert_eq!(
            kind_from(kind_to(JobKind::EcgAnalysis).into()),
            Some(JobKind::EcgAnalysis)
        );
    }
}
