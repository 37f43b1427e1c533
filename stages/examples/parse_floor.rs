//! The benchmark floor of `docpipe run check`: read every `.py` file under a
//! directory and parse it with tree-sitter-python on all cores, one parser per
//! thread, doing nothing else.
//!
//! `cargo run --release -p docpipe-stages --example parse_floor -- [--mimalloc] DIR`
//!
//! With `--mimalloc`, tree-sitter allocates with mimalloc, as the `docpipe`
//! binary makes it do; without it, with the C library's malloc. The bare
//! parse is the floor either way; the benchmark reports both.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect(&path, out),
            Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "py") => out.push(path),
            _ => {}
        }
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--mimalloc") {
        args.remove(0);
        // SAFETY: before any tree-sitter object exists, on the only thread.
        unsafe { docpipe_stages::python::use_mimalloc_for_tree_sitter() };
    }
    let Some(root) = args.first().cloned() else {
        eprintln!("usage: parse_floor [--mimalloc] DIR");
        std::process::exit(2);
    };
    let started = Instant::now();
    let mut files = Vec::new();
    collect(Path::new(&root), &mut files);
    let next = AtomicUsize::new(0);
    let nodes = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut parser = tree_sitter::Parser::new();
                if parser
                    .set_language(&tree_sitter_python::LANGUAGE.into())
                    .is_err()
                {
                    return;
                }
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let Ok(bytes) = std::fs::read(path) else {
                        continue;
                    };
                    if let Some(tree) = parser.parse(&bytes, None) {
                        nodes.fetch_add(tree.root_node().descendant_count(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    println!(
        "parsed {} files ({} nodes) on {threads} threads in {:.3} s",
        files.len(),
        nodes.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
}
