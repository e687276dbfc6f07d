//! The optimizer: equality saturation over the HLO graph with egg.
//!
//! The entry computation goes into an e-graph ([`to_egraph`]), the rule families
//! ([`rules`]) grow it within [`Limits`], and [`extract`] rebuilds the cheapest
//! equivalent module. No egg type leaves this module.

mod analysis;
mod extract;
mod node;
mod rules;
mod saturate;
mod to_egraph;

use std::time::{Duration, Instant};

pub use saturate::{Limits, SaturationReport, StopReason};

use crate::hlo::Module;

/// The optimized module and how the search went.
pub struct Optimized {
    pub module: Module,
    pub report: SaturationReport,
    /// Wall time of conversion, saturation and extraction.
    pub time: Duration,
}

/// Rewrites the entry computation. A module with a tuple parameter (which no
/// program of ours produces, but HLO text may declare) is returned unchanged,
/// and so, for now, is one with control flow: its loops and branches run as
/// imported.
pub fn optimize(module: &Module, limits: Limits) -> Optimized {
    let start = Instant::now();
    let tuple_parameter = module
        .parameter_shapes()
        .iter()
        .any(|s| s.as_array().is_none());
    if tuple_parameter || module.has_control_flow() {
        return Optimized {
            module: module.clone(),
            report: SaturationReport::unchanged(),
            time: start.elapsed(),
        };
    }
    let mut egraph = analysis::HloGraph::default();
    let program = to_egraph::to_egraph(module, &mut egraph);
    egraph.rebuild();
    let report = saturate::saturate(&mut egraph, module, &rules::all(), limits);
    let mut optimized = extract::extract(&egraph, &program, module, limits.refinement);
    optimized.name = module.name.clone();
    Optimized {
        module: optimized,
        report,
        time: start.elapsed(),
    }
}
