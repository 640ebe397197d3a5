//! Length limits on the text clients send. Every free-text or identifier field is checked here
//! before anything is stored: one oversized field (a 5 MiB critical reason) would otherwise sit in
//! every listing that shows it and make those listings fail for everyone.

use super::{Error, Result};

/// Longest code or identifier (exam item code, institution code, patient identifier), in characters.
pub const CODE_CHARS: usize = 64;
/// Longest file name an upload or a C-STORE may give, in characters (a Linux file name's limit).
pub const FILE_NAME_CHARS: usize = 255;
/// Longest name (a user's, an institution's), in characters.
pub const NAME_CHARS: usize = 200;
/// Longest reason or note (critical reason, amendment reason, mix-up note, purpose), in characters.
pub const NOTE_CHARS: usize = 500;
/// Longest report findings, in characters.
pub const FINDINGS_CHARS: usize = 20_000;
/// Longest report impression, in characters.
pub const IMPRESSION_CHARS: usize = 5_000;

/// Refuses `value` when it has more than `max_chars` characters, naming the field and the limit.
pub fn bounded(field: &str, value: &str, max_chars: usize) -> Result<()> {
    // Counting stops one past the limit: a 5 MiB value costs no more to refuse than a short one.
    if value.chars().nth(max_chars).is_none() {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "{field} is limited to {max_chars} characters; this one has {} bytes",
        value.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        assert!(bounded("note", &"中".repeat(NOTE_CHARS), NOTE_CHARS).is_ok());
        let err = bounded("note", &"中".repeat(NOTE_CHARS + 1), NOTE_CHARS).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("note is limited to 500 characters"), "{text}");
        assert!(matches!(err, Error::InvalidArgument(_)));
    }
}
