//! tree-sitter's allocator: the `docpipe` binary and the benchmark's parse
//! floor both make tree-sitter allocate with mimalloc, through this one
//! function, so the floor parses exactly as docpipe does.

use std::ffi::c_void;

/// Makes tree-sitter allocate with mimalloc (docpipe's global allocator).
///
/// # Safety
///
/// Call before any tree-sitter object exists, while no other thread uses
/// tree-sitter, and at most once.
pub unsafe fn use_mimalloc_for_tree_sitter() {
    // SAFETY: the caller promises the timing; the four functions are one
    // allocator family, align like malloc and never return null for a
    // non-zero size (they abort, as tree-sitter's own default allocator does).
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: ts_malloc,
            calloc: ts_calloc,
            realloc: ts_realloc,
            free: libmimalloc_sys::mi_free,
        }));
    }
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
