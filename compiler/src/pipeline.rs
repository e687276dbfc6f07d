//! The compiler's stages in order: traced (as read), optimized (equality
//! saturation), fused (kernels). Every consumer — the CLI, the tests, the
//! backends — goes through [`compile`], so they all see the same modules.
//!
//! In debug builds (and so in tests) the verifier checks the module after every
//! pass: a module it rejects there is a compiler bug, and the panic names the pass.

use std::time::Duration;

use crate::fusion::{self, Refusal};
use crate::hlo::{Module, verify};
use crate::opt::{self, Limits, SaturationReport};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Traced,
    Optimized,
    Fused,
}

/// A module at a stage, with what the stages on the way reported.
pub struct Compiled {
    pub module: Module,
    /// The rewrite report and the optimizer's wall time, from `Optimized` on.
    pub rewrites: Option<(SaturationReport, Duration)>,
    /// Fusions refused and why, at `Fused`.
    pub refused: Vec<Refusal>,
}

pub fn compile(module: Module, stage: Stage) -> Compiled {
    let mut compiled = Compiled {
        module,
        rewrites: None,
        refused: Vec::new(),
    };
    if stage >= Stage::Optimized {
        let optimized = opt::optimize(&compiled.module, Limits::default());
        compiled.module = optimized.module;
        compiled.rewrites = Some((optimized.report, optimized.time));
        verified(&compiled.module, "optimize");
    }
    if stage >= Stage::Fused {
        let fused = fusion::fuse(&compiled.module);
        compiled.module = fused.module;
        compiled.refused = fused.refused;
        verified(&compiled.module, "fuse");
    }
    compiled
}

/// Checks what `pass` produced, in debug builds only.
fn verified(module: &Module, pass: &str) {
    if cfg!(debug_assertions)
        && let Err(e) = verify(module)
    {
        panic!("the verifier rejects the module after {pass}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlo::{Computation, ComputationId, InstrId};

    #[test]
    fn a_pass_that_breaks_the_module_is_named() {
        // An entry whose root does not exist.
        let module = Module {
            name: "m".into(),
            computations: vec![Computation {
                name: "main".into(),
                instructions: Vec::new(),
                parameters: Vec::new(),
                root: InstrId::new(0),
            }],
            entry: ComputationId::new(0),
        };
        let panic = std::panic::catch_unwind(|| verified(&module, "fuse"))
            .expect_err("the verifier rejects it in a debug build");
        let message = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(message.contains("after fuse"), "{message}");
        assert!(
            message.contains("root instruction does not exist"),
            "{message}"
        );
    }
}
