//! Per-user limits (issue "Safe to deploy 2/2"): one clinic's token floods the hub with requests
//! from many connections at once; past its `[user_limits]` it is answered RESOURCE_EXHAUSTED with
//! a `retry-after` hint, and another clinic's `whoami` stays answered within a second throughout.

use std::time::{Duration, Instant};

use e2e::*;
use remotedx_proto::v1 as pb;

/// How long another user may wait for `whoami` during the flood.
const WHOAMI_BOUND: Duration = Duration::from_secs(1);
/// The flood's length.
const FLOOD: Duration = Duration::from_secs(4);
/// Parallel flooding callers, each on its own connection.
const FLOODERS: usize = 16;

/// One flooding caller: `list_cases` as fast as answers come until the flood ends; counts of
/// requests served and refused, and the `retry-after` hints seen.
async fn flood(channel: tonic::transport::Channel, token: String) -> (u32, u32, Vec<String>) {
    let mut cases = pb::case_service_client::CaseServiceClient::new(channel);
    let (mut served, mut refused, mut hints) = (0, 0, Vec::new());
    let end = Instant::now() + FLOOD;
    while Instant::now() < end {
        match cases
            .list_cases(authed(pb::ListCasesRequest::default(), &token))
            .await
        {
            Ok(_) => served += 1,
            Err(s) if s.code() == tonic::Code::ResourceExhausted => {
                refused += 1;
                if let Some(hint) = s.metadata().get("retry-after") {
                    hints.push(hint.to_str().unwrap_or("").to_owned());
                }
            }
            Err(s) => panic!("the flood got {s:?}"),
        }
    }
    (served, refused, hints)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_from_one_token_is_refused_past_its_limits_and_others_are_not_slowed() {
    let region = Region::start(&[
        ("REMOTEDX_HUB_USER_LIMITS__MAX_CONCURRENT_REQUESTS", "4"),
        ("REMOTEDX_HUB_USER_LIMITS__REQUESTS_PER_SECOND", "20"),
        ("REMOTEDX_HUB_USER_LIMITS__BURST", "40"),
    ]);
    let hub = &region.hub;
    let (flooder, other) = (region.token("clinic_a"), region.token("clinic_b"));
    let watcher = async {
        let mut account =
            pb::account_service_client::AccountServiceClient::new(hub.channel().await);
        let (mut slowest, mut calls) = (Duration::ZERO, 0);
        let end = Instant::now() + FLOOD;
        while Instant::now() < end {
            let start = Instant::now();
            account
                .who_am_i(authed(pb::WhoAmIRequest {}, other))
                .await
                .expect("another clinic's whoami during the flood");
            slowest = slowest.max(start.elapsed());
            calls += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (slowest, calls)
    };
    let flooders = flood_all(hub, flooder);
    let ((slowest, calls), results) = tokio::join!(watcher, flooders);
    let served: u32 = results.iter().map(|r| r.0).sum();
    let refused: u32 = results.iter().map(|r| r.1).sum();
    let hints: Vec<&String> = results.iter().flat_map(|r| &r.2).collect();
    eprintln!(
        "flood: {served} served, {refused} refused; other user's whoami: {calls} calls, slowest {} ms",
        slowest.as_millis()
    );
    assert!(
        refused > 0,
        "a flood of {served} requests was never refused"
    );
    assert_eq!(
        hints.len(),
        refused as usize,
        "a refusal without a retry-after hint"
    );
    assert!(
        hints.iter().all(|h| h.parse::<u64>().is_ok_and(|s| s >= 1)),
        "{hints:?}"
    );
    // The burst, the rate over the flood, and slack for the clock.
    let most = 40 + 20 * FLOOD.as_secs() as u32 + 20;
    assert!(served <= most, "{served} requests served, more than {most}");
    assert!(
        slowest <= WHOAMI_BOUND,
        "another user's whoami took {slowest:?}"
    );
    // Once the flood is over, the flooding clinic is served again after the hint.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut cases = pb::case_service_client::CaseServiceClient::new(hub.channel().await);
    cases
        .list_cases(authed(pb::ListCasesRequest::default(), flooder))
        .await
        .expect("the flooding clinic after it stopped");
}

/// Runs [`FLOODERS`] flooding callers at once, each on its own connection.
async fn flood_all(hub: &HubProcess, token: &str) -> Vec<(u32, u32, Vec<String>)> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..FLOODERS {
        set.spawn(flood(hub.channel().await, token.to_owned()));
    }
    set.join_all().await
}
