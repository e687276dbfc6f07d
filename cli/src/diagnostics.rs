//! Rendering user errors as LANGUAGE.md shows them: kind, `file:line:col`, the
//! source line and a caret, through codespan-reporting. A source line longer
//! than [`MAX_LINE`] bytes is shown as a window around the error, with `...`
//! where it is clipped; the location still counts in the whole line.

use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::{Error, Files, Location, SimpleFile};
use codespan_reporting::term::{self, Chars, Config};
use omelet_compiler::CompileError;

/// The longest source line shown whole, in bytes.
const MAX_LINE: usize = 160;

/// How much of a clipped line is shown before the error's first byte.
const BEFORE: usize = 60;

/// The error as the user sees it on stderr.
pub fn render(file_name: &str, source: &str, error: &CompileError) -> String {
    let mut diagnostic = Diagnostic::error()
        .with_code(error.kind.code())
        .with_message(&error.message);
    let whole = SimpleFile::new(file_name, source);
    let mut clipped = Clipped {
        file: SimpleFile::new(file_name, source.to_string()),
        start: None,
    };
    if let Some(span) = error.span {
        // A zero-width span (the end of input) still gets one caret.
        let start = floor_boundary(source, span.start.min(source.len()));
        let end = ceil_boundary(source, span.end.max(start + 1).min(source.len())).max(start);
        let (text, range) = clip(source, start..end);
        let location = whole.location((), start).ok();
        clipped = Clipped {
            file: SimpleFile::new(file_name, text),
            start: location.map(|l| (range.start, l)),
        };
        diagnostic = diagnostic.with_labels(vec![Label::primary((), range)]);
    }
    let config = Config {
        chars: Chars::ascii(),
        ..Config::default()
    };
    term::emit_into_string(&config, &clipped, &diagnostic)
        .unwrap_or_else(|_| format!("{error}\n  --> {file_name}\n"))
}

/// The source as shown, with the true location of the label's first byte.
struct Clipped<'n> {
    file: SimpleFile<&'n str, String>,
    /// The label's start in the shown text, and where it is in the whole source.
    start: Option<(usize, Location)>,
}

impl<'a> Files<'a> for Clipped<'_> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, Error> {
        Ok(self.file.name())
    }

    fn source(&'a self, (): ()) -> Result<&'a str, Error> {
        Ok(self.file.source())
    }

    fn line_index(&'a self, (): (), byte_index: usize) -> Result<usize, Error> {
        self.file.line_index((), byte_index)
    }

    fn line_range(&'a self, (): (), line_index: usize) -> Result<Range<usize>, Error> {
        self.file.line_range((), line_index)
    }

    fn location(&'a self, (): (), byte_index: usize) -> Result<Location, Error> {
        match self.start {
            Some((start, location)) if start == byte_index => Ok(location),
            _ => self.file.location((), byte_index),
        }
    }
}

/// `source` with every line longer than [`MAX_LINE`] cut to a window (around
/// the part of `range` on it, else its start), and `range` in the new text.
/// Newlines are kept, so line numbers stay right.
fn clip(source: &str, range: Range<usize>) -> (String, Range<usize>) {
    let mut text = String::with_capacity(source.len().min(1 << 16));
    let (mut start, mut end) = (range.start, range.end);
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let line_end = offset + line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let shown_start = text.len();
        if body.len() <= MAX_LINE {
            text.push_str(line);
            if (offset..line_end).contains(&range.start) {
                start = shown_start + range.start - offset;
            }
            if (offset..=line_end).contains(&range.end) {
                end = shown_start + range.end - offset;
            }
        } else {
            // The window, in bytes of the line.
            let focus = if (offset..line_end).contains(&range.start) {
                range.start - offset
            } else {
                0
            };
            let from = floor_boundary(body, focus.saturating_sub(BEFORE));
            let to = floor_boundary(body, (from + MAX_LINE).min(body.len()));
            let head = if from > 0 { "..." } else { "" };
            text.push_str(head);
            let window_start = text.len();
            text.push_str(&body[from..to]);
            let window_end = text.len();
            if to < body.len() {
                text.push_str("...");
            }
            text.push_str(&line[body.len()..]);
            // Where a byte of this line lands: inside the window, or at its edge.
            let place = |at: usize| (window_start + at.saturating_sub(from)).min(window_end);
            if (offset..line_end).contains(&range.start) {
                start = place(range.start - offset);
            }
            if (offset..=line_end).contains(&range.end) {
                end = place(range.end - offset).max(start + 1).min(text.len());
            }
        }
        offset = line_end;
    }
    (text, start..end.max(start))
}

/// The char boundary at or before `at`.
fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The char boundary at or after `at` (`at` ≤ the text's length).
fn ceil_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use omelet_compiler::{ErrorKind, Span};

    fn error_at(start: usize, end: usize) -> CompileError {
        CompileError {
            kind: ErrorKind::Syntax,
            span: Some(Span::new(start, end)),
            message: "bad".to_string(),
        }
    }

    #[test]
    fn short_lines_are_shown_whole() {
        let text = "let a = 1;\nlet b = c;\n";
        let shown = render("f.om", text, &error_at(19, 20));
        assert!(shown.contains("f.om:2:9"), "{shown}");
        assert!(shown.contains("let b = c;"), "{shown}");
    }

    #[test]
    fn long_lines_are_clipped_around_the_error() {
        let line = format!("let a = {}y;", "x + ".repeat(250_000));
        let text = format!("fn main() {{\n{line}\n}}\n");
        let at = text.find('y').unwrap();
        let shown = render("f.om", &text, &error_at(at, at + 1));
        assert!(shown.len() < 1000, "{shown}");
        assert!(
            shown.contains(&format!("f.om:2:{}", at - 12 + 1)),
            "{shown}"
        );
        assert!(shown.contains("x + x + y;\n"), "{shown}");
        // The caret sits under the `y`.
        let lines: Vec<&str> = shown.lines().collect();
        let source = lines.iter().position(|l| l.ends_with("x + y;")).unwrap();
        let caret = lines[source + 1].find('^').unwrap();
        assert_eq!(&lines[source][caret..caret + 1], "y", "{shown}");
        // At the start of a long line, the window starts there too.
        let shown = render("f.om", &text, &error_at(12, 15));
        assert!(shown.contains("f.om:2:1"), "{shown}");
        assert!(shown.contains("2 | let a = x + x"), "{shown}");
        assert!(shown.trim_end().lines().all(|l| l.len() < 200), "{shown}");
    }

    #[test]
    fn clipping_respects_multibyte_characters() {
        let text = format!("{}z", "é".repeat(1000));
        let shown = render("f.om", &text, &error_at(2000, 2001));
        assert!(shown.contains("f.om:1:1001"), "{shown}");
        assert!(shown.contains("é...") || shown.contains("éz"), "{shown}");
    }
}
