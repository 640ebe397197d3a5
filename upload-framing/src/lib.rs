//! The framing of an upload stream: a client sends `FileStart`, the file's bytes in chunks, then
//! `FileEnd`, file after file. [`Framing`] follows that order for one stream and says, for each
//! message, what the hub should do ([`Effect`]): open a staging file, write bytes to it, finish it,
//! or refuse a file with a [`Refusal`]. It does no I/O, so it can be tested and fuzzed on its own
//! (`upload-framing/fuzz`); the hub's `transport::upload` carries out the effects.
//!
//! What it holds to, whatever arrives:
//! - at most one file is open; bytes go only to the open file;
//! - a file takes no more bytes than its `FileStart` announced, and the announcement is at most
//!   the hub's `ingest.max_file_bytes`: a file that sends more is refused at the first byte too
//!   many, so a client cannot fill the disk with a file that says it is small;
//! - a file is finished only when exactly the announced bytes arrived;
//! - every started file ends exactly once: finished, or refused (a file given up after a storage
//!   failure is refused by the hub, see [`Framing::failed`]).

/// Why a file (or a message) was refused, as the hub reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// The file announced more bytes than the hub accepts.
    TooLarge,
    /// More or fewer bytes arrived than the file announced.
    SizeMismatch,
    /// Messages out of order (data without a file, options after the start, a file cut short).
    Protocol,
}

/// A refusal to send back: the file it concerns (the most recent one started, empty before any),
/// why, and a message that names the file and says what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The file's name as the client gave it.
    pub file_name: String,
    /// Why.
    pub violation: Violation,
    /// For the user.
    pub message: String,
}

/// One message of an upload stream, as far as framing is concerned.
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    /// Upload options (only valid as the first message, which the hub reads before framing).
    Options,
    /// A file starts.
    Start {
        /// Its name (empty: unnamed).
        file_name: &'a str,
        /// Its announced size in bytes.
        size: u64,
    },
    /// The next bytes of the current file.
    Chunk(&'a [u8]),
    /// The current file is complete.
    End {
        /// The client's SHA-256 in hex (empty: none given).
        sha256: &'a str,
    },
}

/// What the hub does for a message, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect<'a> {
    /// Drop (delete) the open staging file and send this refusal.
    Discard(Refusal),
    /// Send this refusal; no file is open.
    Refuse(Refusal),
    /// Open a staging file for `name`; on failure call [`Framing::failed`] and refuse it.
    Open {
        /// The name to stage under and report.
        name: String,
        /// The announced size.
        size: u64,
    },
    /// Append these bytes to the open staging file; on failure as for `Open`.
    Write(&'a [u8]),
    /// The open file is complete with exactly `size` bytes: check `sha256` (when given), store it.
    Finish {
        /// The client's SHA-256, when given.
        sha256: Option<&'a str>,
        /// The announced (and received) size.
        size: u64,
    },
}

/// Where the stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between files.
    Idle,
    /// A file is open and has taken `written` of its `size` bytes.
    Receiving { written: u64, size: u64 },
    /// The current file was refused: its chunks are ignored until its end.
    Skipping,
}

/// One upload stream's framing state.
#[derive(Debug)]
pub struct Framing {
    max_file_bytes: u64,
    state: State,
    /// The file most recently started (named in refusals).
    name: String,
}

/// The name reported for a file that was given none.
pub const UNNAMED: &str = "(unnamed file)";

impl Framing {
    /// A stream on a hub that accepts files of at most `max_file_bytes`.
    pub fn new(max_file_bytes: u64) -> Self {
        Framing {
            max_file_bytes,
            state: State::Idle,
            name: String::new(),
        }
    }

    /// The file most recently started (empty before any).
    pub fn file_name(&self) -> &str {
        &self.name
    }

    /// Whether a file is open (the hub holds a staging file exactly then).
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Receiving { .. })
    }

    /// The effects of the next message.
    pub fn on<'a>(&mut self, message: Message<'a>) -> Vec<Effect<'a>> {
        match message {
            Message::Options => vec![Effect::Refuse(self.refusal(
                Violation::Protocol,
                "upload options may only come first; ignored".into(),
            ))],
            Message::Start { file_name, size } => self.start(file_name, size),
            Message::Chunk(data) => self.chunk(data).into_iter().collect(),
            Message::End { sha256 } => self.end(sha256).into_iter().collect(),
        }
    }

    /// The open file failed to stage (the hub refuses it with the storage's reason): its
    /// remaining chunks are ignored until its end.
    pub fn failed(&mut self) {
        self.state = State::Skipping;
    }

    /// The stream ended: a file still open is discarded.
    pub fn close(&mut self) -> Option<Effect<'static>> {
        let open = self.is_open();
        self.state = State::Idle;
        open.then(|| {
            let message = format!("{}: the upload ended before the file did", self.name);
            Effect::Discard(self.refusal(Violation::Protocol, message))
        })
    }

    fn refusal(&self, violation: Violation, message: String) -> Refusal {
        Refusal {
            file_name: self.name.clone(),
            violation,
            message,
        }
    }

    fn start<'a>(&mut self, file_name: &str, size: u64) -> Vec<Effect<'a>> {
        let mut effects = Vec::with_capacity(2);
        if self.is_open() {
            let message = format!("{}: a new file started before this one ended", self.name);
            effects.push(Effect::Discard(self.refusal(Violation::Protocol, message)));
        }
        self.name = if file_name.is_empty() {
            UNNAMED.to_owned()
        } else {
            file_name.to_owned()
        };
        if size > self.max_file_bytes {
            self.state = State::Skipping;
            let message = format!(
                "{}: {size} bytes is more than the hub accepts ({} bytes)",
                self.name, self.max_file_bytes
            );
            effects.push(Effect::Refuse(self.refusal(Violation::TooLarge, message)));
        } else {
            self.state = State::Receiving { written: 0, size };
            effects.push(Effect::Open {
                name: self.name.clone(),
                size,
            });
        }
        effects
    }

    fn chunk<'a>(&mut self, data: &'a [u8]) -> Option<Effect<'a>> {
        match self.state {
            State::Skipping => None,
            State::Idle => {
                self.state = State::Skipping;
                Some(Effect::Refuse(self.refusal(
                    Violation::Protocol,
                    "file data arrived before any file started".into(),
                )))
            }
            State::Receiving { written, size } => {
                let written = written.saturating_add(data.len() as u64);
                if written > size {
                    self.state = State::Skipping;
                    let message = format!(
                        "{}: more than the {size} bytes it announced arrived",
                        self.name
                    );
                    return Some(Effect::Discard(
                        self.refusal(Violation::SizeMismatch, message),
                    ));
                }
                self.state = State::Receiving { written, size };
                Some(Effect::Write(data))
            }
        }
    }

    fn end<'a>(&mut self, sha256: &'a str) -> Option<Effect<'a>> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Skipping => None,
            State::Idle => Some(Effect::Refuse(self.refusal(
                Violation::Protocol,
                "a file ended that never started".into(),
            ))),
            State::Receiving { written, size } if written != size => {
                let message = format!(
                    "{}: announced {size} bytes but {written} arrived",
                    self.name
                );
                Some(Effect::Discard(
                    self.refusal(Violation::SizeMismatch, message),
                ))
            }
            State::Receiving { size, .. } => Some(Effect::Finish {
                sha256: (!sha256.is_empty()).then_some(sha256),
                size,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
