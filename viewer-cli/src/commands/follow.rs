//! `reports --follow`: how a township doctor hears of a critical finding, across hub restarts.
//!
//! The watch resumes from a cursor: the last report id seen, or, before any report arrived, the
//! hub's `remotedx-report-cursor` of the first stream. So a report signed while the hub (or the
//! network) was away is shown after reconnecting, and nothing is shown twice. Losing the stream
//! is said on stderr, as is the hub shutting down; reconnecting backs off exponentially with
//! jitter, up to [`Backoff::MAX`]. Only errors that reconnecting cannot fix (a revoked token, a
//! role that may not watch) end the command.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use rand::Rng;
use remotedx_proto::v1 as pb;
use remotedx_proto::{REPORT_CURSOR, SHUTTING_DOWN};
use tonic::{Code, Status, Streaming};

use crate::client::Hub;
use crate::error::CliError;
use crate::output::{Output, Style};

/// Reconnection delays: doubling from [`Backoff::FIRST`] to [`Backoff::MAX`], each drawn between
/// half and all of the current step so that many clinics do not reconnect in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    step: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            step: Backoff::FIRST,
        }
    }
}

impl Backoff {
    /// The first step.
    pub const FIRST: Duration = Duration::from_millis(250);
    /// The largest step.
    pub const MAX: Duration = Duration::from_secs(30);

    /// The next delay to wait before trying again.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.step;
        self.step = (step * 2).min(Backoff::MAX);
        let half = step / 2;
        half + rand::rng().random_range(Duration::ZERO..=step - half)
    }

    /// After a success: start again from the first step.
    pub fn reset(&mut self) {
        self.step = Backoff::FIRST;
    }
}

/// Why a report stream ended.
#[derive(Debug)]
pub enum Ended {
    /// The hub said it is shutting down.
    ShuttingDown,
    /// The stream or the connection was lost; reconnecting may help.
    Lost(String),
    /// The hub refused the watch in a way reconnecting cannot fix.
    Fatal(Status),
}

impl Ended {
    /// Sorts a status that ended (or refused) a stream.
    pub fn of(status: Status) -> Ended {
        if status.metadata().get(SHUTTING_DOWN).is_some() {
            return Ended::ShuttingDown;
        }
        match status.code() {
            Code::InvalidArgument
            | Code::OutOfRange
            | Code::Unauthenticated
            | Code::PermissionDenied
            | Code::NotFound
            | Code::FailedPrecondition
            | Code::AlreadyExists
            | Code::Unimplemented => Ended::Fatal(status),
            // Unavailable, h2 protocol errors (Unknown, Internal), resets, timeouts.
            _ => Ended::Lost(status.message().to_owned()),
        }
    }
}

/// An open watch and the cursor it started after.
struct Watch {
    stream: Streaming<pb::CaseReport>,
    start: i64,
}

/// Opens a watch after `after` (None: from now on).
async fn open(hub: &Hub, critical: bool, after: Option<i64>) -> Result<Watch, Status> {
    let req = pb::WatchReportsRequest {
        critical_only: critical,
        after_report_id: after,
    };
    let response = hub.reading().watch_reports(req).await?;
    let start = response
        .metadata()
        .get(REPORT_CURSOR)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .or(after)
        .unwrap_or(0);
    Ok(Watch {
        stream: response.into_inner(),
        start,
    })
}

/// Follows reports for ever: `before` (the listed reports, oldest first) are printed first, then
/// every report version after them; `print` shows one.
pub async fn run(
    hub: &Hub,
    out: &Output,
    critical: bool,
    before: impl Future<Output = Result<Vec<pb::CaseReport>, CliError>>,
    print: impl Fn(&pb::CaseReport) -> Result<(), CliError>,
) -> Result<u8, CliError> {
    // Watch first, then list: a report filed in between is then in the stream, not lost.
    let mut watch = open(hub, critical, None).await.map_err(|s| hub.error(s))?;
    let mut cursor = watch.start;
    let mut listed = HashSet::new();
    for r in before.await? {
        listed.insert(report_id(&r));
        print(&r)?;
    }
    if !out.json {
        out.line(&out.paint(Style::Dim, "Watching for new reports (Ctrl-C to stop)..."))?;
    }
    let mut backoff = Backoff::default();
    loop {
        let ended = pump(&mut watch.stream, &mut cursor, &listed, &print).await?;
        match ended {
            Ended::Fatal(status) => return Err(hub.error(status)),
            Ended::ShuttingDown => notice(&format!(
                "the hub at {} is shutting down; reconnecting when it is back",
                hub.url()
            )),
            Ended::Lost(why) => notice(&format!(
                "lost the report stream from the hub at {}: {why}",
                hub.url()
            )),
        }
        watch = reconnect(hub, critical, cursor, &mut backoff).await?;
        notice(&format!(
            "reconnected to the hub at {}; showing what was filed after report {cursor}",
            hub.url()
        ));
    }
}

/// Prints reports from `stream` until it ends; returns why it ended.
async fn pump(
    stream: &mut Streaming<pb::CaseReport>,
    cursor: &mut i64,
    listed: &HashSet<i64>,
    print: &impl Fn(&pb::CaseReport) -> Result<(), CliError>,
) -> Result<Ended, CliError> {
    loop {
        let r = match stream.message().await {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(Ended::Lost("the hub closed the stream".into())),
            Err(status) => return Ok(Ended::of(status)),
        };
        let id = report_id(&r);
        if id <= *cursor {
            continue;
        }
        *cursor = id;
        if !listed.contains(&id) {
            print(&r)?;
        }
    }
}

/// Opens the watch again after `cursor`, waiting between tries as `backoff` says.
async fn reconnect(
    hub: &Hub,
    critical: bool,
    cursor: i64,
    backoff: &mut Backoff,
) -> Result<Watch, CliError> {
    let mut delay = backoff.next_delay();
    notice(&format!("reconnecting in {}", seconds(delay)));
    loop {
        tokio::time::sleep(delay).await;
        match open(hub, critical, Some(cursor)).await {
            Ok(watch) => {
                backoff.reset();
                return Ok(watch);
            }
            Err(status) => {
                let why = match Ended::of(status) {
                    Ended::Fatal(status) => return Err(hub.error(status)),
                    Ended::ShuttingDown => "it is shutting down".to_owned(),
                    Ended::Lost(why) => why,
                };
                delay = backoff.next_delay();
                notice(&format!(
                    "the hub at {} is unreachable ({why}); trying again in {}",
                    hub.url(),
                    seconds(delay)
                ));
            }
        }
    }
}

fn report_id(r: &pb::CaseReport) -> i64 {
    r.report.as_ref().map_or(0, |v| v.report_id)
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A line on stderr: what happened to the watch (stdout keeps only reports).
fn notice(text: &str) {
    let text = crate::output::terminal::clean(text, false);
    eprintln!("reports --follow: {text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_a_bound() {
        let mut b = Backoff::default();
        let mut step = Backoff::FIRST;
        for _ in 0..20 {
            let d = b.next_delay();
            assert!(
                d >= step / 2 && d <= step,
                "{d:?} outside [{:?}, {step:?}]",
                step / 2
            );
            step = (step * 2).min(Backoff::MAX);
        }
        assert!(b.next_delay() <= Backoff::MAX);
        b.reset();
        assert!(b.next_delay() <= Backoff::FIRST);
        let draws: HashSet<Duration> = (0..20)
            .map(|_| {
                let mut b = Backoff::default();
                b.next_delay()
            })
            .collect();
        assert!(draws.len() > 1, "delays are jittered");
    }

    #[test]
    fn shutdown_and_lost_streams_reconnect_refusals_do_not() {
        let mut shutdown = Status::unavailable("bye");
        shutdown.metadata_mut().insert(
            SHUTTING_DOWN,
            tonic::metadata::MetadataValue::from_static("1"),
        );
        assert!(matches!(Ended::of(shutdown), Ended::ShuttingDown));
        let h2 = Status::internal("h2 protocol error: error reading a body from connection");
        assert!(matches!(Ended::of(h2), Ended::Lost(m) if m.contains("h2 protocol error")));
        assert!(matches!(
            Ended::of(Status::unavailable("connection refused")),
            Ended::Lost(_)
        ));
        assert!(matches!(
            Ended::of(Status::unauthenticated("unknown token")),
            Ended::Fatal(_)
        ));
        assert!(matches!(
            Ended::of(Status::permission_denied("workers may not watch")),
            Ended::Fatal(_)
        ));
    }
}
