//! The shape rules of the ops that carry a region or give several results:
//! variadic `reduce`, `scatter`, `sort`, `reduce-window`, `select-and-scatter`
//! (XLA's `ShapeInference`, with messages that name the offending dimension).
//! Their regions' signatures need the module and are the verifier's
//! (`region.rs`).

use super::op::{ReduceOp, ScatterDims, WindowDim};
use super::shape::{ArrayShape, ElementType, Shape};
use super::shape_rules::{binary_types, mark};

type Rule<T> = Result<T, String>;

/// `reduce(operands..., inits...)` of N operands: a tuple of N results.
pub fn reduce_tuple(operands: &[&ArrayShape], dimensions: &[usize]) -> Rule<Shape> {
    let n = operands.len() / 2;
    if n == 0 || !operands.len().is_multiple_of(2) {
        return Err(format!(
            "a variadic reduce takes N operands and N init values, not {} operands",
            operands.len()
        ));
    }
    let (arrays, inits) = operands.split_at(n);
    let first = arrays[0];
    let mut reduced = vec![false; first.rank()];
    for &d in dimensions {
        mark(&mut reduced, d, "operand", "reduce")?;
    }
    let mut results = Vec::with_capacity(n);
    for (i, (a, init)) in arrays.iter().zip(inits).enumerate() {
        if a.dims != first.dims {
            return Err(format!(
                "reduce's operands must have one shape: operand {i} is {a}, operand 0 is {first}"
            ));
        }
        if init.rank() != 0 || init.element != a.element {
            return Err(format!(
                "reduce's init value {i} ({init}) must be a scalar of operand {i}'s type {}",
                a.element
            ));
        }
        let dims = (0..a.rank()).filter(|&d| !reduced[d]).map(|d| a.dims[d]);
        results.push(ArrayShape::new(a.element, dims.collect()));
    }
    Ok(Shape::Tuple(results))
}

/// `sort(operands...)`: one array, or a tuple of several of one shape.
pub fn sort(operands: &[&ArrayShape], dimension: usize) -> Rule<Shape> {
    let Some(first) = operands.first() else {
        return Err("sort needs at least one operand".into());
    };
    if dimension >= first.rank() {
        return Err(format!(
            "sort dimension {dimension} is out of range for {first}"
        ));
    }
    if let Some((i, other)) = operands
        .iter()
        .enumerate()
        .find(|(_, o)| o.dims != first.dims)
    {
        return Err(format!(
            "sort's operands must have one shape: operand {i} is {other}, operand 0 is {first}"
        ));
    }
    let results: Vec<ArrayShape> = operands
        .iter()
        .map(|o| ArrayShape::new(o.element, o.dims.clone()))
        .collect();
    Ok(match &results[..] {
        [one] => Shape::Array(one.clone()),
        _ => Shape::Tuple(results),
    })
}

/// `topk(operand)`: the values and their `s32` indices, `k` of them along the
/// last dimension.
pub fn top_k(operand: &ArrayShape, k: usize) -> Rule<Shape> {
    let Some(&last) = operand.dims.last() else {
        return Err(format!(
            "topk needs an operand of rank 1 or more, not {operand}"
        ));
    };
    if k > last {
        return Err(format!(
            "topk's k={k} is larger than the last dimension of {operand}"
        ));
    }
    let mut dims = operand.dims.clone();
    *dims.last_mut().expect("rank 1 or more") = k;
    Ok(Shape::Tuple(vec![
        ArrayShape::new(operand.element, dims.clone()),
        ArrayShape::new(ElementType::S32, dims),
    ]))
}

/// `reduce-window(operand, init)`: one element per window position.
pub fn reduce_window(
    operand: &ArrayShape,
    init: &ArrayShape,
    window: &[WindowDim],
) -> Rule<ArrayShape> {
    scalar_init(init, operand, "reduce-window")?;
    let dims = positions(operand, window, "reduce-window")?;
    Ok(ArrayShape::new(operand.element, dims))
}

/// `select-and-scatter(operand, source, init)`: the source has one element per
/// window position; the result has the operand's dimensions.
pub fn select_and_scatter(
    operand: &ArrayShape,
    source: &ArrayShape,
    init: &ArrayShape,
    window: &[WindowDim],
    scatter: ReduceOp,
) -> Rule<ArrayShape> {
    scalar_init(init, source, "select-and-scatter")?;
    combines(scatter, source, "select-and-scatter")?;
    if window
        .iter()
        .any(|w| w.base_dilation != 1 || w.window_dilation != 1)
    {
        return Err("select-and-scatter's window takes no dilation".into());
    }
    let expected = positions(operand, window, "select-and-scatter")?;
    if source.dims != expected {
        return Err(format!(
            "select-and-scatter's source {source} must have one element per window position of {operand}: [{}]",
            super::shape::join(&expected)
        ));
    }
    Ok(ArrayShape::new(source.element, operand.dims.clone()))
}

fn scalar_init(init: &ArrayShape, like: &ArrayShape, op: &str) -> Rule<()> {
    if init.rank() != 0 || init.element != like.element {
        return Err(format!(
            "{op}'s init value {init} must be a scalar of {like}'s type"
        ));
    }
    Ok(())
}

fn combines(reducer: ReduceOp, like: &ArrayShape, op: &str) -> Rule<()> {
    binary_types(reducer.combiner(), like.element).map_err(|_| {
        format!(
            "{op} cannot combine {} with {}",
            like.element,
            reducer.combiner().opcode()
        )
    })
}

/// The window positions along each dimension of `operand`.
fn positions(operand: &ArrayShape, window: &[WindowDim], op: &str) -> Rule<Vec<usize>> {
    if window.len() != operand.rank() {
        return Err(format!(
            "{op}'s window has {} dimensions for {operand}",
            window.len()
        ));
    }
    window
        .iter()
        .zip(&operand.dims)
        .enumerate()
        .map(|(d, (w, &n))| {
            if w.size == 0 {
                return Err(format!("{op}'s window dimension {d} has size 0"));
            }
            w.positions(n)
                .ok_or_else(|| format!("{op}'s window dimension {d} has a zero stride or dilation"))
        })
        .collect()
}

/// `scatter(operand, indices, updates)`: the operand's shape, once the
/// dimension numbers tie the three together as XLA's shape inference does.
pub fn scatter(
    operand: &ArrayShape,
    indices: &ArrayShape,
    updates: &ArrayShape,
    d: &ScatterDims,
) -> Rule<ArrayShape> {
    if !indices.element.is_integer() {
        return Err(format!("scatter's indices {indices} must be integers"));
    }
    if updates.element != operand.element {
        return Err(format!(
            "scatter's updates {updates} must have the operand's type {}",
            operand.element
        ));
    }
    if d.index_vector_dim > indices.rank() {
        return Err(format!(
            "index_vector_dim={} is out of range for indices {indices}",
            d.index_vector_dim
        ));
    }
    let vector_len = indices.dims.get(d.index_vector_dim).copied().unwrap_or(1);
    if d.scatter_dims_to_operand_dims.len() != vector_len {
        return Err(format!(
            "scatter_dims_to_operand_dims has {} dimensions but the index vectors of {indices} (index_vector_dim={}) have {vector_len}",
            d.scatter_dims_to_operand_dims.len(),
            d.index_vector_dim
        ));
    }
    // Operand dimensions: each is a window dimension, inserted, or batching.
    let mut operand_used = vec![false; operand.rank()];
    for &i in &d.inserted_window_dims {
        mark(&mut operand_used, i, "operand", "inserted_window_dims")?;
    }
    for &i in &d.input_batching_dims {
        mark(&mut operand_used, i, "operand", "input_batching_dims")?;
    }
    let mut indexed = vec![false; operand.rank()];
    for &i in &d.scatter_dims_to_operand_dims {
        mark(&mut indexed, i, "operand", "scatter_dims_to_operand_dims")?;
        if d.input_batching_dims.contains(&i) {
            return Err(format!(
                "operand dimension {i} is both indexed and a batching dimension"
            ));
        }
    }
    let window_rank = d.update_window_dims.len();
    if operand.rank() != window_rank + d.inserted_window_dims.len() + d.input_batching_dims.len() {
        return Err(format!(
            "operand {operand} must have update_window_dims ({window_rank}) + inserted_window_dims ({}) + input_batching_dims ({}) dimensions",
            d.inserted_window_dims.len(),
            d.input_batching_dims.len()
        ));
    }
    // Index dimensions other than the index vector's are the scatter dimensions.
    let scatter_dims: Vec<usize> = (0..indices.rank())
        .filter(|&i| i != d.index_vector_dim)
        .collect();
    if updates.rank() != window_rank + scatter_dims.len() {
        return Err(format!(
            "updates {updates} must have {} dimensions: {} scatter and {window_rank} window dimensions",
            window_rank + scatter_dims.len(),
            scatter_dims.len()
        ));
    }
    if !d.update_window_dims.windows(2).all(|w| w[0] < w[1]) {
        return Err("update_window_dims must be sorted".into());
    }
    let mut update_used = vec![false; updates.rank()];
    for &u in &d.update_window_dims {
        mark(&mut update_used, u, "updates", "update_window_dims")?;
    }
    // Window dimensions of the updates against the operand's remaining ones.
    let window_operand_dims = (0..operand.rank()).filter(|&i| !operand_used[i]);
    for (&u, o) in d.update_window_dims.iter().zip(window_operand_dims) {
        if updates.dims[u] > operand.dims[o] {
            return Err(format!(
                "update window dimension {u} of {updates} ({}) is larger than operand dimension {o} of {operand} ({})",
                updates.dims[u], operand.dims[o]
            ));
        }
    }
    // Scatter dimensions of the updates against the indices'.
    let update_scatter_dims = (0..updates.rank()).filter(|&u| !update_used[u]);
    for (u, &i) in update_scatter_dims.zip(&scatter_dims) {
        if updates.dims[u] != indices.dims[i] {
            return Err(format!(
                "update scatter dimension {u} of {updates} ({}) differs from index dimension {i} of {indices} ({})",
                updates.dims[u], indices.dims[i]
            ));
        }
    }
    if d.scatter_indices_batching_dims.len() != d.input_batching_dims.len() {
        return Err(
            "input_batching_dims and scatter_indices_batching_dims differ in length".into(),
        );
    }
    let mut index_used = vec![false; indices.rank()];
    for (&o, &i) in d
        .input_batching_dims
        .iter()
        .zip(&d.scatter_indices_batching_dims)
    {
        mark(
            &mut index_used,
            i,
            "indices",
            "scatter_indices_batching_dims",
        )?;
        if i == d.index_vector_dim {
            return Err(format!(
                "index dimension {i} is both the index vector and a batching dimension"
            ));
        }
        if operand.dims[o] != indices.dims[i] {
            return Err(format!(
                "batching dimension {o} of {operand} ({}) differs from index dimension {i} of {indices} ({})",
                operand.dims[o], indices.dims[i]
            ));
        }
    }
    Ok(ArrayShape::new(operand.element, operand.dims.clone()))
}
