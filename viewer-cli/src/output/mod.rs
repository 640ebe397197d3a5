//! Everything printed: human tables (with colours on a terminal) or JSON.
//!
//! - [`table`]: aligned tables that count CJK characters as two columns.
//! - [`time`]: "12 min ago", "due in 3 h 10 min", "OVERDUE 25 min".
//! - [`json`]: the stable JSON shapes of `--json`.
//! - [`text`]: labels for the contract's enums.
//! - [`recognition`]: the JSON shapes of `recognition` and `stats`, money in yuan.
//! - [`chart`]: the savings bar chart (SVG, PNG).
//! - [`terminal`]: control characters in text from the hub made visible, not obeyed; every line
//!   printed here (and every styled span, every table cell) passes through it.

pub mod chart;
pub mod json;
pub mod recognition;
pub mod table;
pub mod terminal;
pub mod text;
pub mod time;

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::error::CliError;

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// JSON instead of tables.
    pub json: bool,
    /// ANSI colours.
    pub color: bool,
    /// Standard error is a terminal (progress bars are drawn there).
    pub interactive: bool,
}

impl Output {
    /// From the global flags and the environment: colours only on a terminal, never with
    /// `--no-color` or `NO_COLOR`.
    pub fn new(json: bool, no_color: bool) -> Output {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Output {
            json,
            color: !json && !no_color && !no_color_env && std::io::stdout().is_terminal(),
            interactive: !json && std::io::stderr().is_terminal(),
        }
    }

    /// Plain output, for tests.
    pub fn plain() -> Output {
        Output {
            json: false,
            color: false,
            interactive: false,
        }
    }

    /// Prints `text` (a newline is added) on standard output, its control characters made
    /// visible (see [`terminal`]): only this program's own colour codes reach the terminal.
    pub fn line(&self, text: &str) -> Result<(), CliError> {
        let text = terminal::clean(text, self.color);
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(CliError::Output)
    }

    /// Prints a value as pretty JSON on standard output.
    pub fn json<T: Serialize>(&self, value: &T) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value).expect("our JSON types serialise");
        self.line(&terminal::escape_json(text))
    }

    /// Prints a value as one line of JSON (for streams).
    pub fn json_line<T: Serialize>(&self, value: &T) -> Result<(), CliError> {
        let text = serde_json::to_string(value).expect("our JSON types serialise");
        self.line(&terminal::escape_json(text))
    }

    /// `text` in `style`, if colours are on.
    pub fn paint(&self, style: Style, text: &str) -> String {
        style.paint(text, self.color)
    }
}

/// A text style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// As is.
    #[default]
    Plain,
    /// Bold.
    Bold,
    /// Dimmed.
    Dim,
    /// Green (done, accepted).
    Green,
    /// Yellow (urgent, duplicate).
    Yellow,
    /// Red (overdue, rejected).
    Red,
    /// Bold red on the default background (critical).
    Alarm,
}

impl Style {
    /// `text` wrapped in this style's ANSI codes when `color` is on; control characters in
    /// `text` itself are made visible, so a styled span carries no escape sequence but ours.
    pub fn paint(self, text: &str, color: bool) -> String {
        let text = &*terminal::clean(text, false);
        let code = match self {
            Style::Plain => return text.to_owned(),
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Red => "31",
            Style::Alarm => "1;31",
        };
        if color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_when_on() {
        assert_eq!(Style::Red.paint("x", false), "x");
        assert_eq!(Style::Red.paint("x", true), "\x1b[31mx\x1b[0m");
        assert_eq!(Style::Plain.paint("x", true), "x");
    }
}
