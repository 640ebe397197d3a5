//! A job that panics must not take its process down, nor be retried for ever.
//!
//! A panic in a decoder or an analysis is a bug, but one crafted file must not turn it into an
//! outage: on a rayon pool a panic in a spawned closure aborts the whole process. [`execute`] runs
//! the job under `catch_unwind`; when it panics, each input is run again on its own, so the
//! inputs that work keep their results and the one that panics is refused by name. The job then
//! completes normally (with that input's error), instead of its lease running out and the same
//! file being handed to the next worker.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::jobs::{self, FlagOut, InstanceOutcome, JobInput, JobKind, JobOutput};

/// Runs `kind` over `inputs` like [`jobs::execute`], but turns a panic into an error outcome
/// naming the input that caused it.
pub fn execute(kind: JobKind, subject: &str, inputs: &[JobInput]) -> JobOutput {
    isolate(inputs, |some| jobs::execute(kind, subject, some))
}

/// Runs `run` over all `inputs`; if it panics, runs it over each input alone and merges the
/// results, with an error outcome and a flag for each input that panics by itself.
pub fn isolate(inputs: &[JobInput], run: impl Fn(&[JobInput]) -> JobOutput) -> JobOutput {
    if let Ok(output) = catch_unwind(AssertUnwindSafe(|| run(inputs))) {
        return output;
    }
    let mut merged = JobOutput::default();
    for input in inputs {
        match catch_unwind(AssertUnwindSafe(|| run(std::slice::from_ref(input)))) {
            Ok(one) => merge(&mut merged, one),
            Err(payload) => refuse(&mut merged, input, &panic_message(payload.as_ref())),
        }
    }
    merged
}

fn merge(into: &mut JobOutput, from: JobOutput) {
    into.artifacts.extend(from.artifacts);
    into.measurements.extend(from.measurements);
    into.flags.extend(from.flags);
    into.instances.extend(from.instances);
}

fn refuse(into: &mut JobOutput, input: &JobInput, why: &str) {
    tracing::error!(input = %input.name, "processing panicked: {why}");
    let error = format!(
        "SOP Instance {}: the worker failed on this file (internal error: {why}); it is served as stored",
        input.name
    );
    into.flags.push(FlagOut {
        code: "input_not_processed".into(),
        critical: false,
        urgent: false,
        message: error.clone(),
    });
    into.instances.push(InstanceOutcome {
        sop_instance_uid: input.name.clone(),
        error,
        ..InstanceOutcome::default()
    });
}

/// The text of a panic payload (`panic!` with a literal or a formatted message).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> JobInput {
        JobInput {
            name: name.into(),
            path: name.into(),
        }
    }

    /// A stand-in job: one outcome per input, panicking on any input named "bad".
    fn job(inputs: &[JobInput]) -> JobOutput {
        let mut out = JobOutput::default();
        for i in inputs {
            assert!(i.name != "bad", "index out of range in {}", i.name);
            out.instances.push(InstanceOutcome {
                sop_instance_uid: i.name.clone(),
                rows: 1,
                ..InstanceOutcome::default()
            });
        }
        out
    }

    #[test]
    fn a_panicking_input_is_refused_by_name_and_the_others_keep_their_results() {
        let inputs = [input("a"), input("bad"), input("c")];
        let out = isolate(&inputs, job);
        let names: Vec<_> = out
            .instances
            .iter()
            .map(|i| (i.sop_instance_uid.as_str(), i.rows, i.error.is_empty()))
            .collect();
        assert_eq!(
            names,
            [("a", 1, true), ("bad", 0, false), ("c", 1, true)],
            "{out:?}"
        );
        assert!(out.instances[1].error.contains("index out of range in bad"));
        assert_eq!(out.flags.len(), 1);
        assert_eq!(out.flags[0].code, "input_not_processed");
    }

    #[test]
    fn a_job_without_panics_runs_once_as_a_whole() {
        let calls = std::cell::Cell::new(0);
        let inputs = [input("a"), input("b")];
        let out = isolate(&inputs, |i| {
            calls.set(calls.get() + 1);
            job(i)
        });
        assert_eq!(calls.get(), 1);
        assert_eq!(out.instances.len(), 2);
    }

    #[test]
    fn a_panic_on_a_rayon_pool_is_caught_not_an_abort() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let inputs = [input("bad"), input("ok")];
        let out = pool.install(|| {
            isolate(&inputs, |i| {
                use rayon::prelude::*;
                JobOutput {
                    instances: i
                        .par_iter()
                        .map(|x| job(std::slice::from_ref(x)).instances.remove(0))
                        .collect(),
                    ..JobOutput::default()
                }
            })
        });
        assert_eq!(out.instances.len(), 2);
        assert!(!out.instances[0].error.is_empty());
        assert!(out.instances[1].error.is_empty());
    }
}
