//! The ops that sort or reduce along a dimension with a region of the module:
//! `sort` (its comparator) and variadic `reduce` (its combiner), each region
//! evaluated on scalars by `hlo::region::apply`; and `topk`, a sort in IEEE
//! total order cut to its first `k`.

use omelet_compiler::hlo::{Computation, Direction, ElementType, Scalar, region};

use super::flat::{Flat, indices};
use crate::array::Array;

/// Sorts every operand alike along `dimension`. A stable merge sort that
/// only asks whether one element goes before another: it takes the right
/// element first only when the comparator says so, as `std::stable_sort`
/// does, and stays total whatever the comparator (a NaN unordered by a plain
/// `compare` included). Unstable sorts may order equal elements any way; this
/// one keeps them in place.
pub fn sort(operands: &[&Array], dimension: usize, comparator: &Computation) -> Vec<Array> {
    let flats: Vec<Flat> = operands.iter().map(|a| Flat::of(a)).collect();
    let dims = flats[0].dims.clone();
    let n = dims[dimension];
    let stride: usize = dims[dimension + 1..].iter().product();
    let mut outs: Vec<Vec<Scalar>> = flats.iter().map(|f| f.values.clone()).collect();
    let mut outer = dims.clone();
    outer[dimension] = 1;
    // A row of no elements has no start to sort from.
    for start in indices(&outer).filter(|_| n > 0) {
        let start: Vec<i64> = start.iter().map(|&i| i as i64).collect();
        let base = flats[0].offset(&start).expect("inside the operand");
        let at = |i: usize| base + i * stride;
        let less = |a: usize, b: usize| {
            let args: Vec<Scalar> = flats
                .iter()
                .flat_map(|f| [f.values[at(a)], f.values[at(b)]])
                .collect();
            region::apply(comparator, &args)[0].bits != 0
        };
        let order = merge_sort((0..n).collect(), &less);
        for (out, flat) in outs.iter_mut().zip(&flats) {
            for (i, &from) in order.iter().enumerate() {
                out[at(i)] = flat.values[at(from)];
            }
        }
    }
    outs.into_iter()
        .zip(operands)
        .map(|(values, a)| {
            Flat {
                dims: dims.clone(),
                values,
            }
            .into_array(a.element_type())
        })
        .collect()
}

fn merge_sort(items: Vec<usize>, less: &impl Fn(usize, usize) -> bool) -> Vec<usize> {
    if items.len() <= 1 {
        return items;
    }
    let mut right = items;
    let left = right.drain(..right.len() / 2).collect();
    let (left, right) = (merge_sort(left, less), merge_sort(right, less));
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if less(right[j], left[i]) {
            merged.push(right[j]);
            j += 1;
        } else {
            merged.push(left[i]);
            i += 1;
        }
    }
    merged.extend_from_slice(&left[i..]);
    merged.extend_from_slice(&right[j..]);
    merged
}

/// `topk`: per row of the last dimension, the `k` greatest elements (least
/// where not `largest`) in IEEE total order (a positive NaN greatest, `+0`
/// above `-0`), equal ones by smaller index first, and their indices as `s32`.
/// XLA:CPU's TopK orders by the same integer keys (`runtime_topk.cc`).
pub fn top_k(x: &Array, k: usize, largest: bool) -> Vec<Array> {
    let flat = Flat::of(x);
    let n = *flat
        .dims
        .last()
        .expect("the shape rule wants rank 1 or more");
    let direction = if largest {
        Direction::Gt
    } else {
        Direction::Lt
    };
    let before = |a: Scalar, b: Scalar| region::total_order_compare(direction, a, b).bits != 0;
    let (mut values, mut positions) = (Vec::new(), Vec::new());
    // An empty last dimension leaves no elements: no rows.
    for row in flat.values.chunks(n.max(1)) {
        // A stable merge sort keeps equal elements in index order.
        let order = merge_sort((0..n).collect(), &|a, b| before(row[a], row[b]));
        for &i in &order[..k] {
            values.push(row[i]);
            positions.push(Scalar::new(i as i32));
        }
    }
    let mut dims = flat.dims;
    *dims.last_mut().expect("rank 1 or more") = k;
    vec![
        Flat {
            dims: dims.clone(),
            values,
        }
        .into_array(x.element_type()),
        Flat {
            dims,
            values: positions,
        }
        .into_array(ElementType::S32),
    ]
}

/// A variadic `reduce`: N operands and N inits; each result element folds
/// the region over the reduced elements in row-major order, the accumulators
/// first.
pub fn reduce_tuple(
    operands: &[&Array],
    dimensions: &[usize],
    to_apply: &Computation,
) -> Vec<Array> {
    let n = operands.len() / 2;
    let flats: Vec<Flat> = operands[..n].iter().map(|a| Flat::of(a)).collect();
    let inits: Vec<Scalar> = operands[n..]
        .iter()
        .map(|a| Flat::of(a).values[0])
        .collect();
    let dims = &flats[0].dims;
    let kept: Vec<usize> = (0..dims.len())
        .filter(|d| !dimensions.contains(d))
        .collect();
    let kept_dims: Vec<usize> = kept.iter().map(|&d| dims[d]).collect();
    let reduced_dims: Vec<usize> = dimensions.iter().map(|&d| dims[d]).collect();
    let mut results: Vec<Vec<Scalar>> = vec![Vec::new(); n];
    for out in indices(&kept_dims) {
        let mut acc = inits.clone();
        for r in indices(&reduced_dims) {
            let mut index = vec![0i64; dims.len()];
            for (&d, &i) in kept.iter().zip(&out) {
                index[d] = i as i64;
            }
            for (&d, &i) in dimensions.iter().zip(&r) {
                index[d] = i as i64;
            }
            let offset = flats[0].offset(&index).expect("inside the operand");
            let mut args = acc;
            args.extend(flats.iter().map(|f| f.values[offset]));
            acc = region::apply(to_apply, &args);
        }
        for (result, value) in results.iter_mut().zip(acc) {
            result.push(value);
        }
    }
    results
        .into_iter()
        .zip(operands)
        .map(|(values, a)| {
            Flat {
                dims: kept_dims.clone(),
                values,
            }
            .into_array(a.element_type())
        })
        .collect()
}
