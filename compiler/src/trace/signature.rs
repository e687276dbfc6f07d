//! Matching values against type annotations: `main`'s inputs (binding symbolic
//! dimensions), the parameters of user functions and their declared results.

use rustc_hash::FxHashMap;

use omelet_grammar::omelet::{DType, Dim, FnDef, TypeAnn};

use crate::error::{CompileError, ErrorKind};
use crate::hlo::ArrayShape;

use super::KnownShapes;
use super::eval::{Tracer, element_of, fail};
use super::graph::check_size;
use super::value::{Value, user_type};

impl<'p> Tracer<'p> {
    /// Resolves `main`'s parameter types to shapes: from the input files where
    /// given (binding symbolic dimensions), else from dimensions already bound.
    pub(super) fn bind_inputs(
        &mut self,
        main: &FnDef,
        known: &KnownShapes,
    ) -> Result<Vec<ArrayShape>, CompileError> {
        let mut typed = Vec::new();
        for param in &main.params {
            let ty = param.ty.as_ref().ok_or_else(|| {
                CompileError::at(
                    ErrorKind::Input,
                    param.name.span,
                    format!(
                        "parameter {} of main needs a type, e.g. `{}: f32[N]`",
                        param.name.name, param.name.name
                    ),
                )
            })?;
            typed.push((param, ty));
        }
        // Files first, so that a symbol takes its value from the first input that
        // mentions it, wherever the parameter stands.
        for (param, ty) in &typed {
            let Some(actual) = known.inputs.get(&param.name.name) else {
                continue;
            };
            if !self.bind_dims(ty, actual) {
                return fail(
                    ErrorKind::Input,
                    ty.span,
                    format!(
                        "input {} expects {} but was given {}",
                        param.name.name,
                        self.describe_type(ty),
                        user_type(actual)
                    ),
                );
            }
        }
        typed.iter().map(|(_, ty)| self.resolve_type(ty)).collect()
    }

    /// Matches an input's actual shape against its declared type, binding the
    /// type's unbound symbols; false on any disagreement.
    pub(super) fn bind_dims(&mut self, ty: &TypeAnn, actual: &ArrayShape) -> bool {
        if actual.element != element_of(ty.dtype) || actual.rank() != ty.dims.len() {
            return false;
        }
        for (dim, &size) in ty.dims.iter().zip(&actual.dims) {
            match dim {
                Dim::Fixed(n, _) if *n as usize != size => return false,
                Dim::Fixed(..) => {}
                Dim::Symbol(s) => {
                    if *self.dims.entry(s.name.clone()).or_insert(size) != size {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// A type's shape, every symbol bound.
    pub(super) fn resolve_type(&self, ty: &TypeAnn) -> Result<ArrayShape, CompileError> {
        let dims = ty
            .dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n, _) => Ok(*n as usize),
                Dim::Symbol(s) => self.dims.get(&s.name).copied().ok_or_else(|| {
                    CompileError::at(ErrorKind::Input, s.span, format!("symbolic dimension {} is not bound: give an input that fixes it or --shape {}=N", s.name, s.name))
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        check_size(element_of(ty.dtype), &dims)
            .map_err(|(_, message)| CompileError::at(ErrorKind::Input, ty.span, message))?;
        Ok(ArrayShape::new(element_of(ty.dtype), dims))
    }

    /// `f32[B,784]` with bound symbols shown: `f32[B=64,784]`.
    pub(super) fn describe_type(&self, ty: &TypeAnn) -> String {
        let dims: Vec<String> = ty
            .dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n, _) => n.to_string(),
                Dim::Symbol(s) => match self.dims.get(&s.name) {
                    Some(n) => format!("{}={n}", s.name),
                    None => s.name.clone(),
                },
            })
            .collect();
        format!("{}[{}]", ty.dtype.name(), dims.join(","))
    }

    /// Checks a value against a type annotation, binding the annotation's own
    /// symbols in `local`; `Err` carries the annotation as text.
    pub(super) fn check_type(
        &self,
        value: &Value,
        ty: &TypeAnn,
        local: &mut FxHashMap<String, usize>,
    ) -> Result<(), String> {
        let described = self.describe_type(ty);
        let Value::Tensor(t) = value else {
            let element = element_of(ty.dtype);
            let scalar_ok = ty.dims.is_empty()
                && match value {
                    Value::Float(_) => element.is_float(),
                    Value::Int(_) => true,
                    Value::Bool(_) => ty.dtype == DType::Bool,
                    _ => false,
                };
            return if scalar_ok { Ok(()) } else { Err(described) };
        };
        if t.element() != element_of(ty.dtype) || t.rank() != ty.dims.len() {
            return Err(described);
        }
        for (dim, &size) in ty.dims.iter().zip(t.dims()) {
            let expected = match dim {
                Dim::Fixed(n, _) => Some(*n as usize),
                Dim::Symbol(s) => self.dims.get(&s.name).or(local.get(&s.name)).copied(),
            };
            match (expected, dim) {
                (Some(e), _) if e != size => return Err(described),
                (None, Dim::Symbol(s)) => {
                    local.insert(s.name.clone(), size);
                }
                _ => {}
            }
        }
        Ok(())
    }
}
