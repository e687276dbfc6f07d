//! Rendering user errors as LANGUAGE.md shows them: kind, `file:line:col`, the
//! source line and a caret, through codespan-reporting.

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Chars, Config};
use omelet_compiler::CompileError;

/// The error as the user sees it on stderr.
pub fn render(file_name: &str, source: &str, error: &CompileError) -> String {
    let mut diagnostic = Diagnostic::error()
        .with_code(error.kind.code())
        .with_message(&error.message);
    if let Some(span) = error.span {
        // A zero-width span (the end of input) still gets one caret.
        let end = span.end.max(span.start + 1).min(source.len());
        let start = span.start.min(end);
        diagnostic = diagnostic.with_labels(vec![Label::primary((), start..end)]);
    }
    let file = SimpleFile::new(file_name, source);
    let config = Config {
        chars: Chars::ascii(),
        ..Config::default()
    };
    term::emit_into_string(&config, &file, &diagnostic)
        .unwrap_or_else(|_| format!("{error}\n  --> {file_name}\n"))
}
