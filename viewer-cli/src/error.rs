//! The CLI's errors, their exit codes and the hints printed with them.

use std::path::PathBuf;

use serde::Serialize;
use tonic::Code;

/// Success.
pub const EXIT_OK: u8 = 0;
/// Partial failure (some files rejected) or another error.
pub const EXIT_PARTIAL: u8 = 1;
/// Usage error, or the hub found the request invalid.
pub const EXIT_USAGE: u8 = 2;
/// Unauthenticated or permission denied.
pub const EXIT_AUTH: u8 = 3;
/// Not found or failed precondition.
pub const EXIT_NOT_FOUND: u8 = 4;
/// Hub unreachable or unavailable.
pub const EXIT_UNAVAILABLE: u8 = 5;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The hub answered with an error status; `message` is the hub's own (it names what is wrong).
    #[error("{message}")]
    Hub {
        /// The gRPC status code.
        code: Code,
        /// The hub's message.
        message: String,
        /// The URL of the hub, for the hint.
        url: String,
    },
    /// No connection could be made.
    #[error("cannot reach the hub at {url}: {reason}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The command line is wrong in a way clap cannot see.
    #[error("{0}")]
    Usage(String),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing to standard output failed (a closed pipe is handled as success).
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
    /// Part of the work failed; what did is already printed.
    #[error("{0}")]
    Partial(String),
}

impl CliError {
    /// From a gRPC status returned by the hub at `url`.
    pub fn status(status: tonic::Status, url: &str) -> CliError {
        CliError::Hub {
            code: status.code(),
            message: status.message().to_owned(),
            url: url.to_owned(),
        }
    }

    /// A file error.
    pub fn file(path: impl Into<PathBuf>, source: std::io::Error) -> CliError {
        CliError::File {
            path: path.into(),
            source,
        }
    }

    /// The process exit code (see [`crate::cli::EXIT_CODES`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Hub { code, .. } => exit_code_of(*code),
            CliError::Unreachable { .. } => EXIT_UNAVAILABLE,
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
            CliError::File { .. } | CliError::Output(_) | CliError::Partial(_) => EXIT_PARTIAL,
        }
    }

    /// What the user can do about it, if there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Hub { code, url, .. } => hint_of(*code, url),
            CliError::Unreachable { .. } => {
                Some("is the hub running? check --hub / HUB_URL".to_owned())
            }
            _ => None,
        }
    }

    /// The gRPC code name for JSON errors ("NOT_FOUND"), or the kind of local error.
    pub fn kind(&self) -> String {
        match self {
            CliError::Hub { code, .. } => code_name(*code).to_owned(),
            CliError::Unreachable { .. } => "UNREACHABLE".to_owned(),
            CliError::Usage(_) => "USAGE".to_owned(),
            CliError::File { .. } => "FILE".to_owned(),
            CliError::Output(_) => "OUTPUT".to_owned(),
            CliError::Partial(_) => "PARTIAL".to_owned(),
        }
    }

    /// The error as printed on stderr with `--json`.
    pub fn to_json(&self) -> ErrorJson {
        ErrorJson {
            error: ErrorBody {
                code: self.kind(),
                message: self.to_string(),
                hint: self.hint(),
                exit_code: self.exit_code(),
            },
        }
    }
}

/// `{"error": {...}}`, printed on stderr with `--json`.
#[derive(Debug, Serialize)]
pub struct ErrorJson {
    /// The error.
    pub error: ErrorBody,
}

/// The body of [`ErrorJson`].
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// gRPC code name (e.g. "NOT_FOUND"), or UNREACHABLE, USAGE, FILE, OUTPUT, PARTIAL.
    pub code: String,
    /// What went wrong (the hub's message for gRPC errors).
    pub message: String,
    /// What to do about it, if anything.
    pub hint: Option<String>,
    /// The process exit code.
    pub exit_code: u8,
}

/// The exit code of a gRPC status code.
pub fn exit_code_of(code: Code) -> u8 {
    match code {
        Code::Ok => EXIT_OK,
        Code::InvalidArgument | Code::OutOfRange => EXIT_USAGE,
        Code::Unauthenticated | Code::PermissionDenied => EXIT_AUTH,
        Code::NotFound | Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => {
            EXIT_NOT_FOUND
        }
        Code::Unavailable | Code::DeadlineExceeded => EXIT_UNAVAILABLE,
        Code::Cancelled
        | Code::Unknown
        | Code::ResourceExhausted
        | Code::Unimplemented
        | Code::Internal
        | Code::DataLoss => EXIT_PARTIAL,
    }
}

fn hint_of(code: Code, url: &str) -> Option<String> {
    let hint = match code {
        Code::Unauthenticated => "check --token / HUB_TOKEN".to_owned(),
        Code::PermissionDenied => {
            "your role or institution does not allow this; `viewer-cli whoami` shows yours"
                .to_owned()
        }
        Code::NotFound => "check the id; `viewer-cli cases` lists the cases you can see".to_owned(),
        Code::FailedPrecondition | Code::Aborted => {
            "the case's state does not allow this now; `viewer-cli show CASE` shows it".to_owned()
        }
        Code::Unavailable | Code::DeadlineExceeded => {
            format!(
                "is the hub at {url} running and healthy? check --hub / HUB_URL, then try again"
            )
        }
        _ => return None,
    };
    Some(hint)
}

/// The canonical name of a gRPC code, as in the gRPC specification.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_exit_codes() {
        let hub = |code| CliError::status(tonic::Status::new(code, "m"), "http://h");
        assert_eq!(hub(Code::Unauthenticated).exit_code(), 3);
        assert_eq!(hub(Code::PermissionDenied).exit_code(), 3);
        assert_eq!(hub(Code::NotFound).exit_code(), 4);
        assert_eq!(hub(Code::FailedPrecondition).exit_code(), 4);
        assert_eq!(hub(Code::Unavailable).exit_code(), 5);
        assert_eq!(hub(Code::InvalidArgument).exit_code(), 2);
        assert_eq!(hub(Code::Internal).exit_code(), 1);
        let unreachable = CliError::Unreachable {
            url: "u".into(),
            reason: "r".into(),
        };
        assert_eq!(unreachable.exit_code(), 5);
        let pipe = CliError::Output(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(pipe.exit_code(), 0, "a closed pipe is not an error");
        assert_eq!(CliError::Partial("x".into()).exit_code(), 1);
    }

    #[test]
    fn hints_name_the_fix() {
        let e = CliError::status(tonic::Status::unauthenticated("no token"), "http://h");
        assert_eq!(e.to_string(), "no token", "the hub's message is kept as is");
        assert!(e.hint().unwrap().contains("--token / HUB_TOKEN"));
        let json = serde_json::to_value(e.to_json()).unwrap();
        assert_eq!(json["error"]["code"], "UNAUTHENTICATED");
        assert_eq!(json["error"]["exit_code"], 3);
        let e = CliError::status(tonic::Status::unavailable("down"), "http://h:1");
        assert!(e.hint().unwrap().contains("http://h:1"));
    }
}
