//! The benchmark programs live in `suite/`; the benches in `benches/`.
