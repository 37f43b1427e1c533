//! The `docpipe` command: parses flags and wires docpipe-core and
//! docpipe-stages together. Everything else lives in those crates.

mod cli;

use std::ffi::c_void;
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
/// floors.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // SAFETY: this runs first, on the only thread, before any tree-sitter
    // object exists; the four functions are one allocator family, align like
    // malloc and never return null for a non-zero size (they abort, as
    // tree-sitter's own default allocator does).
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: ts_malloc,
            calloc: ts_calloc,
            realloc: ts_realloc,
            free: libmimalloc_sys::mi_free,
        }));
    }
    cli::main()
}

fn or_abort(p: *mut c_void, size: usize) -> *mut c_void {
    if p.is_null() && size > 0 {
        eprintln!("docpipe: out of memory while parsing");
        std::process::abort();
    }
    p
}

unsafe extern "C" fn ts_malloc(size: usize) -> *mut c_void {
    // SAFETY: plain allocation call.
    or_abort(unsafe { libmimalloc_sys::mi_malloc(size) }, size)
}

unsafe extern "C" fn ts_calloc(count: usize, size: usize) -> *mut c_void {
    // SAFETY: plain allocation call.
    or_abort(
        unsafe { libmimalloc_sys::mi_calloc(count, size) },
        count.saturating_mul(size),
    )
}

unsafe extern "C" fn ts_realloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: `p` came from this allocator family (tree-sitter only reallocates its own pointers).
    or_abort(unsafe { libmimalloc_sys::mi_realloc(p, size) }, size)
}
