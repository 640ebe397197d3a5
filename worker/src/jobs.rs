//! Jobs and their results, independent of where they run.

use std::path::PathBuf;

use serde::Serialize;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JobKind {
    /// Decode every instance of one image series (in parallel), render previews, thumbnails and
    /// the series strip.
    ImageSeries,
    /// Analyse one ECG.
    EcgAnalysis,
}

/// One input file of a job, on local disk.
#[derive(Debug, Clone)]
pub struct JobInput {
    /// Its SOP Instance UID (or record file name).
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
}

/// A derived file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactOut {
    /// Name under which the case lists it, e.g. "preview/<sop uid>.png".
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// The bytes.
    pub data: Vec<u8>,
}

/// A measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasurementOut {
    /// Machine name, e.g. "heart_rate".
    pub name: String,
    /// Value in `unit`.
    pub value: f64,
    /// Unit.
    pub unit: String,
    /// "hub" (ours) or "device".
    pub source: String,
    /// Lead, or empty.
    pub lead: String,
}

/// A finding that may raise the case's priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagOut {
    /// Stable code.
    pub code: String,
    /// Makes the case critical.
    pub critical: bool,
    /// Raises the case to at least URGENT.
    pub urgent: bool,
    /// For a doctor.
    pub message: String,
}

/// What became of one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceOutcome {
    /// The input's SOP Instance UID.
    pub sop_instance_uid: String,
    /// Decoded rows (0 for non-images).
    pub rows: u32,
    /// Decoded columns.
    pub columns: u32,
    /// Decoded frames.
    pub frames: u32,
    /// Why it could not be processed (it stays stored and is served raw); empty on success.
    pub error: String,
}

/// Everything a job produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobOutput {
    /// Derived files.
    pub artifacts: Vec<ArtifactOut>,
    /// Measurements.
    pub measurements: Vec<MeasurementOut>,
    /// Findings.
    pub flags: Vec<FlagOut>,
    /// One outcome per input.
    pub instances: Vec<InstanceOutcome>,
}

/// Runs a job to completion. Never fails as a whole: an input that cannot be processed gets an
/// outcome with its error and the rest go on.
pub fn execute(kind: JobKind, subject: &str, inputs: &[JobInput]) -> JobOutput {
    match kind {
        JobKind::ImageSeries => image_series(subject, inputs),
        JobKind::EcgAnalysis => ecg_analysis(inputs),
    }
}

/// Decodes a series' instances in parallel (rayon, inside `worker-imaging`), keeps a preview and a
/// thumbnail of each, and builds the series strip from the thumbnails in instance order.
fn image_series(series_uid: &str, inputs: &[JobInput]) -> JobOutput {
    let paths: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
    let results = worker_imaging::process_instances(&paths);
    let mut out = JobOutput::default();
    let mut thumbnails = Vec::new();
    let mut failures = Vec::new();
    for (input, result) in inputs.iter().zip(results) {
        match result {
            Ok(done) => {
                out.artifacts
                    .push(png(format!("preview/{}.png", input.name), done.preview_png));
                thumbnails.push(done.thumbnail_png.clone());
                out.artifacts
                    .push(png(format!("thumb/{}.png", input.name), done.thumbnail_png));
                out.instances.push(InstanceOutcome {
                    sop_instance_uid: input.name.clone(),
                    rows: done.rows,
                    columns: done.columns,
                    frames: done.frames,
                    error: String::new(),
                });
            }
            Err(e) => {
                // The worker's path means nothing to a reader (and is the server's business).
                let error = format!(
                    "SOP Instance {}: {}",
                    input.name,
                    e.to_string()
                        .replace(&input.path.display().to_string(), "the stored file")
                );
                failures.push(error.clone());
                out.instances.push(InstanceOutcome {
                    sop_instance_uid: input.name.clone(),
                    error,
                    ..InstanceOutcome::default()
                });
            }
        }
    }
    if !thumbnails.is_empty() {
        match worker_imaging::series_strip(&thumbnails) {
            Ok(strip) => out
                .artifacts
                .push(png(format!("strip/{series_uid}.png"), strip)),
            Err(e) => failures.push(format!("series {series_uid}: no strip: {e}")),
        }
    }
    if let Some(first) = failures.first() {
        out.flags.push(FlagOut {
            code: "image_not_decoded".into(),
            critical: false,
            urgent: false,
            message: format!(
                "{} of {} images could not be decoded and are served as stored; first: {first}",
                failures.len(),
                inputs.len()
            ),
        });
    }
    out
}

fn png(name: String, data: Vec<u8>) -> ArtifactOut {
    ArtifactOut {
        name,
        media_type: "image/png".into(),
        data,
    }
}

fn ecg_analysis(inputs: &[JobInput]) -> JobOutput {
    let instances = inputs
        .iter()
        .map(|i| InstanceOutcome {
            sop_instance_uid: i.name.clone(),
            error: format!(
                "{}: the ECG pipeline is not part of this build",
                i.path.display()
            ),
            ..InstanceOutcome::default()
        })
        .collect();
    JobOutput {
        instances,
        ..JobOutput::default()
    }
}
