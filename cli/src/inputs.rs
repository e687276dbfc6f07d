//! Binding a program's parameters to arrays: `--input NAME=FILE`, `--input
//! INDEX=FILE`, and `--random SEED` for whatever is left.

use std::path::PathBuf;

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::hlo::{ArrayShape, ElementType, Module};
use omelet_runtime::{Array, npy};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

use crate::CliError;

/// One `--input` flag: a parameter name or position, and a file.
#[derive(Clone, Debug)]
pub struct InputFlag {
    pub target: String,
    pub path: PathBuf,
}

impl std::str::FromStr for InputFlag {
    type Err = String;

    fn from_str(s: &str) -> Result<InputFlag, String> {
        match s.split_once('=') {
            Some((target, path)) if !target.is_empty() && !path.is_empty() => Ok(InputFlag {
                target: target.to_string(),
                path: PathBuf::from(path),
            }),
            _ => Err(format!(
                "expected NAME=FILE.npy or INDEX=FILE.npy, got `{s}`"
            )),
        }
    }
}

/// One array per entry parameter, in parameter order.
pub fn bind(
    module: &Module,
    flags: &[InputFlag],
    seed: Option<u64>,
) -> Result<Vec<Array>, CliError> {
    let entry = module.entry();
    let params: Vec<(&str, &ArrayShape)> = entry
        .parameters
        .iter()
        .map(|&p| {
            let instr = entry.instr(p);
            let shape = instr.shape.as_array().ok_or_else(|| {
                CliError::User(format!(
                    "error[E-INPUT]: parameter {} is a tuple, which is not supported",
                    instr.name
                ))
            })?;
            Ok((instr.name.as_str(), shape))
        })
        .collect::<Result<_, CliError>>()?;
    let mut bound: Vec<Option<Array>> = vec![None; params.len()];
    for flag in flags {
        let index = params
            .iter()
            .position(|(name, _)| *name == flag.target)
            .or_else(|| {
                flag.target
                    .parse::<usize>()
                    .ok()
                    .filter(|&i| i < params.len())
            })
            .ok_or_else(|| {
                let names: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
                input_error(format!(
                    "--input {}: no parameter of that name or position (parameters: {})",
                    flag.target,
                    names.join(", ")
                ))
            })?;
        let array = npy::read(&flag.path).map_err(input_error)?;
        let (name, shape) = params[index];
        if !shape.same_logical(&array.shape()) {
            return Err(input_error(format!(
                "input {name} expects {} but {} holds {}",
                shape.logical_text(),
                flag.path.display(),
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

/// Standard-normal floats, integers in -10..=10, fair booleans.
fn random(shape: &ArrayShape, rng: &mut StdRng) -> Array {
    let dims = IxDyn(&shape.dims);
    match shape.element {
        ElementType::F32 => Array::F32(ArrayD::from_shape_simple_fn(dims, || {
            rng.sample(StandardNormal)
        })),
        ElementType::S32 => Array::S32(ArrayD::from_shape_simple_fn(dims, || {
            rng.random_range(-10..=10)
        })),
        ElementType::Pred => Array::Pred(ArrayD::from_shape_simple_fn(dims, || rng.random())),
    }
}

fn input_error(message: String) -> CliError {
    CliError::User(format!("error[E-INPUT]: {message}"))
}
