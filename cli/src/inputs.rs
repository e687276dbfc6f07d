//! Binding a program's parameters to arrays: `--input NAME=FILE`, `--input
//! INDEX=FILE`, `--random SEED` for whatever is left, and `--shape B=64` for the
//! symbolic dimensions of a script that no file fixes.

use std::path::PathBuf;

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::hlo::{ArrayShape, ElementType, Kind, Module, Number, Scalar};
use omelet_runtime::{Array, npy};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

use crate::CliError;

/// Flags that bind a program's inputs (and so fix its shapes).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct InputArgs {
    /// Bind a parameter by name or position: NAME=FILE.npy or INDEX=FILE.npy.
    #[arg(long = "input", value_name = "NAME=FILE", value_parser = parse_input)]
    pub inputs: Vec<Binding<PathBuf>>,
    /// Fill every unbound input with reproducible standard-normal values.
    #[arg(long, value_name = "SEED")]
    pub random: Option<u64>,
    /// Bind a symbolic dimension of a script: B=64 (0 makes empty arrays).
    #[arg(long = "shape", value_name = "NAME=N", value_parser = parse_shape)]
    pub shapes: Vec<Binding<usize>>,
}

impl InputArgs {
    /// Each parameter and each dimension may be bound once: a second `--input`
    /// or `--shape` for one name is an error rather than a silent override.
    pub fn check_unique(&self) -> Result<(), CliError> {
        let twice = |flag: &str, name: &str, first: String, second: String| {
            Err(CliError::User(format!(
                "error[E-INPUT]: {flag} {name} is given twice ({name}={first} and {name}={second})"
            )))
        };
        for (i, b) in self.inputs.iter().enumerate() {
            if let Some(a) = self.inputs[..i].iter().find(|a| a.name == b.name) {
                let show = |p: &PathBuf| p.display().to_string();
                return twice("--input", &b.name, show(&a.value), show(&b.value));
            }
        }
        for (i, b) in self.shapes.iter().enumerate() {
            if let Some(a) = self.shapes[..i].iter().find(|a| a.name == b.name) {
                return twice("--shape", &b.name, a.value.to_string(), b.value.to_string());
            }
        }
        Ok(())
    }
}

/// `--input NAME=FILE`.
fn parse_input(s: &str) -> Result<Binding<PathBuf>, String> {
    match s.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => Ok(Binding {
            name: name.to_string(),
            value: PathBuf::from(file),
        }),
        _ => Err(format!("expected NAME=FILE.npy, got `{s}`")),
    }
}

/// `--shape NAME=N`, N a dimension: an integer from 0 (an empty axis) up.
fn parse_shape(s: &str) -> Result<Binding<usize>, String> {
    let Some((name, value)) = s.split_once('=').filter(|(name, _)| !name.is_empty()) else {
        return Err(format!("expected NAME=N, got `{s}`"));
    };
    let value = value
        .trim()
        .parse::<usize>()
        .map_err(|_| match value.trim().parse::<i128>() {
            Ok(n) if n < 0 => format!("the dimension {name} must not be negative, got {n}"),
            Ok(n) => format!("the dimension {name} is too large: {n}"),
            Err(_) => format!("the dimension {name} must be an integer, got `{value}`"),
        })?;
    Ok(Binding {
        name: name.to_string(),
        value,
    })
}

/// `NAME=VALUE` on the command line.
#[derive(Clone, Debug)]
pub struct Binding<T> {
    pub name: String,
    pub value: T,
}

impl<T> From<&Binding<T>> for (String, T)
where
    T: Clone,
{
    fn from(b: &Binding<T>) -> (String, T) {
        (b.name.clone(), b.value.clone())
    }
}

/// Reads every `--input` file: (the flag's target, the array).
pub fn read_files(flags: &[Binding<PathBuf>]) -> Result<Vec<(String, Array)>, CliError> {
    flags
        .iter()
        .map(|flag| {
            Ok((
                flag.name.clone(),
                npy::read(&flag.value).map_err(input_error)?,
            ))
        })
        .collect()
}

/// The position of the parameter a `--input` target names, by name or index.
pub fn resolve(target: &str, params: &[String]) -> Result<usize, CliError> {
    params
        .iter()
        .position(|p| p == target)
        .or_else(|| target.parse::<usize>().ok().filter(|&i| i < params.len()))
        .ok_or_else(|| {
            input_error(format!(
                "--input {target}: no parameter of that name or position (parameters: {})",
                params.join(", ")
            ))
        })
}

/// One array per entry parameter, in parameter order.
pub fn bind(
    module: &Module,
    files: Vec<(String, Array)>,
    seed: Option<u64>,
) -> Result<Vec<Array>, CliError> {
    let entry = module.entry();
    let params: Vec<(&str, &ArrayShape)> = entry
        .parameters
        .iter()
        .map(|&p| {
            let instr = entry.instr(p);
            let shape = instr.shape.as_array().ok_or_else(|| {
                input_error(format!(
                    "parameter {} is a tuple, which is not supported",
                    instr.name
                ))
            })?;
            Ok((instr.name.as_str(), shape))
        })
        .collect::<Result<_, CliError>>()?;
    let names: Vec<String> = params.iter().map(|(n, _)| n.to_string()).collect();
    let mut bound: Vec<Option<Array>> = vec![None; params.len()];
    for (target, array) in files {
        let index = resolve(&target, &names)?;
        let (name, shape) = params[index];
        if bound[index].is_some() {
            return Err(input_error(format!(
                "--input {target}: parameter {name} is already bound by another --input"
            )));
        }
        if !shape.same_logical(&array.shape()) {
            return Err(input_error(format!(
                "input {name} expects {} but was given {}",
                shape.logical_text(),
                array.shape().logical_text()
            )));
        }
        bound[index] = Some(array);
    }
    let mut rng = seed.map(StdRng::seed_from_u64);
    bound
        .into_iter()
        .zip(&params)
        .map(|(array, (name, shape))| match (array, rng.as_mut()) {
            (Some(array), _) => Ok(array),
            (None, Some(rng)) => Ok(random(shape, rng)),
            (None, None) => Err(input_error(format!(
                "missing input {name} ({}): bind it with --input {name}=FILE.npy or use --random SEED",
                shape.logical_text()
            ))),
        })
        .collect()
}

/// Standard-normal floats, integers in -10..=10 (unsigned: 0..=20), fair booleans.
fn random(shape: &ArrayShape, rng: &mut StdRng) -> Array {
    let dims = IxDyn(&shape.dims);
    let element = shape.element;
    match element {
        ElementType::F32 => {
            return Array::F32(ArrayD::from_shape_simple_fn(dims, || {
                rng.sample(StandardNormal)
            }));
        }
        ElementType::S32 => {
            return Array::S32(ArrayD::from_shape_simple_fn(dims, || {
                rng.random_range(-10..=10)
            }));
        }
        _ => {}
    }
    let mut next = || match element.kind() {
        Kind::Float => Number::Float(rng.sample(StandardNormal)),
        Kind::Signed => Number::Int(rng.random_range(-10..=10)),
        Kind::Unsigned => Number::Int(rng.random_range(0..=20)),
        Kind::Pred => Number::Bool(rng.random()),
    };
    let bytes: Vec<u8> = (0..shape.element_count())
        .flat_map(|_| {
            let bits = Scalar::from_number(element, next()).bits;
            bits.to_le_bytes().into_iter().take(element.byte_size())
        })
        .collect();
    Array::from_bytes(&ArrayShape::new(element, shape.dims.clone()), &bytes)
}

fn input_error(message: String) -> CliError {
    CliError::User(format!("error[E-INPUT]: {message}"))
}
