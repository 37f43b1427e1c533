//! The C ABI between docpipe and a native plugin, version [`ABI_VERSION`].
//!
//! A plugin is a `cdylib` exporting one function, [`ENTRY_SYMBOL`], of type
//! [`Entry`]: it returns a pointer to a static [`PluginHeader`]. Everything
//! else is one function, `call`, that takes a request and returns an answer,
//! both UTF-8 JSON, and `free`, that gives the answer's memory back to the
//! plugin's allocator.
//!
//! Why JSON and not Rust types: Rust has no stable ABI. A `Vec`, a trait
//! object or an `Arc` laid out by one rustc (or one version of
//! docpipe-core) may be laid out differently by another, and reading it
//! would be undefined behaviour without any error. JSON of the serde data
//! model that docpipe already uses for reports and cache entries is stable
//! by construction: a field added to a type with `#[serde(default)]` is
//! ignored by an older plugin and defaulted for a newer one. It costs a
//! serialization per call; BENCHMARKS.md measures it (the boundary adds a
//! few microseconds per unit).
//!
//! The handshake: the first two fields of [`PluginHeader`], `abi_version`
//! and `sdk_version`, keep their place in every ABI version. docpipe reads
//! them first and touches nothing else unless `abi_version` is its own, so a
//! mismatch is an error naming both versions, never a call through a
//! function pointer of another shape. A new ABI version is needed only when
//! the header or the calling convention changes; new requests and fields
//! travel in the JSON and need none.

use std::ffi::c_char;

/// The ABI version this docpipe speaks.
pub const ABI_VERSION: u32 = 1;

/// The name of the entry point, NUL-terminated.
pub const ENTRY_SYMBOL: &[u8] = b"docpipe_plugin_entry\0";

/// Bytes owned by the plugin: its answer to a call. docpipe copies them and
/// hands them back through [`PluginHeader::free`].
#[repr(C)]
#[derive(Debug)]
pub struct Buffer {
    /// Start of the bytes.
    pub ptr: *mut u8,
    /// Number of bytes.
    pub len: usize,
    /// Capacity of the allocation (for the plugin's `free`).
    pub cap: usize,
}

/// What the entry point returns: a pointer to static data in the plugin.
#[repr(C)]
pub struct PluginHeader {
    /// The ABI version the plugin was built for. Never moves.
    pub abi_version: u32,
    /// The version of the `docpipe-plugin` SDK the plugin was built with,
    /// NUL-terminated UTF-8. Never moves.
    pub sdk_version: *const c_char,
    /// Answers one request (JSON bytes, not NUL-terminated) with a JSON
    /// answer: `{"ok": ...}`, `{"error": "..."}` or `{"panic": "..."}`.
    /// Must not unwind: the SDK catches panics and answers `panic`.
    pub call: unsafe extern "C" fn(request: *const u8, len: usize) -> Buffer,
    /// Frees an answer of `call`.
    pub free: unsafe extern "C" fn(buffer: Buffer),
}

// SAFETY: the header is immutable static data in the plugin; its function
// pointers are safe to call from any thread (the SDK's requirement).
unsafe impl Sync for PluginHeader {}
// SAFETY: as above.
unsafe impl Send for PluginHeader {}

/// The type of the entry point.
pub type Entry = unsafe extern "C" fn() -> *const PluginHeader;
