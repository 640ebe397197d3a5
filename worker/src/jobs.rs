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
                let error = input_error(input, &e);
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

/// Why an input failed, for a reader: named by its SOP Instance UID, without the worker's path
/// (which means nothing to a reader and is the server's business).
fn input_error(input: &JobInput, e: &dyn std::fmt::Display) -> String {
    format!(
        "SOP Instance {}: {}",
        input.name,
        e.to_string()
            .replace(&input.path.display().to_string(), "the stored file")
    )
}

fn png(name: String, data: Vec<u8>) -> ArtifactOut {
    ArtifactOut {
        name,
        media_type: "image/png".into(),
        data,
    }
}

/// Analyses each ECG (the leads of one ECG in parallel, inside `worker-ecg`): our measurements and
/// the device's beside them, triage flags, and the 12-lead paper layout as SVG and PNG.
fn ecg_analysis(inputs: &[JobInput]) -> JobOutput {
    let mut out = JobOutput::default();
    for input in inputs {
        let analysed = worker_ecg::read_recording(&input.path)
            .and_then(|recording| worker_ecg::analyse(&recording.ecg).map(|a| (recording, a)));
        match analysed {
            Ok((recording, analysis)) => {
                out.measurements.extend(ecg_measurements(&analysis));
                out.flags.extend(analysis.flags.iter().map(|f| FlagOut {
                    code: f.code.clone(),
                    critical: f.critical,
                    urgent: f.urgent,
                    message: flag_message(f),
                }));
                if !recording.others.is_empty() {
                    out.flags.push(FlagOut {
                        code: "ecg_other_channels".into(),
                        critical: false,
                        urgent: false,
                        message: format!(
                            "also recorded, not ECG (stored, not measured): {}",
                            other_channels(&recording).join(", ")
                        ),
                    });
                }
                ecg_pages(&mut out, input, &recording, &analysis);
                out.instances.push(InstanceOutcome {
                    sop_instance_uid: input.name.clone(),
                    ..InstanceOutcome::default()
                });
            }
            Err(e) => {
                let error = input_error(input, &e);
                out.flags.push(FlagOut {
                    code: "ecg_not_analysed".into(),
                    critical: false,
                    urgent: false,
                    message: format!(
                        "the ECG could not be analysed and is served as stored: {error}"
                    ),
                });
                out.instances.push(InstanceOutcome {
                    sop_instance_uid: input.name.clone(),
                    error,
                    ..InstanceOutcome::default()
                });
            }
        }
    }
    out
}

/// The ECG's pages, each as SVG and PNG: page 1 (the 12-lead page) as `ecg/<name>.svg|png`,
/// the rhythm pages of the whole recording as `ecg/<name>/rhythm-NN.svg|png`. The pages
/// identify the patient from the stored object; should that fail, they say what is missing and
/// a note says why.
/// The channels of a recording that are not its ECG leads, as `name (unit, rate)`.
fn other_channels(recording: &worker_ecg::Recording) -> Vec<String> {
    recording
        .others
        .iter()
        .map(|c| format!("{} ({}, {} Hz)", c.name, c.unit, c.fs))
        .collect()
}

fn ecg_pages(
    out: &mut JobOutput,
    input: &JobInput,
    recording: &worker_ecg::Recording,
    analysis: &worker_ecg::Analysis,
) {
    let ecg = &recording.ecg;
    let mut info = worker_ecg::read_page_info(&input.path).unwrap_or_else(|e| {
        out.flags.push(FlagOut {
            code: "ecg_page_unidentified".into(),
            critical: false,
            urgent: false,
            message: format!(
                "the ECG pages could not read who the patient is: {}",
                input_error(input, &e)
            ),
        });
        worker_ecg::PageInfo::default()
    });
    info.other_channels = other_channels(recording);
    let pages = worker_ecg::render::pages(ecg, analysis, &info);
    for (k, page) in pages.iter().enumerate() {
        let stem = match k {
            0 => format!("ecg/{}", input.name),
            _ => format!("ecg/{}/rhythm-{k:02}", input.name),
        };
        out.artifacts.push(ArtifactOut {
            name: format!("{stem}.svg"),
            media_type: "image/svg+xml".into(),
            data: worker_ecg::render::page_svg(page).into_bytes(),
        });
        match worker_ecg::render::page_png(page) {
            Ok(png_page) => out.artifacts.push(png(format!("{stem}.png"), png_page)),
            Err(e) => out.flags.push(FlagOut {
                code: "ecg_page_png_failed".into(),
                critical: false,
                urgent: false,
                message: format!("page {} of the ECG could not be drawn as PNG: {e}", k + 1),
            }),
        }
    }
}

/// Our measurements ("hub") and the device's ("device"), in the units a reader expects.
fn ecg_measurements(a: &worker_ecg::Analysis) -> Vec<MeasurementOut> {
    let mut m = Vec::new();
    let mut push = |name: &str, value: Option<f64>, unit: &str, source: &str, lead: &str| {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            m.push(MeasurementOut {
                name: name.into(),
                value: (value * 10.0).round() / 10.0,
                unit: unit.into(),
                source: source.into(),
                lead: lead.into(),
            });
        }
    };
    let rhythm = a.rhythm.as_ref();
    push("heart_rate", rhythm.map(|r| r.hr_bpm), "bpm", "hub", "");
    push("rr", rhythm.map(|r| r.rr_ms), "ms", "hub", "");
    if let Some(x) = &a.measurements {
        push("pr", x.pr_ms, "ms", "hub", "");
        push("qrs", Some(x.qrs_ms), "ms", "hub", "");
        push("qt", x.qt_ms, "ms", "hub", "");
        push("axis", x.axis_deg, "deg", "hub", "");
        for (lead, st) in &x.st_uv {
            push("st_j60", Some(f64::from(*st)), "uV", "hub", lead);
        }
    }
    push("qtc_bazett", a.qtc_bazett_ms, "ms", "hub", "");
    push("qtc_fridericia", a.qtc_fridericia_ms, "ms", "hub", "");
    // Repolarisation alone (QT − QRS), and the QTc adjusted for a wide QRS (only then).
    push("jt", a.jt_ms, "ms", "hub", "");
    push("qtc_wide_qrs", a.qtc_wide_qrs_ms, "ms", "hub", "");
    // Ectopic beats (室性早搏 PVC, 房性早搏 PAC) and their couplets and runs.
    if let Some(e) = &a.ectopy {
        for (kind, x) in [("pvc", &e.ventricular), ("pac", &e.supraventricular)] {
            let n = |v: usize| Some(v as f64);
            push(&format!("{kind}_count"), n(x.beats), "beats", "hub", "");
            push(
                &format!("{kind}_couplets"),
                n(x.couplets),
                "count",
                "hub",
                "",
            );
            push(&format!("{kind}_runs"), n(x.runs), "count", "hub", "");
        }
    }
    if let Some(d) = &a.device {
        push("heart_rate", d.hr_bpm, "bpm", "device", "");
        push("rr", d.rr_ms, "ms", "device", "");
        push("pr", d.pr_ms, "ms", "device", "");
        push("qrs", d.qrs_ms, "ms", "device", "");
        push("qt", d.qt_ms, "ms", "device", "");
        push("qtc", d.qtc_ms, "ms", "device", "");
    }
    m
}

/// A flag's message for the hub, naming the leads the finding comes from when the message
/// does not already name them all (the wire `FlagOut` has no field for them).
fn flag_message(f: &worker_ecg::Flag) -> String {
    let words: Vec<&str> = f
        .message
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if f.leads.iter().all(|l| words.contains(&l.as_str())) {
        return f.message.clone();
    }
    format!("{} (leads {})", f.message, f.leads.join(", "))
}

#[cfg(test)]
mod tests {
    use super::flag_message;

    fn flag(message: &str, leads: &[&str]) -> worker_ecg::Flag {
        worker_ecg::Flag {
            code: "QTC_UNCERTAIN".into(),
            critical: false,
            urgent: false,
            message: message.into(),
            leads: leads.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn flag_messages_name_their_leads_once() {
        let qt = flag("QTc (Fridericia) 565 ms", &["MLII", "V5"]);
        assert_eq!(
            flag_message(&qt),
            "QTc (Fridericia) 565 ms (leads MLII, V5)"
        );
        let noise = flag("too noisy to measure: II, V", &["II", "V"]);
        assert_eq!(flag_message(&noise), noise.message);
        let partly = flag("ST elevation: II 1.1 mm", &["II", "aVF"]);
        assert!(flag_message(&partly).ends_with("(leads II, aVF)"));
    }
}
