//! `math::wgsl`: every function's WGSL parses and validates with naga, alone and
//! as one prelude. Its accuracy on a GPU is measured by `cli/tests/gpu.rs`.

use naga::valid::{Capabilities, ValidationFlags, Validator};
use omelet_kernels::math::{MathFn, wgsl, wgsl_prelude};

/// `defs` and a compute entry point applying each of `fns` in place to its own
/// elements of a storage buffer.
fn shader(defs: &str, fns: &[MathFn]) -> String {
    let mut calls = String::new();
    for (k, f) in fns.iter().enumerate() {
        // A binary function (atan2) takes the element and its neighbour.
        let args = if f.arity() == 2 {
            format!("data[base + {k}u], data[base + {k}u + 1u]")
        } else {
            format!("data[base + {k}u]")
        };
        calls += &format!("    data[base + {k}u] = {}({args});\n", f.wgsl_name());
    }
    format!(
        "{defs}\n\
         @group(0) @binding(0) var<storage, read_write> data: array<f32>;\n\
         \n\
         @compute @workgroup_size(64)\n\
         fn main(@builtin(global_invocation_id) id: vec3<u32>) {{\n\
         \x20   let base = id.x * {}u;\n\
         {calls}}}\n",
        fns.len()
    )
}

fn validate(source: &str) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
    Validator::new(ValidationFlags::all(), Capabilities::all())
        .validate(&module)
        .map_err(|e| e.emit_to_string(source))?;
    Ok(())
}

#[test]
fn the_prelude_of_every_function_validates() {
    let source = shader(&wgsl_prelude(&MathFn::ALL), &MathFn::ALL);
    if let Err(e) = validate(&source) {
        panic!("{e}\n{source}");
    }
}

#[test]
fn each_function_validates_alone() {
    for f in MathFn::ALL {
        let source = shader(&wgsl(f), &[f]);
        if let Err(e) = validate(&source) {
            panic!("{f:?}: {e}\n{source}");
        }
    }
}

#[test]
fn the_prelude_defines_each_function_once() {
    let prelude = wgsl_prelude(&[MathFn::Cos, MathFn::Logistic, MathFn::Cos]);
    for f in MathFn::ALL {
        let defined = prelude.matches(&format!("fn {}(", f.wgsl_name())).count();
        let wanted = usize::from(matches!(f, MathFn::Cos | MathFn::Logistic));
        assert_eq!(defined, wanted, "{f:?} in\n{prelude}");
    }
    assert_eq!(
        prelude,
        wgsl_prelude(&[MathFn::Logistic, MathFn::Cos]),
        "the order of the request changes nothing"
    );
    assert!(wgsl_prelude(&[]).is_empty());
    let names: Vec<_> = MathFn::ALL.iter().map(|f| f.wgsl_name()).collect();
    for (k, name) in names.iter().enumerate() {
        assert!(!names[..k].contains(name), "{name} twice");
    }
}
