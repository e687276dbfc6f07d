//! [`Arith`] as WGSL text: each [`MathFn`] as a function `fn om_NAME(x: f32) -> f32`
//! for GPU shaders, the same operations in the same order as the CPU's IR but
//! for rounding to an integer (see `round_scaled`).
//!
//! Every operation becomes a `let` of its own, typed `f32`, `i32` or `bool` (a
//! mask), so the text reads as the IR does; constants are written in place. WGSL
//! only lets a shader hold an infinity or a NaN that is not a constant expression,
//! so those few constants are bit patterns read back from a `var`.
//!
//! WGSL does not pin down everything the CPU's bit-for-bit results rest on: it lets
//! `fma` round twice, subnormals flush to zero, and NaN and infinities behave as an
//! implementation pleases, so results may differ on such a GPU. The text itself
//! asks for exactly the CPU's arithmetic.

use super::{Arith, Cmp, MathFn, apply};
use std::fmt::Write;

impl MathFn {
    /// The name of this function in [`wgsl`]'s text.
    pub fn wgsl_name(self) -> &'static str {
        match self {
            MathFn::Exp => "om_exp",
            MathFn::Expm1 => "om_expm1",
            MathFn::Log => "om_log",
            MathFn::Log1p => "om_log1p",
            MathFn::Tanh => "om_tanh",
            MathFn::Logistic => "om_logistic",
            MathFn::Erf => "om_erf",
            MathFn::Sin => "om_sin",
            MathFn::Cos => "om_cos",
            MathFn::Tan => "om_tan",
            MathFn::Cbrt => "om_cbrt",
            MathFn::Atan2 => "om_atan2",
        }
    }
}

/// The WGSL definition of `fn NAME(x: f32) -> f32` computing `f`, where NAME is
/// [`MathFn::wgsl_name`]. It calls no other function of this module (logistic and
/// log1p inline the exp and log they build on), so it stands alone.
pub fn wgsl(f: MathFn) -> String {
    let mut e = Wgsl {
        values: vec![(Ty::F32, "x".to_owned()), (Ty::F32, "y".to_owned())],
        body: String::new(),
        temps: 0,
    };
    let args = [Val(0), Val(1)];
    let r = apply(&mut e, f, &args[..f.arity()]);
    let params = if f.arity() == 2 {
        "x: f32, y: f32"
    } else {
        "x: f32"
    };
    assert_eq!(e.ty(r), Ty::F32);
    format!(
        "// {f:?}({}) for f32, the same operations as Omelet's CPU kernels.\n\
         fn {}({params}) -> f32 {{\n{}    return {};\n}}\n",
        if f.arity() == 2 { "x, y" } else { "x" },
        f.wgsl_name(),
        e.body,
        e.text(r),
    )
}

/// The definitions of `fns` for a shader to call, each once whatever the repeats in
/// `fns`, in [`MathFn::ALL`]'s order (so equal sets give equal text). With the
/// functions standing alone (see [`wgsl`]), these are all the definitions needed.
pub fn wgsl_prelude(fns: &[MathFn]) -> String {
    let mut out = String::new();
    for f in MathFn::ALL.into_iter().filter(|f| fns.contains(f)) {
        if !out.is_empty() {
            out.push('\n');
        }
        out += &wgsl(f);
    }
    out
}

/// A WGSL value's type: a float, an int or a mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    F32,
    I32,
    Bool,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::F32 => "f32",
            Ty::I32 => "i32",
            Ty::Bool => "bool",
        }
    }
}

/// An index into [`Wgsl::values`].
#[derive(Clone, Copy, Debug)]
struct Val(usize);

/// The body of one WGSL function, a statement per instruction.
struct Wgsl {
    /// Each value's type and how an operand spells it: the name of its `let`, the
    /// parameter `x`, or a literal (in parentheses where it starts with a sign).
    values: Vec<(Ty, String)>,
    body: String,
    /// `let`s (and `var`s) named so far: `t0`, `t1`, ...
    temps: usize,
}

impl Wgsl {
    fn ty(&self, v: Val) -> Ty {
        self.values[v.0].0
    }

    fn text(&self, v: Val) -> &str {
        &self.values[v.0].1
    }

    /// A value spelled `text`, with no statement of its own.
    fn literal(&mut self, ty: Ty, text: String) -> Val {
        let text = if text.starts_with('-') {
            format!("({text})")
        } else {
            text
        };
        self.values.push((ty, text));
        Val(self.values.len() - 1)
    }

    /// A fresh temporary name.
    fn temp(&mut self) -> String {
        self.temps += 1;
        format!("t{}", self.temps - 1)
    }

    /// `let tN: ty = expr;`, and the value it names.
    fn bind(&mut self, ty: Ty, expr: String) -> Val {
        let name = self.temp();
        writeln!(self.body, "    let {name}: {} = {expr};", ty.name()).unwrap();
        self.values.push((ty, name));
        Val(self.values.len() - 1)
    }

    /// A `let` of type `ty` computing `expr` of the operands' spellings; the
    /// operands must all be of the type paired with them.
    fn op(&mut self, ty: Ty, operands: (Ty, &[Val]), expr: impl FnOnce(&[&str]) -> String) -> Val {
        let (want, args) = operands;
        for &a in args {
            assert_eq!(self.ty(a), want, "WGSL operand {}", self.text(a));
        }
        let texts: Vec<&str> = args.iter().map(|&a| self.text(a)).collect();
        let expr = expr(&texts);
        self.bind(ty, expr)
    }

    fn binary(&mut self, ty: Ty, x: Val, op: &str, y: Val) -> Val {
        self.op(ty, (ty, &[x, y]), |a| format!("{} {op} {}", a[0], a[1]))
    }
}

impl Arith for Wgsl {
    type V = Val;

    /// Finite values as decimal literals (Rust's shortest round-tripping form, which
    /// WGSL parses back to the same `f32`); infinities and NaN as bits.
    fn float(&mut self, v: f32) -> Val {
        let decimal = format!("{v:?}");
        if v.is_finite() && decimal.parse::<f32>().map(f32::to_bits) == Ok(v.to_bits()) {
            return self.literal(Ty::F32, format!("{decimal}f"));
        }
        // A constant expression may not be infinite or NaN: bitcast a variable's
        // value, which is not one.
        let bits = self.temp();
        writeln!(self.body, "    var {bits}: u32 = 0x{:08x}u;", v.to_bits()).unwrap();
        self.bind(Ty::F32, format!("bitcast<f32>({bits})"))
    }

    fn int(&mut self, v: u32) -> Val {
        let text = match v.cast_signed() {
            i32::MIN => format!("bitcast<i32>(0x{v:08x}u)"),
            n if n < 1024 => format!("{n}i"),
            _ => format!("0x{v:x}i"),
        };
        self.literal(Ty::I32, text)
    }

    fn as_int(&mut self, x: Val) -> Val {
        self.op(Ty::I32, (Ty::F32, &[x]), |a| {
            format!("bitcast<i32>({})", a[0])
        })
    }

    fn as_float(&mut self, x: Val) -> Val {
        self.op(Ty::F32, (Ty::I32, &[x]), |a| {
            format!("bitcast<f32>({})", a[0])
        })
    }

    fn int_to_float(&mut self, x: Val) -> Val {
        self.op(Ty::F32, (Ty::I32, &[x]), |a| format!("f32({})", a[0]))
    }

    fn fadd(&mut self, x: Val, y: Val) -> Val {
        self.binary(Ty::F32, x, "+", y)
    }

    fn fsub(&mut self, x: Val, y: Val) -> Val {
        self.binary(Ty::F32, x, "-", y)
    }

    fn fmul(&mut self, x: Val, y: Val) -> Val {
        self.binary(Ty::F32, x, "*", y)
    }

    fn fdiv(&mut self, x: Val, y: Val) -> Val {
        self.binary(Ty::F32, x, "/", y)
    }

    fn fma(&mut self, a: Val, b: Val, c: Val) -> Val {
        self.op(Ty::F32, (Ty::F32, &[a, b, c]), |a| {
            format!("fma({}, {}, {})", a[0], a[1], a[2])
        })
    }

    fn fabs(&mut self, x: Val) -> Val {
        self.op(Ty::F32, (Ty::F32, &[x]), |a| format!("abs({})", a[0]))
    }

    fn fneg(&mut self, x: Val) -> Val {
        self.op(Ty::F32, (Ty::F32, &[x]), |a| format!("-{}", a[0]))
    }

    fn fcmp(&mut self, cc: Cmp, x: Val, y: Val) -> Val {
        self.op(Ty::Bool, (Ty::F32, &[x, y]), |a| {
            let (x, y) = (a[0], a[1]);
            match cc {
                Cmp::Less => format!("{x} < {y}"),
                Cmp::Equal => format!("{x} == {y}"),
                Cmp::GreaterOrEqual => format!("{x} >= {y}"),
                // Every ordered compare is false for NaN, so its negation is true.
                Cmp::UnorderedOrGreaterOrEqual => format!("!({x} < {y})"),
            }
        })
    }

    /// WGSL's `select` takes the false value first and the condition last.
    fn select(&mut self, mask: Val, x: Val, y: Val) -> Val {
        let ty = self.ty(x);
        assert_eq!(self.ty(mask), Ty::Bool, "WGSL mask {}", self.text(mask));
        assert_eq!(self.ty(y), ty, "WGSL operand {}", self.text(y));
        let expr = format!(
            "select({}, {}, {})",
            self.text(y),
            self.text(x),
            self.text(mask)
        );
        self.bind(ty, expr)
    }

    // Runtime i32 arithmetic wraps in WGSL, and no operation here has two
    // constant operands, which would make a constant expression that must not.
    fn iadd(&mut self, x: Val, y: Val) -> Val {
        self.binary(Ty::I32, x, "+", y)
    }

    fn isub(&mut self, x: Val, y: Val) -> Val {
        self.binary(Ty::I32, x, "-", y)
    }

    fn band(&mut self, x: Val, y: Val) -> Val {
        self.binary(Ty::I32, x, "&", y)
    }

    fn bor(&mut self, x: Val, y: Val) -> Val {
        self.binary(Ty::I32, x, "|", y)
    }

    fn bxor(&mut self, x: Val, y: Val) -> Val {
        self.binary(Ty::I32, x, "^", y)
    }

    fn icmp_ne(&mut self, x: Val, y: Val) -> Val {
        self.op(Ty::Bool, (Ty::I32, &[x, y]), |a| {
            format!("{} != {}", a[0], a[1])
        })
    }

    /// `>>` on an `i32` is arithmetic in WGSL.
    fn sshr_imm(&mut self, x: Val, bits: u32) -> Val {
        assert!(bits < 32);
        self.op(Ty::I32, (Ty::I32, &[x]), |a| format!("{} >> {bits}u", a[0]))
    }

    fn ishl_imm(&mut self, x: Val, bits: u32) -> Val {
        assert!(bits < 32);
        self.op(Ty::I32, (Ty::I32, &[x]), |a| format!("{} << {bits}u", a[0]))
    }

    /// `round` (half to even) of the rounded product, not the CPU's magic-number
    /// sum: shader compilers treat float arithmetic as reassociable and fold
    /// `(x·s + M) − M` back to `x·s`. The two differ only where x·s lies within
    /// an ulp of a half-integer, and either n keeps |x − n/s| small enough for
    /// the polynomials.
    /// The exact products as integer products, scaled by a power of two: shader
    /// compilers merge `fma(n, −c₁, fma(n, −c₀, x))` into one multiply by the
    /// rounded sum c₀ + c₁, which loses what the split is for.
    fn cody_waite(&mut self, x: Val, (n, n_int): (Val, Val), parts: &[f32]) -> Val {
        let (last, exact) = parts.split_last().expect("at least one part");
        let mut r = x;
        for &c in exact {
            // c = m·2^p with m an integer of few bits, so n·m is an exact i32.
            let p = c.abs().log2().floor() as i32 - 23;
            let m = (c / 2f32.powi(p)) as u32;
            let zeros = m.trailing_zeros();
            let (m, p) = (m >> zeros, p + zeros as i32);
            assert_eq!(m as f32 * 2f32.powi(p), c, "{c} is not m·2^p");
            let m = self.int(m);
            let product = self.op(Ty::I32, (Ty::I32, &[n_int, m]), |a| {
                format!("{} * {}", a[0], a[1])
            });
            let product = self.int_to_float(product);
            let product = self.mul_const(product, 2f32.powi(p));
            r = self.fsub(r, product);
        }
        self.fma_const(n, -*last, r)
    }

    /// WGSL lets `fma` round twice, and then tanh's fit is 1 − 2^-23 at the
    /// clamp, so that `1 + tanh(x)` for large negative x is 1.2e-7, not 0.
    fn saturate(&mut self, x: Val, r: Val, limit: f32) -> Val {
        let a = self.fabs(x);
        let beyond = self.cmp_const(Cmp::GreaterOrEqual, a, limit);
        let one = self.float(1.0);
        let one = self.with_sign_of(one, x);
        self.select(beyond, one, r)
    }

    fn round_scaled(&mut self, x: Val, scale: f32) -> (Val, Val) {
        let n = self.mul_const(x, scale);
        let n = self.op(Ty::F32, (Ty::F32, &[n]), |a| format!("round({})", a[0]));
        let int = self.op(Ty::I32, (Ty::F32, &[n]), |a| format!("i32({})", a[0]));
        (n, int)
    }
}
