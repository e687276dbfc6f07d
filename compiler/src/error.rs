//! The compiler's one error type: a user error with a kind, a message and, where
//! known, the place in the source that caused it.

use std::fmt;

pub use omelet_grammar::Span;

/// Stable error kinds; their codes (`E-SHAPE`) are part of the user interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Syntax,
    UnknownName,
    Arity,
    Keyword,
    Unsupported,
    Shape,
    Dtype,
    /// A value of the wrong kind where a compile-time one is needed, an overflow,
    /// a runaway loop.
    Value,
    Recursion,
    Input,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "E-SYNTAX",
            ErrorKind::UnknownName => "E-NAME",
            ErrorKind::Arity => "E-ARITY",
            ErrorKind::Keyword => "E-KEYWORD",
            ErrorKind::Unsupported => "E-UNSUPPORTED",
            ErrorKind::Shape => "E-SHAPE",
            ErrorKind::Dtype => "E-DTYPE",
            ErrorKind::Value => "E-VALUE",
            ErrorKind::Recursion => "E-RECURSION",
            ErrorKind::Input => "E-INPUT",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    pub kind: ErrorKind,
    pub message: String,
    pub span: Option<Span>,
}

impl CompileError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> CompileError {
        CompileError {
            kind,
            message: message.into(),
            span: None,
        }
    }

    pub fn at(kind: ErrorKind, span: Span, message: impl Into<String>) -> CompileError {
        CompileError {
            kind,
            message: message.into(),
            span: Some(span),
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for CompileError {}

impl From<omelet_grammar::ParseError> for CompileError {
    fn from(e: omelet_grammar::ParseError) -> CompileError {
        CompileError::at(ErrorKind::Syntax, e.span, e.message)
    }
}
