//! The WGSL functions that ops call, each emitted once per shader that needs
//! it: where WGSL's own operators differ from the interpreter's semantics
//! (NaN-aware `maximum`, integer division by zero, float-to-integer
//! saturation, exactly rounded integer-to-float conversion), and the rounding
//! and bit patterns of `f16` and `bf16`, which live in `f32` registers.

/// A WGSL function that some ops call, emitted once per shader that needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Helper {
    IsNan,
    MaxF32,
    MinF32,
    SignF32,
    DivF32,
    RemF32,
    DivS32,
    RemS32,
    PowF32,
    PowS32,
    DivU32,
    RemU32,
    PowU32,
    RoundF16,
    RoundBf16,
    F16Bits,
    F16Value,
    UintToFloat,
    IntToFloat,
    FloatToInt,
    FloatToUint,
}

impl Helper {
    /// The helpers this one calls.
    pub fn needs(self) -> &'static [Helper] {
        match self {
            Helper::MaxF32 | Helper::MinF32 | Helper::SignF32 | Helper::DivF32 | Helper::PowF32 => {
                &[Helper::IsNan]
            }
            Helper::FloatToInt | Helper::FloatToUint => &[Helper::IsNan],
            Helper::IntToFloat => &[Helper::UintToFloat],
            _ => &[],
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            // NaN tests look at the bits: shader compilers may assume no NaNs
            // and fold `x != x` to false.
            Helper::IsNan => {
                "fn om_isnan(x: f32) -> bool {\n    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;\n}\n"
            }
            // NaN in either operand gives NaN; otherwise the larger (smaller).
            Helper::MaxF32 => {
                "fn om_max(x: f32, y: f32) -> f32 {\n    return select(select(y, x, y < x), x, om_isnan(x));\n}\n"
            }
            Helper::MinF32 => {
                "fn om_min(x: f32, y: f32) -> f32 {\n    return select(select(y, x, x < y), x, om_isnan(x));\n}\n"
            }
            // ±1 with the sign bit of x; ±0 and NaN are their own sign.
            Helper::SignF32 => {
                "fn om_sign(x: f32) -> f32 {\n    let s = bitcast<f32>((bitcast<u32>(x) & 0x80000000u) | 0x3f800000u);\n    return select(s, x, x == 0.0f || om_isnan(x));\n}\n"
            }
            // IEEE 754's x / ±0 (±inf by the signs; NaN for 0 / 0 and NaN / 0),
            // chosen explicitly: shader compilers fold a division by a constant
            // zero to anything (lavapipe to 0), as in a mean over an empty batch.
            Helper::DivF32 => {
                "fn om_fdiv(x: f32, y: f32) -> f32 {
    let inf = bitcast<f32>(((bitcast<u32>(x) ^ bitcast<u32>(y)) & 0x80000000u) | 0x7f800000u);
    let by_zero = select(inf, bitcast<f32>(0x7fc00000u), x == 0.0f || om_isnan(x));
    return select(x / y, by_zero, y == 0.0f);
}
"
            }
            // C's fmod, exactly: the significands' remainder by long division,
            // eight bits at a time (WGSL's x − y·trunc(x/y) loses the result
            // when the quotient rounds, and is NaN for an infinite y). NaN for
            // a zero divisor, a NaN or an infinite dividend.
            Helper::RemF32 => {
                "fn om_frem(x: f32, y: f32) -> f32 {
    let sign = bitcast<u32>(x) & 0x80000000u;
    let ax = bitcast<u32>(x) & 0x7fffffffu;
    let ay = bitcast<u32>(y) & 0x7fffffffu;
    if (ay == 0u || ax >= 0x7f800000u || ay > 0x7f800000u) {
        return bitcast<f32>(0x7fc00000u);
    }
    if (ax < ay) {
        return x;
    }
    let ex = max(ax >> 23u, 1u);
    let ey = max(ay >> 23u, 1u);
    let mx = (ax & 0x7fffffu) | select(0x800000u, 0u, ax < 0x800000u);
    let my = (ay & 0x7fffffu) | select(0x800000u, 0u, ay < 0x800000u);
    var r = mx % my;
    var d = ex - ey;
    while (d > 0u) {
        let step = min(d, 8u);
        r = (r << step) % my;
        d = d - step;
    }
    if (r == 0u) {
        return bitcast<f32>(sign);
    }
    let shift = countLeadingZeros(r) - 8u;
    if (ey > shift) {
        return bitcast<f32>(sign | ((ey - shift) << 23u) | ((r << shift) & 0x7fffffu));
    }
    return bitcast<f32>(sign | (r << (ey - 1u)));
}
"
            }
            // WGSL gives x for x / 0 and for i32::MIN / -1; HLO gives −1 for the former.
            Helper::DivS32 => {
                "fn om_div(x: i32, y: i32) -> i32 {\n    return select(x / y, -1i, y == 0i);\n}\n"
            }
            // WGSL gives 0 for x % 0; HLO gives x.
            Helper::RemS32 => {
                "fn om_rem(x: i32, y: i32) -> i32 {\n    return select(x % y, x, y == 0i);\n}\n"
            }
            // C's pow: exp(y·log|x|) through the shared polynomials, the sign from
            // an odd integer exponent, and the special values of IEEE 754's pow
            // (zeros, infinite exponents, 1, NaNs).
            Helper::PowF32 => {
                "fn om_pow(x: f32, y: f32) -> f32 {
    let inf = bitcast<f32>(0x7f800000u);
    let ax = abs(x);
    let ay = abs(y);
    let integer = floor(y) == y && ay < inf;
    let odd = integer && ay < 16777216.0f && (i32(ay) & 1i) == 1i;
    var r = om_exp(y * om_log(ax));
    if (x < 0.0f) {
        r = select(bitcast<f32>(0x7fc00000u), select(r, -r, odd), integer);
    }
    if (ax == inf) {
        r = select(0.0f, inf, y > 0.0f);
        if (odd && x < 0.0f) { r = -r; }
    }
    if (x == 0.0f) {
        r = select(0.0f, inf, y < 0.0f);
        if (odd) { r = select(r, -r, bitcast<u32>(x) != 0u); }
    }
    if (ay == inf && !om_isnan(x)) {
        r = select(select(0.0f, inf, y > 0.0f), select(inf, 0.0f, y > 0.0f), ax < 1.0f);
        if (ax == 1.0f) { r = 1.0f; }
    }
    if (om_isnan(x) || om_isnan(y)) { r = bitcast<f32>(0x7fc00000u); }
    if (x == 1.0f || y == 0.0f) { r = 1.0f; }
    return r;
}
"
            }
            // Square-and-multiply, wrapping; negative exponents as the interpreter.
            Helper::PowS32 => {
                "fn om_ipow(base: i32, exponent: i32) -> i32 {
    if (exponent < 0i) {
        if (base == 1i) { return 1i; }
        if (base == -1i) { return select(-1i, 1i, (exponent & 1i) == 0i); }
        return 0i;
    }
    var result = 1i;
    var b = base;
    var e = u32(exponent);
    while (e > 0u) {
        if ((e & 1u) == 1u) { result = result * b; }
        b = b * b;
        e = e >> 1u;
    }
    return result;
}
"
            }
            // Unsigned x / 0 is all ones, x % 0 is x (WGSL gives x and 0).
            Helper::DivU32 => {
                "fn om_udiv(x: u32, y: u32) -> u32 {\n    return select(x / y, 0xffffffffu, y == 0u);\n}\n"
            }
            Helper::RemU32 => {
                "fn om_urem(x: u32, y: u32) -> u32 {\n    return select(x % y, x, y == 0u);\n}\n"
            }
            Helper::PowU32 => {
                "fn om_upow(base: u32, exponent: u32) -> u32 {
    var result = 1u;
    var b = base;
    var e = exponent;
    while (e > 0u) {
        if ((e & 1u) == 1u) { result = result * b; }
        b = b * b;
        e = e >> 1u;
    }
    return result;
}
"
            }
            // An f32 rounded to the nearest f16 (ties to even), as an f32:
            // infinity from 65520 up, subnormals as multiples of 2^-24 (in
            // integers, so that no flush to zero can touch them), NaN quiet
            // with the top of its payload.
            Helper::RoundF16 => {
                "fn om_f16(x: f32) -> f32 {
    let b = bitcast<u32>(x);
    let sign = b & 0x80000000u;
    let a = b & 0x7fffffffu;
    if (a > 0x7f800000u) {
        return bitcast<f32>(sign | 0x7fc00000u | (a & 0x007fe000u));
    }
    if (a >= 0x477ff000u) {
        return bitcast<f32>(sign | 0x7f800000u);
    }
    if (a >= 0x38800000u) {
        return bitcast<f32>(sign | ((a + 0xfffu + ((a >> 13u) & 1u)) & 0xffffe000u));
    }
    let e = a >> 23u;
    if (e < 102u) {
        return bitcast<f32>(sign);
    }
    let s = 126u - e;
    let m = (a & 0x007fffffu) | 0x00800000u;
    let half = 1u << (s - 1u);
    let rest = m & ((half << 1u) - 1u);
    let kept = m >> s;
    let q = kept + select(0u, 1u, rest > half || (rest == half && (kept & 1u) == 1u));
    return bitcast<f32>(sign | bitcast<u32>(f32(q) * bitcast<f32>(0x33800000u)));
}
"
            }
            // An f32 rounded to the nearest bf16 (ties to even), as an f32;
            // a NaN keeps its top bits and is made quiet (as `half` does).
            Helper::RoundBf16 => {
                "fn om_bf16(x: f32) -> f32 {
    let b = bitcast<u32>(x);
    if ((b & 0x7fffffffu) > 0x7f800000u) {
        return bitcast<f32>((b & 0xffff0000u) | 0x00400000u);
    }
    return bitcast<f32>((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);
}
"
            }
            // The f16 bits of an f32 that f16 represents (see `types::to_word`).
            Helper::F16Bits => {
                "fn om_f16_bits(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    let sign = (b >> 16u) & 0x8000u;
    let a = b & 0x7fffffffu;
    if (a > 0x7f800000u) {
        let payload = (a >> 13u) & 0x3ffu;
        return sign | 0x7c00u | select(payload, 0x200u, payload == 0u);
    }
    if (a == 0x7f800000u) {
        return sign | 0x7c00u;
    }
    if (a < 0x38800000u) {
        return sign | u32(bitcast<f32>(a) * 16777216.0f);
    }
    return sign | (((a >> 23u) - 112u) << 10u) | ((a >> 13u) & 0x3ffu);
}
"
            }
            // The f32 value of f16 bits, a NaN keeping its payload.
            Helper::F16Value => {
                "fn om_f16_value(h: u32) -> f32 {
    let sign = (h & 0x8000u) << 16u;
    let e = (h >> 10u) & 0x1fu;
    let m = h & 0x3ffu;
    if (e == 0x1fu) {
        return bitcast<f32>(sign | 0x7f800000u | (m << 13u));
    }
    if (e == 0u) {
        return bitcast<f32>(sign | bitcast<u32>(f32(m) * bitcast<f32>(0x33800000u)));
    }
    return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}
"
            }
            // An integer as an f32 of 24 significant bits, rounded in integers
            // (WGSL leaves the rounding of `f32(u32)` to the implementation): to
            // nearest even, or to odd (the dropped bits folded into the last),
            // so that rounding once more to bf16 rounds as if from the integer.
            Helper::UintToFloat => {
                "fn om_u2f(m: u32, odd: bool) -> f32 {
    let n = 32u - countLeadingZeros(m);
    if (n <= 24u) {
        return f32(m);
    }
    let s = n - 24u;
    let kept = m >> s;
    let rest = m & ((1u << s) - 1u);
    let half = 1u << (s - 1u);
    let nearest = kept + select(0u, 1u, rest > half || (rest == half && (kept & 1u) == 1u));
    let k = select(nearest, kept | select(0u, 1u, rest != 0u), odd);
    return f32(k) * f32(1u << s);
}
"
            }
            Helper::IntToFloat => {
                "fn om_s2f(x: i32, odd: bool) -> f32 {
    let m = select(bitcast<u32>(x), 0u - bitcast<u32>(x), x < 0i);
    let r = om_u2f(m, odd);
    return select(r, -r, x < 0i);
}
"
            }
            // Float to integer: truncated, saturated at the bounds (given as
            // integers and as the floats at or past them), NaN to 0.
            Helper::FloatToInt => {
                "fn om_f2s(x: f32, lo: i32, hi: i32, flo: f32, fhi: f32) -> i32 {
    if (om_isnan(x)) { return 0i; }
    if (x <= flo) { return lo; }
    if (x >= fhi) { return hi; }
    return i32(x);
}
"
            }
            Helper::FloatToUint => {
                "fn om_f2u(x: f32, hi: u32, fhi: f32) -> u32 {
    if (om_isnan(x) || x <= 0.0f) { return 0u; }
    if (x >= fhi) { return hi; }
    return u32(x);
}
"
            }
        }
    }
}
