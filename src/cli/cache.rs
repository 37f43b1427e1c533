//! `docpipe cache stats|clear|invalidate`: the tiers of `[cache] tiers`,
//! built as a run builds them, asked directly.

use std::path::Path;
use std::sync::Arc;

use docpipe_core::cache_store::{CacheStore, TierStats};
use docpipe_core::printable;
use docpipe_core::registry::BuildContext;
use docpipe_core::stage::RunOptions;

use super::args::{CacheCommand, Cli};
use super::{Failure, exit, load_and_validate};

/// Runs `docpipe cache COMMAND`.
pub fn run(cli: &Cli, command: &CacheCommand) -> Result<u8, Failure> {
    let mut registry = docpipe_stages::builtin_registry();
    let (validated, location) = load_and_validate(cli, &mut registry, RunOptions::default())?;
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::Runtime(format!("no working directory: {e}")))?;
    let run = Arc::new(RunOptions {
        base_dir: cwd.clone(),
        config_dir: location.dir(),
        ..RunOptions::default()
    });
    let ctx = BuildContext {
        stage: "cache",
        config: &validated.config,
        registry: &registry,
        run: run.clone(),
        validate_only: false,
    };
    let only = match command {
        CacheCommand::Stats(a) | CacheCommand::Clear(a) => a.tier.as_deref(),
        CacheCommand::Invalidate(a) => a.tier.as_deref(),
    };
    let tiers = docpipe_stages::cache::build_tiers(&ctx, only).map_err(|e| {
        Failure::Usage(match e.help {
            Some(h) => format!("{}; {h}", e.message),
            None => e.message,
        })
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        match command {
            CacheCommand::Stats(_) => stats(&tiers).await,
            CacheCommand::Clear(_) => clear(&tiers).await,
            CacheCommand::Invalidate(a) => {
                let tag = match (&a.tag, &a.path) {
                    (Some(t), _) => t.clone(),
                    (None, Some(p)) => path_tag(p, &cwd, &run.project_dir())?,
                    (None, None) => {
                        return Err(Failure::Usage("give `--tag TAG` or `--path PATH`".into()));
                    }
                };
                invalidate(&tiers, &tag).await
            }
        }
    })
}

fn path_tag(path: &Path, cwd: &Path, project: &Path) -> Result<String, Failure> {
    if path.is_dir() {
        return Err(Failure::Usage(format!(
            "--path {}: a directory; give a file (entries are tagged by file), or `docpipe cache clear`",
            printable::path(path)
        )));
    }
    Ok(docpipe_stages::cache::key::path_tag(path, cwd, project))
}

/// A tier's failure, for people.
fn failed(tier: &dyn CacheStore, e: &docpipe_core::cache_store::CacheError) -> String {
    format!(
        "{}; {}",
        printable::text(&e.to_string()),
        docpipe_stages::cache::advice(tier.name())
    )
}

async fn stats(tiers: &[Arc<dyn CacheStore>]) -> Result<u8, Failure> {
    let mut rows: Vec<TierStats> = Vec::new();
    let mut code = exit::OK;
    for t in tiers {
        if t.name() == "memory" {
            // Lives only during a run: nothing to show from another process.
            continue;
        }
        match t.stats().await {
            Ok(s) => rows.push(s),
            Err(e) => {
                eprintln!("error: {}", failed(t.as_ref(), &e));
                code = exit::PROBLEMS;
            }
        }
    }
    println!(
        "{:<8} {:>10} {:>10} {:>10} {:>10}  where",
        "tier", "entries", "size", "hits", "misses"
    );
    for s in &rows {
        println!(
            "{:<8} {:>10} {:>10} {:>10} {:>10}  {}",
            s.tier,
            s.entries,
            size(s.bytes),
            s.hits,
            s.misses,
            s.location
        );
    }
    if tiers.iter().any(|t| t.name() == "memory") {
        println!("memory: held only during a run; see the `cache` section of `--report`");
    }
    Ok(code)
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / (1 << 10) as f64),
        b => format!("{b} B"),
    }
}

async fn clear(tiers: &[Arc<dyn CacheStore>]) -> Result<u8, Failure> {
    let mut code = exit::OK;
    for t in tiers {
        if t.name() == "memory" {
            continue;
        }
        match t.clear().await {
            Ok(n) => eprintln!(
                "{}: {} removed",
                t.name(),
                printable::count(n, "entry", "entries")
            ),
            Err(e) => {
                eprintln!("error: {}", failed(t.as_ref(), &e));
                code = exit::PROBLEMS;
            }
        }
    }
    Ok(code)
}

async fn invalidate(tiers: &[Arc<dyn CacheStore>], tag: &str) -> Result<u8, Failure> {
    let mut code = exit::OK;
    for t in tiers {
        if t.name() == "memory" {
            continue;
        }
        match t.invalidate_tag(tag).await {
            Ok(n) => eprintln!(
                "{}: {} tagged `{}` removed",
                t.name(),
                printable::count(n, "entry", "entries"),
                printable::text(tag)
            ),
            Err(e) => {
                eprintln!("error: {}", failed(t.as_ref(), &e));
                code = exit::PROBLEMS;
            }
        }
    }
    Ok(code)
}
