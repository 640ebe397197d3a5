//! The `[user_limits]` section: how much of the hub one user may take.

use serde::{Deserialize, Serialize};

/// Per-user gRPC limits (the `[user_limits]` section), keyed by the authenticated user, so that
/// one clinic's flood of requests (a script gone wrong, a stolen token) does not slow anyone else.
/// Requests past them are answered RESOURCE_EXHAUSTED with a `retry-after` hint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UserLimitsConfig {
    /// Most requests of one user in flight at once (until their response starts).
    pub max_concurrent_requests: u32,
    /// Requests one user may start per second, on average.
    pub requests_per_second: f64,
    /// Requests one user may start at once after being quiet (the bucket's size).
    pub burst: u32,
}

impl Default for UserLimitsConfig {
    fn default() -> Self {
        UserLimitsConfig {
            max_concurrent_requests: 16,
            requests_per_second: 50.0,
            burst: 200,
        }
    }
}

impl UserLimitsConfig {
    /// Why the section is inconsistent, if it is.
    pub fn invalid(&self) -> Option<&'static str> {
        if self.max_concurrent_requests == 0 {
            return Some("user_limits.max_concurrent_requests must be at least 1");
        }
        if !(self.requests_per_second.is_finite() && self.requests_per_second > 0.0) {
            return Some("user_limits.requests_per_second must be a positive number");
        }
        if self.burst == 0 {
            return Some("user_limits.burst must be at least 1");
        }
        None
    }
}
