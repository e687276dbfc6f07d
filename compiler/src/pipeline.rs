//! The compiler's stages in order: traced (as read), optimized (equality
//! saturation), fused (kernels). Every consumer — the CLI, the tests, the
//! backends — goes through [`compile`], so they all see the same modules.

use std::time::Duration;

use crate::fusion::{self, Refusal};
use crate::hlo::Module;
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
    }
    if stage >= Stage::Fused {
        let fused = fusion::fuse(&compiled.module);
        compiled.module = fused.module;
        compiled.refused = fused.refused;
    }
    compiled
}
