//! How much memory a run holds at once, estimated before anything is allocated,
//! and the check of that estimate against the memory this process may use: a
//! program whose buffers cannot fit is refused with a clear error instead of
//! aborting on a failed allocation half way through.

use omelet_compiler::hlo::{Module, Shape};

use crate::array::RuntimeError;
use crate::plan::plan;

/// Overrides the memory available, in bytes (tests, or to cap a run below
/// what the machine has).
pub const LIMIT_VARIABLE: &str = "OMELET_MEMORY_LIMIT";

fn bytes(shape: &Shape) -> u64 {
    shape.arrays().iter().map(|a| a.byte_size() as u64).sum()
}

/// What every backend holds on the host: the program's inputs and results.
pub fn edge_bytes(module: &Module) -> u64 {
    let inputs: u64 = module.parameter_shapes().into_iter().map(bytes).sum();
    inputs + bytes(&module.entry().root_instr().shape)
}

/// What the interpreter may hold: every array the entry computes, as it
/// keeps each value to the end (tuples copy their elements).
pub fn interp_bytes(module: &Module) -> u64 {
    let entry = module.entry();
    let live = entry.live();
    entry
        .ids()
        .filter(|id| live[id.index()])
        .map(|id| bytes(&entry.instr(id).shape))
        .sum()
}

/// What the CPU engine holds running the fused `module`: inputs, results,
/// constants and the arena of its plan.
pub fn cpu_bytes(module: &Module) -> u64 {
    let planned = plan(module, &crate::cpu::STORAGE);
    let constants: u64 = planned
        .constants
        .iter()
        .map(|(_, shape)| shape.byte_size() as u64)
        .sum();
    edge_bytes(module) + constants + planned.arena_bytes as u64
}

/// The memory this process may still use, and where that figure comes
/// from: [`LIMIT_VARIABLE`] where set, else the least of Linux's
/// `MemAvailable` and what the process's cgroup (v2 `memory.max`, v1
/// `memory.limit_in_bytes`) leaves; `None` where none of them is known.
pub fn available() -> Result<Option<(u64, &'static str)>, RuntimeError> {
    if let Ok(text) = std::env::var(LIMIT_VARIABLE) {
        let limit = text
            .trim()
            .parse::<u64>()
            .ok()
            .or_else(|| {
                let f = text.trim().parse::<f64>().ok()?;
                (f >= 0.0 && f < u64::MAX as f64).then_some(f as u64)
            })
            .ok_or_else(|| {
                RuntimeError::unsupported(format!(
                    "{LIMIT_VARIABLE} must be a number of bytes, not `{text}`"
                ))
            })?;
        return Ok(Some((limit, LIMIT_VARIABLE)));
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some((kib.saturating_mul(1024), "MemAvailable in /proc/meminfo"))
    });
    let cgroup = cgroup_left().map(|left| (left, "the cgroup's memory limit"));
    Ok(match (meminfo, cgroup) {
        (Some(m), Some(c)) => Some(if c.0 < m.0 { c } else { m }),
        (m, c) => m.or(c),
    })
}

/// The bytes this process's cgroup may still take: its limit less its use.
fn cgroup_left() -> Option<u64> {
    let groups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let read =
        |path: String| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    for line in groups.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let path = path.trim_end_matches('/');
        // "max" (no limit) does not parse, and v1's "no limit" is a huge number.
        let (limit, usage) = match controllers {
            "" => {
                let dir = format!("/sys/fs/cgroup{path}");
                (
                    read(format!("{dir}/memory.max"))
                        .or_else(|| read("/sys/fs/cgroup/memory.max".into())),
                    read(format!("{dir}/memory.current"))
                        .or_else(|| read("/sys/fs/cgroup/memory.current".into())),
                )
            }
            c if c.split(',').any(|c| c == "memory") => {
                let dir = format!("/sys/fs/cgroup/memory{path}");
                (
                    read(format!("{dir}/memory.limit_in_bytes"))
                        .or_else(|| read("/sys/fs/cgroup/memory/memory.limit_in_bytes".into())),
                    read(format!("{dir}/memory.usage_in_bytes"))
                        .or_else(|| read("/sys/fs/cgroup/memory/memory.usage_in_bytes".into())),
                )
            }
            _ => continue,
        };
        if let Some(limit) = limit.filter(|&l| l < 1 << 62) {
            return Some(limit.saturating_sub(usage.unwrap_or(0)));
        }
    }
    None
}

/// An error when `needed` bytes (a run's estimate, `what` it counts) exceed
/// the memory [`available`]; where that is unknown, no check.
pub fn check(needed: u64, what: &str) -> Result<(), RuntimeError> {
    let Some((available, source)) = available()? else {
        return Ok(());
    };
    if needed <= available {
        return Ok(());
    }
    Err(RuntimeError::unsupported(format!(
        "it needs about {} of memory at once ({what}), more than the {} available ({source})",
        human(needed),
        human(available)
    )))
}

/// Bytes in decimal units, as `free -h --si` writes them.
fn human(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{value:.1} {}", units[unit]),
    }
}
