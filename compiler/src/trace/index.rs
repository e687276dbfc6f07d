//! Indexing and slicing: NumPy's basic indexing on arrays with compile-time
//! indices, an integer array (or run-time scalar) indexing the first axis as
//! a `gather`, and Python's indexing on lists and tuples.

use omelet_grammar::omelet::{Expr, IndexItem};

use crate::error::{CompileError, ErrorKind, Span};
use crate::hlo::SliceDim;

use super::eval::{Scope, Tracer, at, fail};
use super::index_builtins::{gather_along, wrap_negative};
use super::value::{Tensor, Value, user_type};

impl<'p> Tracer<'p> {
    pub(super) fn index(
        &mut self,
        scope: &mut Scope,
        base: Value,
        items: &[IndexItem],
        span: Span,
    ) -> Result<Value, CompileError> {
        match base {
            Value::Tensor(t) => {
                // Each index evaluated once: slices keep their bounds' expressions.
                let values = items
                    .iter()
                    .map(|item| match item {
                        IndexItem::Expr(e) => self.eval(scope, e).map(Some),
                        IndexItem::Slice { .. } => Ok(None),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                match (items, &values[..]) {
                    ([IndexItem::Expr(e)], [Some(Value::Tensor(ids))]) => {
                        self.take_rows(&t, ids, e.span)
                    }
                    _ => self.index_tensor(scope, &t, items, values, span),
                }
            }
            Value::List(v) | Value::Tuple(v) => {
                let [item] = items else {
                    return fail(ErrorKind::Shape, span, "a list takes one index");
                };
                match item {
                    IndexItem::Expr(e) => {
                        let i = self.compile_time_int(scope, e)?;
                        let n = v.len() as i64;
                        let j = if i < 0 { i + n } else { i };
                        if !(0..n).contains(&j) {
                            return fail(
                                ErrorKind::Shape,
                                e.span,
                                format!("index {i} is out of range for {n} elements"),
                            );
                        }
                        Ok(v[j as usize].clone())
                    }
                    IndexItem::Slice {
                        start,
                        stop,
                        step,
                        span: s,
                    } => {
                        let dim = self.slice_dim(scope, start, stop, step, v.len(), *s)?;
                        Ok(Value::List(
                            (dim.start..dim.limit)
                                .step_by(dim.stride)
                                .map(|i| v[i].clone())
                                .collect(),
                        ))
                    }
                }
            }
            other => fail(
                ErrorKind::Value,
                span,
                format!("cannot index {}", other.describe()),
            ),
        }
    }

    /// `t[ids]` for an integer array (or run-time scalar) `ids`: the rows of `t`
    /// that `ids` names, shaped `ids.shape + t.shape[1:]`. As in JAX, a
    /// negative index counts from the end once and one still out of range is
    /// clamped (XLA's gather).
    fn take_rows(&mut self, t: &Tensor, ids: &Tensor, span: Span) -> Result<Value, CompileError> {
        if !ids.element().is_integer() {
            return fail(
                ErrorKind::Dtype,
                span,
                format!(
                    "an index array must hold integers, not {}",
                    user_type(&ids.shape)
                ),
            );
        }
        let Some(&n) = t.dims().first() else {
            return fail(ErrorKind::Shape, span, "a scalar cannot be indexed");
        };
        let g = &mut self.graph;
        let taken = wrap_negative(g, ids, n).and_then(|ids| gather_along(g, t, &ids, 0));
        taken.map(Value::Tensor).map_err(|f| at(span, f))
    }

    /// NumPy basic indexing with compile-time indices: a slice of the axes that
    /// are sliced or indexed, then a reshape that drops indexed axes and adds
    /// `None` axes.
    fn index_tensor(
        &mut self,
        scope: &mut Scope,
        t: &Tensor,
        items: &[IndexItem],
        values: Vec<Option<Value>>,
        span: Span,
    ) -> Result<Value, CompileError> {
        let mut slices: Vec<SliceDim> = t
            .dims()
            .iter()
            .map(|&n| SliceDim {
                start: 0,
                limit: n,
                stride: 1,
            })
            .collect();
        let mut out_dims = Vec::new();
        let mut axis = 0;
        for (item, value) in items.iter().zip(values) {
            match item {
                IndexItem::Expr(e) => match value.expect("every expression is evaluated") {
                    Value::None => out_dims.push(1),
                    v if v.as_int().is_some() => {
                        let i = v.as_int().expect("checked");
                        let Some(&n) = t.dims().get(axis) else {
                            return fail(
                                ErrorKind::Shape,
                                e.span,
                                format!("too many indices for {}", user_type(&t.shape)),
                            );
                        };
                        let j = if i < 0 { i + n as i64 } else { i };
                        if !(0..n as i64).contains(&j) {
                            return fail(
                                ErrorKind::Shape,
                                e.span,
                                format!("index {i} is out of range for axis {axis} of size {n}"),
                            );
                        }
                        slices[axis] = SliceDim {
                            start: j as usize,
                            limit: j as usize + 1,
                            stride: 1,
                        };
                        axis += 1;
                    }
                    Value::Tensor(_) => {
                        return fail(
                            ErrorKind::Unsupported,
                            e.span,
                            "an index array must be the only index (`x[ids]`): beside others, indices are compile-time integers",
                        );
                    }
                    other => {
                        return fail(
                            ErrorKind::Value,
                            e.span,
                            format!(
                                "an index must be an integer, a slice or None, not {}",
                                other.describe()
                            ),
                        );
                    }
                },
                IndexItem::Slice {
                    start,
                    stop,
                    step,
                    span: s,
                } => {
                    let Some(&n) = t.dims().get(axis) else {
                        return fail(
                            ErrorKind::Shape,
                            *s,
                            format!("too many indices for {}", user_type(&t.shape)),
                        );
                    };
                    slices[axis] = self.slice_dim(scope, start, stop, step, n, *s)?;
                    out_dims.push(slices[axis].len());
                    axis += 1;
                }
            }
        }
        out_dims.extend_from_slice(&t.dims()[axis..]);
        let sliced = self.graph.slice(t, slices).map_err(|f| at(span, f))?;
        Ok(Value::Tensor(
            self.graph
                .reshape(&sliced, &out_dims)
                .map_err(|f| at(span, f))?,
        ))
    }

    /// `start:stop:step` over `n` elements, as Python normalizes it: negative
    /// bounds count from the end, out-of-range bounds clamp.
    pub(super) fn slice_dim(
        &mut self,
        scope: &mut Scope,
        start: &Option<Expr>,
        stop: &Option<Expr>,
        step: &Option<Expr>,
        n: usize,
        span: Span,
    ) -> Result<SliceDim, CompileError> {
        let mut bound = |e: &Option<Expr>| -> Result<Option<i64>, CompileError> {
            match e {
                None => Ok(None),
                Some(e) => match self.eval(scope, e)? {
                    Value::None => Ok(None),
                    v if v.as_int().is_some() => Ok(v.as_int()),
                    other => fail(
                        ErrorKind::Value,
                        e.span,
                        format!(
                            "a slice bound must be a compile-time integer, not {}",
                            other.describe()
                        ),
                    ),
                },
            }
        };
        let (start, stop, step) = (bound(start)?, bound(stop)?, bound(step)?.unwrap_or(1));
        if step <= 0 {
            let what = if step == 0 {
                "a slice step cannot be zero"
            } else {
                "negative slice steps are not supported"
            };
            return fail(
                if step == 0 {
                    ErrorKind::Value
                } else {
                    ErrorKind::Unsupported
                },
                span,
                what,
            );
        }
        let n = n as i64;
        let clamp = |v: Option<i64>, default: i64| match v {
            None => default,
            Some(v) if v < 0 => (v + n).max(0),
            Some(v) => v.min(n),
        };
        let (s, e) = (clamp(start, 0), clamp(stop, n));
        Ok(SliceDim {
            start: s as usize,
            limit: e.max(s) as usize,
            stride: step as usize,
        })
    }
}
