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
    /// Converts pest's error into "expected X, Y or Z" at its position, naming rules
    /// as a user would ("a shape", not `array_shape`) and literal tokens in quotes.
    /// Parse with [`with_details`] so that pest records the literal tokens.
    pub(crate) fn from_pest<R: pest::RuleType>(
        error: pest::error::Error<R>,
        describe: impl Fn(&R) -> String,
    ) -> ParseError {
        let span = match error.location {
            pest::error::InputLocation::Pos(p) => Span::new(p, p),
            pest::error::InputLocation::Span((s, e)) => Span::new(s, e),
        };
        let mut expected: Vec<String> = Vec::new();
        let mut add = |item: String| {
            if !expected.contains(&item) {
                expected.push(item);
            }
        };
        if let Some(attempts) = error.parse_attempts() {
            // Only closing and separating punctuation: operators and openers are
            // better named by their rules ("an operator", "an argument").
            for token in attempts.expected_tokens().iter().map(ToString::to_string) {
                if PUNCTUATION.contains(&token.as_str()) {
                    add(format!("`{token}`"));
                }
            }
        }
        let message = match &error.variant {
            pest::error::ErrorVariant::ParsingError { positives, .. } => {
                positives.iter().for_each(|r| add(describe(r)));
                match expected.split_last() {
                    None => "syntax error".to_string(),
                    Some((only, [])) => format!("expected {only}"),
                    Some((last, rest)) => format!("expected {} or {last}", rest.join(", ")),
                }
            }
            pest::error::ErrorVariant::CustomError { message } => message.clone(),
        };
        ParseError { span, message }
    }
}

/// The literal tokens worth naming in "expected ..." messages.
const PUNCTUATION: &[&str] = &[";", ")", "]", "}", ",", "=", "{", "..", ":", "->"];

/// Runs a pest parse; when it fails, runs it again with pest recording which
/// literal tokens it tried, for [`ParseError::from_pest`]. The recording slows
/// parsing, so successful parses never pay for it.
pub(crate) fn with_details<T, E>(parse: impl Fn() -> Result<T, E>) -> Result<T, E> {
    parse().or_else(|_| {
        pest::set_error_detail(true);
        let detailed = parse();
        pest::set_error_detail(false);
        detailed
    })
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
