//! Indexing and slicing: NumPy's basic indexing on arrays with compile-time
//! indices (a slice and a reshape), indexing with integer arrays or run-time
//! scalars (a `gather`, `gather_index.rs`), JAX's functional updates
//! `x.at[...].set(v)` (a `scatter`), and Python's indexing on lists and tuples.

use omelet_grammar::omelet::{Arg, AtUpdate, Expr, IndexItem};

use crate::error::{CompileError, ErrorKind, Span};
use crate::hlo::{BinaryOp, ElementType, SliceDim};

use super::arith;
use super::eval::{Scope, Tracer, at, fail};
use super::gather_index::{Index, Indexer};
use super::regions;
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
                let values = self.index_values(scope, items)?;
                if values.iter().any(|v| matches!(v, Some(Value::Tensor(_)))) {
                    let index = self.resolve(scope, &t, items, values)?;
                    let indexer = self.indexer(&t, &index, items)?;
                    return indexer
                        .gather(&mut self.graph, &t)
                        .map(Value::Tensor)
                        .map_err(|f| at(span, f));
                }
                self.index_tensor(scope, &t, items, values, span)
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

    /// Each index item's value, evaluated once (`None` for a slice, which
    /// keeps its bounds' expressions).
    fn index_values(
        &mut self,
        scope: &mut Scope,
        items: &[IndexItem],
    ) -> Result<Vec<Option<Value>>, CompileError> {
        items
            .iter()
            .map(|item| match item {
                IndexItem::Expr(e) => self.eval(scope, e).map(Some),
                IndexItem::Slice { .. } => Ok(None),
            })
            .collect()
    }

    /// The indices of `t[items]` (`values` their evaluated expressions),
    /// each checked against the axis it indexes.
    fn resolve(
        &mut self,
        scope: &mut Scope,
        t: &Tensor,
        items: &[IndexItem],
        values: Vec<Option<Value>>,
    ) -> Result<Vec<Index>, CompileError> {
        let mut index = Vec::with_capacity(items.len());
        let mut axis = 0;
        for (item, value) in items.iter().zip(values) {
            let item_span = match item {
                IndexItem::Expr(e) => e.span,
                IndexItem::Slice { span, .. } => *span,
            };
            if matches!(value, Some(Value::None)) {
                index.push(Index::NewAxis);
                continue;
            }
            let Some(&n) = t.dims().get(axis) else {
                return fail(
                    ErrorKind::Shape,
                    item_span,
                    format!("too many indices for {}", user_type(&t.shape)),
                );
            };
            index.push(match (item, value) {
                (IndexItem::Slice { start, stop, step, span }, _) => {
                    Index::Slice(self.slice_dim(scope, start, stop, step, n, *span)?)
                }
                (_, Some(Value::Tensor(ids))) => {
                    if !ids.element().is_integer() {
                        return fail(
                            ErrorKind::Dtype,
                            item_span,
                            format!(
                                "an index array must hold integers, not {}",
                                user_type(&ids.shape)
                            ),
                        );
                    }
                    Index::Tensor(ids)
                }
                (_, Some(v)) if let Some(i) = v.as_int() => {
                    let j = if i < 0 { i + n as i64 } else { i };
                    if !(0..n as i64).contains(&j) {
                        return fail(
                            ErrorKind::Shape,
                            item_span,
                            format!("index {i} is out of range for axis {axis} of size {n}"),
                        );
                    }
                    Index::Int(j)
                }
                (_, other) => {
                    return fail(
                        ErrorKind::Value,
                        item_span,
                        format!(
                            "an index must be an integer, an integer array, a slice or None, not {}",
                            other.map_or("nothing".into(), |v| v.describe())
                        ),
                    );
                }
            });
            axis += 1;
        }
        Ok(index)
    }

    /// The gather of `t[index]`, a failure located at the index that caused it.
    fn indexer(
        &mut self,
        t: &Tensor,
        index: &[Index],
        items: &[IndexItem],
    ) -> Result<Indexer, CompileError> {
        Indexer::new(&mut self.graph, t, index).map_err(|(p, f)| {
            let span = match items.get(p) {
                Some(IndexItem::Expr(e)) => e.span,
                Some(IndexItem::Slice { span, .. }) => *span,
                None => items.last().map_or(Span::new(0, 0), |i| match i {
                    IndexItem::Expr(e) => e.span,
                    IndexItem::Slice { span, .. } => *span,
                }),
            };
            at(span, f)
        })
    }

    /// `base.at[items].method(args)`: JAX's functional update, a `scatter`
    /// whose region keeps the new value (`set`) or combines it (`add`,
    /// `mul`, `min`, `max`). The value is converted to the array's type and
    /// broadcast to the indexed shape; updates at indices out of range are
    /// dropped, and of duplicate indices each is applied (in an order XLA
    /// leaves open for `set`).
    pub(super) fn at_update(
        &mut self,
        scope: &mut Scope,
        base: Value,
        update: &AtUpdate,
        span: Span,
    ) -> Result<Value, CompileError> {
        let AtUpdate {
            items,
            method,
            args,
            ..
        } = update;
        let Value::Tensor(t) = base else {
            return fail(
                ErrorKind::Value,
                span,
                format!("`.at[...]` needs an array, not {}", base.describe()),
            );
        };
        let combine = match method.name.as_str() {
            "set" => None,
            "add" => Some(BinaryOp::Add),
            "mul" => Some(BinaryOp::Multiply),
            "min" => Some(BinaryOp::Minimum),
            "max" => Some(BinaryOp::Maximum),
            other => {
                return fail(
                    ErrorKind::UnknownName,
                    method.span,
                    format!("`.at[...]` has no method `{other}`: set, add, mul, min or max"),
                );
            }
        };
        let [
            Arg {
                keyword: None,
                value: arg,
            },
        ] = &args[..]
        else {
            return fail(
                ErrorKind::Arity,
                span,
                format!("`.at[...].{}` takes one value", method.name),
            );
        };
        if t.element() == ElementType::Pred
            && matches!(combine, Some(BinaryOp::Add | BinaryOp::Multiply))
        {
            return fail(
                ErrorKind::Dtype,
                method.span,
                format!(
                    "`.at[...].{}` takes numbers, not {}",
                    method.name,
                    user_type(&t.shape)
                ),
            );
        }
        let values = self.index_values(scope, items)?;
        let value = self.eval(scope, arg)?;
        let index = self.resolve(scope, &t, items, values)?;
        let indexer = self.indexer(&t, &index, items)?;
        let g = &mut self.graph;
        let updates = arith::to_tensor(g, &value, t.element()).map_err(|f| at(arg.span, f))?;
        let updates = g
            .convert(&updates, t.element())
            .map_err(|f| at(arg.span, f))?;
        let updates = g
            .broadcast_to(&updates, &indexer.slice_shape)
            .map_err(|_| {
                CompileError::at(
                    ErrorKind::Shape,
                    arg.span,
                    format!(
                        "the value {} does not broadcast to the indexed shape [{}] of {}",
                        user_type(&updates.shape),
                        indexer
                            .slice_shape
                            .iter()
                            .map(usize::to_string)
                            .collect::<Vec<_>>()
                            .join(","),
                        user_type(&t.shape)
                    ),
                )
            })?;
        let region = match combine {
            None => regions::replace(g, t.element()),
            Some(op) => regions::binary(g, "scatter", t.element(), op),
        }
        .map_err(|f| at(span, f))?;
        indexer
            .scatter(g, &t, &updates, region)
            .map(Value::Tensor)
            .map_err(|f| at(span, f))
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
                    v if let Some(i) = v.as_int() => {
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
