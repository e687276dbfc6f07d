//! Arrays as flat row-major lists of [`Scalar`]s, for the ops that move
//! elements by computed indices (scatter, sort, windows): one generic
//! implementation for every element type, each element computed by
//! `hlo::Element` through `Scalar`.

use omelet_compiler::hlo::{ArrayShape, ElementType, Literal, Scalar};

use super::data;
use crate::array::Array;
use crate::each_array;

/// An array's elements in row-major order, with its dimensions.
pub struct Flat {
    pub dims: Vec<usize>,
    pub values: Vec<Scalar>,
}

impl Flat {
    pub fn of(x: &Array) -> Flat {
        Flat {
            dims: x.dims().to_vec(),
            values: each_array!(x, a => a.iter().map(|&v| Scalar::new(v)).collect()),
        }
    }

    /// `count` copies of `value` in an array of `dims`.
    pub fn filled(dims: &[usize], value: Scalar) -> Flat {
        Flat {
            dims: dims.to_vec(),
            values: vec![value; dims.iter().product()],
        }
    }

    pub fn into_array(self, element: ElementType) -> Array {
        let literal = Literal::from_scalars(element, self.values);
        data::constant(&literal, &ArrayShape::new(element, self.dims))
    }

    /// The row-major offset of `index`, or `None` outside the array.
    pub fn offset(&self, index: &[i64]) -> Option<usize> {
        let mut offset = 0usize;
        for (&i, &n) in index.iter().zip(&self.dims) {
            if i < 0 || i as u64 >= n as u64 {
                return None;
            }
            offset = offset * n + i as usize;
        }
        Some(offset)
    }
}

/// Every index of an array of `dims`, in row-major order.
pub fn indices(dims: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let count: usize = dims.iter().product();
    (0..count).map(move |mut flat| {
        let mut index = vec![0; dims.len()];
        for d in (0..dims.len()).rev() {
            index[d] = flat % dims[d];
            flat /= dims[d];
        }
        index
    })
}

/// An integer scalar's value (indices of any integer type).
pub fn integer(s: Scalar) -> i64 {
    match s.to_number() {
        omelet_compiler::hlo::Number::Int(i) => i.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
        _ => unreachable!("the verifier checks that indices are integers"),
    }
}
