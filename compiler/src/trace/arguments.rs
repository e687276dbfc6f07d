//! Matching a call's arguments to a function's parameters, for user functions
//! and builtins alike: positional arguments first, then keywords by name.

use omelet_grammar::omelet::Ident;

use crate::error::{CompileError, ErrorKind, Span};

use super::eval::fail;
use super::value::Value;

/// One argument of a call: its keyword, if any, its value and where it stands.
pub type Argument = (Option<Ident>, Value, Span);

/// Puts each argument in its parameter's slot. The first `required` parameters
/// must be given; the rest may be left empty. Errors name the function `name`.
pub fn bind(
    name: &str,
    params: &[&str],
    required: usize,
    args: Vec<Argument>,
    call: Span,
) -> Result<Vec<Option<(Value, Span)>>, CompileError> {
    let given = args
        .iter()
        .filter(|(keyword, _, _)| keyword.is_none())
        .count();
    if given > params.len() {
        let n = params.len();
        let (at_most, plural) = (
            if required < n { "at most " } else { "" },
            if n == 1 { "" } else { "s" },
        );
        return fail(
            ErrorKind::Arity,
            call,
            format!("{name} takes {at_most}{n} argument{plural} but {given} were given"),
        );
    }
    let mut slots: Vec<Option<(Value, Span)>> = vec![None; params.len()];
    let mut positional = 0;
    for (keyword, value, span) in args {
        let slot = match keyword {
            None => {
                positional += 1;
                positional - 1
            }
            Some(k) => params.iter().position(|p| *p == k.name).ok_or_else(|| {
                let known: Vec<String> = params.iter().map(|p| format!("`{p}`")).collect();
                CompileError::at(
                    ErrorKind::Keyword,
                    k.span,
                    format!(
                        "{name} has no argument `{}` (it takes {})",
                        k.name,
                        known.join(", ")
                    ),
                )
            })?,
        };
        if slots[slot].replace((value, span)).is_some() {
            return fail(
                ErrorKind::Keyword,
                span,
                format!("argument `{}` of {name} is given twice", params[slot]),
            );
        }
    }
    if let Some(missing) = (0..required).find(|&i| slots[i].is_none()) {
        return fail(
            ErrorKind::Arity,
            call,
            format!("{name} is missing its argument `{}`", params[missing]),
        );
    }
    Ok(slots)
}
