//! The ops XLA writes that Omelet refuses, each with a message that names what
//! is missing: checked before anything else about the instruction, so that a
//! `while` whose state is a nested tuple, or an `infeed` of a `token`, says
//! which op it is rather than what its shape lacks.

use omelet_grammar::hlo::{AttrValue, InstructionAst};

use super::attributes::attribute;

/// Ops of HLO.md that Omelet does not run yet.
const NOT_YET: &[&str] = &["convolution", "map"];

/// Ops that need more than one device, a host, or a runtime's services.
const COLLECTIVE_OR_HOST: &[&str] = &[
    "all-reduce",
    "all-reduce-start",
    "all-reduce-done",
    "all-gather",
    "all-gather-start",
    "all-gather-done",
    "all-to-all",
    "ragged-all-to-all",
    "reduce-scatter",
    "collective-broadcast",
    "collective-permute",
    "collective-permute-start",
    "collective-permute-done",
    "partition-id",
    "replica-id",
    "send",
    "send-done",
    "recv",
    "recv-done",
    "infeed",
    "outfeed",
    "after-all",
    "add-dependency",
    "async-start",
    "async-update",
    "async-done",
    "copy-start",
    "copy-done",
    "domain",
    "optimization-barrier",
];

/// Why `instr` cannot be imported, when its opcode alone says so.
pub(super) fn refusal(instr: &InstructionAst) -> Option<String> {
    let opcode = instr.opcode.as_str();
    if opcode == "custom-call" {
        let target = attribute(instr, "custom_call_target").map(|a| match &a.value {
            AttrValue::Str(s) | AttrValue::Word(s) => s.clone(),
            other => format!("{other:?}"),
        });
        return match target.as_deref() {
            Some("TopK") => None,
            Some(target) => Some(format!(
                "custom-call {target} is not supported (a custom call runs code outside HLO)"
            )),
            None => Some("custom-call without a custom_call_target is not supported".into()),
        };
    }
    if NOT_YET.contains(&opcode) {
        return Some(format!("`{opcode}` is not supported yet"));
    }
    if COLLECTIVE_OR_HOST.contains(&opcode) {
        return Some(format!(
            "`{opcode}` is not supported: Omelet runs one program on one device, without collective, host or asynchronous ops"
        ));
    }
    match opcode {
        "rng" | "rng-bit-generator" | "rng-get-and-update-state" => Some(format!(
            "`{opcode}` is not supported: its bits are the backend's own (JAX's threefry PRNG, written in plain ops, is supported)"
        )),
        "real" | "imag" | "complex" => Some(format!(
            "`{opcode}` is not supported: complex numbers are not"
        )),
        "fft"
        | "triangular-solve"
        | "cholesky"
        | "batch-norm-training"
        | "batch-norm-inference"
        | "batch-norm-grad"
        | "stochastic-convert"
        | "top-k" => Some(format!("`{opcode}` is not supported")),
        _ => None,
    }
}
