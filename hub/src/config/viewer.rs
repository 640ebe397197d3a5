//! The `[viewer]` section: the OHIF viewer the hub serves at `/viewer`, and browser sessions.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The browser side of the hub: where the prebuilt OHIF viewer lies and how long a sign-in lasts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ViewerConfig {
    /// The `dist/` folder of the `@ohif/app` package, as `scripts/fetch-ohif.sh` extracts it
    /// (relative paths are taken from the hub's working directory). When it is missing, `/viewer`
    /// answers with a page naming the command that installs it.
    pub dist_dir: PathBuf,
    /// How long a browser stays signed in (the session cookie's lifetime): a reading shift.
    #[serde(with = "super::human_duration")]
    pub session_lifetime: Duration,
}

impl Default for ViewerConfig {
    fn default() -> Self {
        ViewerConfig {
            dist_dir: PathBuf::from("web/ohif/dist"),
            session_lifetime: Duration::from_secs(12 * 3600),
        }
    }
}
