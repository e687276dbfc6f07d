//! What the fuzz tests share: their configuration from the environment, and a
//! panic hook that records, rather than prints, the panics proptest provokes.

use std::cell::{Cell, RefCell};
use std::sync::Once;

use proptest::test_runner::{Config, RngSeed, TestRunner};

/// A numeric environment variable, or `default`.
pub fn env(var: &str, default: u64) -> u64 {
    std::env::var(var).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{var}={v} is not a number"))
    })
}

/// A runner for `FUZZ_CASES` cases (`default_cases` unless set) from the seed
/// `FUZZ_SEED` (0 unless set), which it returns too, for failure reports.
pub fn runner(default_cases: u64) -> (TestRunner, u64) {
    let cases = env("FUZZ_CASES", default_cases);
    let seed = env("FUZZ_SEED", 0);
    let config = Config {
        cases: u32::try_from(cases).expect("FUZZ_CASES fits in 32 bits"),
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    (TestRunner::new(config), seed)
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` with the panics on this thread recorded instead of printed (proptest
/// catches them and shrinks their inputs, and a backtrace for each would drown
/// the report); returns `f`'s result and the last panic's message.
pub fn quietly<T>(f: impl FnOnce() -> T) -> (T, Option<String>) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.get() {
                LAST_PANIC.set(Some(info.to_string()));
            } else {
                default(info);
            }
        }));
    });
    QUIET.set(true);
    let result = f();
    QUIET.set(false);
    (result, LAST_PANIC.take())
}
