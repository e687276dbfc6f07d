//! The benchmark programs live in `suite/`; the benches in `benches/`.

#![forbid(unsafe_code)]
