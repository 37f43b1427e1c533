//! The `docpipe` command: parses flags and wires docpipe-core and
//! docpipe-stages together. Everything else lives in those crates.

mod cli;

use std::process::ExitCode;

/// mimalloc for Rust's allocations and, below, for tree-sitter's.
///
/// With glibc's malloc for both, docpipe's per-file and per-unit allocations
/// land between tree-sitter's many small parse-stack and subtree allocations,
/// and freeing them kept triggering glibc's `malloc_consolidate`: `docpipe run
/// check` over the standard library spent a fifth of its CPU time in malloc
/// and free, against a seventh for a bare parse. mimalloc keeps per-thread,
/// per-size pages, so the two no longer disturb each other, and tree-sitter
/// itself parses faster with it: the bare-parse benchmark floor is about 15 %
/// faster on mimalloc, so BENCHMARKS.md (check) compares docpipe with both
/// floors. (The `system-allocator` feature leaves both to the C library,
/// for heap profilers that follow malloc.)
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // SAFETY: this runs first, on the only thread, before any tree-sitter
    // object exists.
    #[cfg(not(feature = "system-allocator"))]
    unsafe {
        docpipe_stages::python::use_mimalloc_for_tree_sitter()
    };
    cli::main()
}
