//! How much of the hub one user may take: requests in flight at once and a request rate (a token
//! bucket), both keyed by the authenticated user, so that a flood from one clinic's token (a
//! script gone wrong, a stolen token) leaves everyone else's requests as fast as before. Checked
//! for every gRPC request right after its caller is authenticated, before its body is read
//! (`transport::authenticated`). Entries exist only for users who authenticated, so the table is
//! bounded by the number of accounts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Error, Hub, Result};
use crate::config::UserLimitsConfig;
use crate::model::Principal;

/// One user's share.
#[derive(Debug)]
struct Share {
    in_flight: u32,
    /// Requests that may start now (refilled at the configured rate, up to the burst).
    tokens: f64,
    refilled: Instant,
}

/// The per-user limits and every user's current share.
#[derive(Debug)]
pub(crate) struct UserLimits {
    config: UserLimitsConfig,
    shares: Mutex<HashMap<i64, Share>>,
}

/// A request admitted under its user's limits; dropping it ends the request's place in flight.
#[derive(Debug)]
pub struct RequestPermit {
    limits: Arc<UserLimits>,
    user_id: i64,
}

impl UserLimits {
    /// Limits as configured.
    pub(crate) fn new(config: UserLimitsConfig) -> Arc<Self> {
        Arc::new(UserLimits {
            config,
            shares: Mutex::new(HashMap::new()),
        })
    }

    /// Admits one request of `user_id` at `now`, or says when to try again.
    fn admit(self: &Arc<Self>, user_id: i64, now: Instant) -> Result<RequestPermit> {
        let c = &self.config;
        let burst = f64::from(c.burst);
        let mut shares = self.shares.lock().unwrap_or_else(|e| e.into_inner());
        let share = shares.entry(user_id).or_insert(Share {
            in_flight: 0,
            tokens: burst,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(share.refilled).as_secs_f64();
        share.tokens = (share.tokens + elapsed * c.requests_per_second).min(burst);
        share.refilled = now;
        if share.in_flight >= c.max_concurrent_requests {
            return Err(busy(
                format!(
                    "you have {} requests in progress, the most one user may have \
                     (user_limits.max_concurrent_requests); wait for one to finish",
                    c.max_concurrent_requests
                ),
                Duration::from_millis(100),
            ));
        }
        if share.tokens < 1.0 {
            let wait = Duration::from_secs_f64((1.0 - share.tokens) / c.requests_per_second);
            return Err(busy(
                format!(
                    "you sent more than {} requests a second (user_limits.requests_per_second); \
                     slow down",
                    c.requests_per_second
                ),
                wait,
            ));
        }
        share.tokens -= 1.0;
        share.in_flight += 1;
        Ok(RequestPermit {
            limits: Arc::clone(self),
            user_id,
        })
    }
}

fn busy(message: String, retry_after: Duration) -> Error {
    Error::Busy {
        message,
        retry_after,
    }
}

impl Drop for RequestPermit {
    fn drop(&mut self) {
        let mut shares = self.limits.shares.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(share) = shares.get_mut(&self.user_id) {
            share.in_flight = share.in_flight.saturating_sub(1);
        }
    }
}

impl Hub {
    /// Admits one request of `who` under the per-user limits (`[user_limits]`), or refuses it
    /// with [`Error::Busy`] saying which limit and when to try again.
    pub fn admit_request(&self, who: &Principal) -> Result<RequestPermit> {
        self.inner.user_limits.admit(who.user_id, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(concurrent: u32, per_second: f64, burst: u32) -> Arc<UserLimits> {
        UserLimits::new(UserLimitsConfig {
            max_concurrent_requests: concurrent,
            requests_per_second: per_second,
            burst,
        })
    }

    fn retry_after(e: Error) -> Duration {
        match e {
            Error::Busy { retry_after, .. } => retry_after,
            other => panic!("not busy: {other}"),
        }
    }

    #[test]
    fn a_burst_is_taken_then_the_rate_refills_it() {
        let l = limits(100, 10.0, 3);
        let t0 = Instant::now();
        let held: Vec<_> = (0..3).map(|_| l.admit(1, t0).unwrap()).collect();
        drop(held);
        let wait = retry_after(l.admit(1, t0).unwrap_err());
        assert_eq!(wait, Duration::from_millis(100));
        // Another user is not affected.
        assert!(l.admit(2, t0).is_ok());
        assert!(l.admit(1, t0 + Duration::from_millis(100)).is_ok());
        assert!(l.admit(1, t0 + Duration::from_millis(100)).is_err());
    }

    #[test]
    fn requests_in_flight_are_bounded_and_given_back() {
        let l = limits(2, 1000.0, 1000);
        let t0 = Instant::now();
        let a = l.admit(7, t0).unwrap();
        let _b = l.admit(7, t0).unwrap();
        let e = l.admit(7, t0).unwrap_err();
        assert!(e.to_string().contains("2 requests in progress"), "{e}");
        drop(a);
        assert!(l.admit(7, t0).is_ok());
    }
}
