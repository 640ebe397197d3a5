//! Text from the hub made safe for a terminal: the one place every human-readable output passes.
//!
//! Names, descriptions, notes and report texts come from clinics, modalities and other users.
//! Printed raw, an escape sequence in a PatientName (`ESC[2J`, an OSC title or clipboard write),
//! a carriage return or a bidirectional override could clear the reader's screen, rewrite what
//! the line says or reorder it. So every control character becomes a visible `�`:
//!
//! - C0 controls (U+0000–U+001F) except `\n` and `\t` (and `\r` of a `\r\n` line ending, which
//!   is dropped), and DEL;
//! - C1 controls (U+0080–U+009F), among them the one-character CSI U+009B;
//! - the bidirectional embeddings, overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069,
//!   U+200E, U+200F, U+061C).
//!
//! ESC is a C0 control, so an escape sequence loses its introducer and shows as text (`�[2J`).
//! The only escape sequences that survive are the colour codes [`super::Style`] writes, and only
//! when colours are on ([`clean`] with `keep_colours`). JSON output keeps every character, escaped
//! (`\u001b`, `\u202e`) so that it too prints inertly ([`escape_json`]).

use std::borrow::Cow;

/// What a control character is shown as.
pub const REPLACEMENT: char = '\u{FFFD}';

/// The escape sequences [`super::Style::paint`] writes (SGR: bold, dim, colours, reset).
const OUR_SGR: [&str; 7] = [
    "\x1b[0m",
    "\x1b[1m",
    "\x1b[2m",
    "\x1b[31m",
    "\x1b[32m",
    "\x1b[33m",
    "\x1b[1;31m",
];

/// True for a character a terminal would act on rather than show.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// `text` with every control character replaced (see the module doc); with `keep_colours`, the
/// colour codes this program writes are kept.
pub fn clean(text: &str, keep_colours: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) || c == '\r') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let ours = keep_colours
            .then(|| OUR_SGR.iter().find(|s| rest.starts_with(**s)))
            .flatten();
        if let Some(sgr) = ours {
            out.push_str(sgr);
            rest = &rest[sgr.len()..];
            continue;
        }
        match c {
            '\r' if rest[1..].starts_with('\n') => {}
            c if is_unsafe(c) || c == '\r' => out.push(REPLACEMENT),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// `text` on one line (a table cell): line breaks and tabs become spaces, controls `�`.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.contains(['\n', '\t', '\r']) {
        return clean(text, false);
    }
    let flat: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\t' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect();
    Cow::Owned(clean(&flat, false).into_owned())
}

/// Serialised JSON with the characters serde_json leaves raw inside strings (DEL, C1 controls,
/// bidirectional controls) written as `\uXXXX` escapes: the same JSON value, inert in a terminal.
/// serde_json already escapes C0 controls (ESC is `\u001b`).
pub fn escape_json(json: String) -> String {
    if !json.chars().any(is_unsafe) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_are_shown_not_obeyed() {
        let cases = [
            ("ZHANG^SAN\x1b[2J", "ZHANG^SAN\u{FFFD}[2J"),
            ("a\x1b]0;pwned\x07b", "a\u{FFFD}]0;pwned\u{FFFD}b"),
            ("ok\rFAKE", "ok\u{FFFD}FAKE"),
            ("line 1\r\nline 2\tend", "line 1\nline 2\tend"),
            ("\u{9b}31m", "\u{FFFD}31m"),
            ("abc\u{202e}fed\u{2066}", "abc\u{FFFD}fed\u{FFFD}"),
            ("bell\x07 del\x7f", "bell\u{FFFD} del\u{FFFD}"),
            ("张三 心电图", "张三 心电图"),
        ];
        for (raw, shown) in cases {
            assert_eq!(clean(raw, false), shown, "{raw:?}");
            assert_eq!(clean(raw, true), shown, "{raw:?}");
        }
        assert!(matches!(clean("plain", false), Cow::Borrowed(_)));
    }

    #[test]
    fn only_our_own_colours_survive_and_only_when_colours_are_on() {
        let ours = super::super::Style::Alarm.paint("CRITICAL", true);
        assert_eq!(clean(&ours, true), ours);
        assert_eq!(
            clean(&ours, false),
            "\u{FFFD}[1;31mCRITICAL\u{FFFD}[0m",
            "without colours nothing passes"
        );
        assert_eq!(clean("\x1b[8mhidden", true), "\u{FFFD}[8mhidden");
    }

    #[test]
    fn cells_stay_on_one_line() {
        assert_eq!(one_line("a\nb\tc\r\nd\x1b"), "a b c  d\u{FFFD}");
    }

    #[test]
    fn json_keeps_the_value_and_escapes_the_rest() {
        let value = serde_json::json!({"name": "A\u{1b}[2J\u{9b}\u{202e}B"});
        let text = escape_json(serde_json::to_string(&value).unwrap());
        assert!(
            !text.chars().any(|c| is_unsafe(c) && c != '\u{1b}'),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
