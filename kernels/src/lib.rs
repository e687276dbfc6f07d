//! Kernel generators. Fusion (in `omelet-compiler`) will hand this crate
//! backend-neutral kernel descriptions; the Cranelift and WGSL emitters that turn
//! them into code live here, and only here. Empty until the CPU backend lands:
//! today every backend runs the HLO graph through the reference interpreter.
