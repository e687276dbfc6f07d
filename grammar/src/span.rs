//! Source locations and syntax errors.

use std::fmt;

/// A byte range in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    pub(crate) fn of(span: pest::Span<'_>) -> Span {
        Span::new(span.start(), span.end())
    }
}

/// A syntax error: what was expected, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub span: Span,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// Converts pest's error, naming rules as a user would ("a shape", not `array_shape`).
    pub(crate) fn from_pest<R: pest::RuleType>(
        error: pest::error::Error<R>,
        describe: impl Fn(&R) -> String,
    ) -> ParseError {
        let span = match error.location {
            pest::error::InputLocation::Pos(p) => Span::new(p, p),
            pest::error::InputLocation::Span((s, e)) => Span::new(s, e),
        };
        let error = error.renamed_rules(describe);
        let message = match &error.variant {
            pest::error::ErrorVariant::ParsingError { .. } => {
                format!("syntax error: {}", error.variant.message())
            }
            pest::error::ErrorVariant::CustomError { message } => message.clone(),
        };
        ParseError { span, message }
    }
}

/// Rejects text whose brackets nest deeper than `max`: the recursive-descent
/// parsers would run out of stack on it.
pub(crate) fn check_nesting(text: &str, max: usize) -> Result<(), ParseError> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > max {
                    return Err(ParseError {
                        span: Span::new(i, i + 1),
                        message: format!("brackets nest more than {max} deep"),
                    });
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}
