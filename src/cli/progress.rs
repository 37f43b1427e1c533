//! What a run shows while it goes: on a terminal, an indicatif bar of files
//! done out of files found (the total fixed once the sources have listed
//! their files), units by state, the model's requests, tokens and cost, and
//! an ETA; elsewhere (CI), the same as a status line every 10 seconds.
//! Logs and stages' printing hide the bar while they write (see
//! [`docpipe_core::console`]).

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use docpipe_core::executor::Progress;
use docpipe_core::printable;
use docpipe_core::report::RunStats;
use indicatif::{HumanDuration, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar being drawn, for the log writer and the console hook.
static CURRENT: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// How often the non-terminal status line is printed.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// Lets stages' printing and logs hide the bar while they write.
pub fn install_console_hook() {
    docpipe_core::console::set_pause(Box::new(|print| with_bar_hidden(print)));
}

/// Runs `print` with the bar, if one is drawn, hidden.
fn with_bar_hidden(print: &mut dyn FnMut()) {
    let bar = CURRENT.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(bar) => bar.suspend(print),
        None => print(),
    }
}

/// Log output on stderr that hides the bar while a line is written.
#[derive(Clone, Copy)]
pub struct LogWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter
    }
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut result = Ok(());
        with_bar_hidden(&mut || result = std::io::stderr().lock().write_all(buf));
        result.map(|()| buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// How the run's progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// A bar (stderr is a terminal).
    Bar,
    /// A status line every 10 seconds (stderr is not a terminal).
    StatusLines,
    /// Nothing (`-q`).
    Nothing,
}

/// What the counters say at one moment.
struct Snapshot {
    files_found: u64,
    files_done: u64,
    listing_done: bool,
    entered: u64,
    finished: u64,
    kept: u64,
    cached: u64,
    generated: u64,
    failed: u64,
    skipped: u64,
    cancelled: u64,
    requests: u64,
    tokens: u64,
    cost_usd: f64,
}

impl Snapshot {
    fn take(progress: &Progress, stats: &RunStats) -> Snapshot {
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        Snapshot {
            files_found: get(&progress.files_found),
            files_done: get(&progress.files_done),
            listing_done: progress.listing_done.load(Ordering::Relaxed),
            entered: get(&progress.entered),
            finished: get(&progress.finished),
            kept: get(&progress.kept),
            cached: get(&progress.cached),
            generated: get(&progress.generated),
            failed: get(&progress.failed),
            skipped: get(&progress.skipped),
            cancelled: get(&progress.cancelled),
            requests: get(&stats.model_requests),
            tokens: get(&stats.prompt_tokens) + get(&stats.completion_tokens),
            cost_usd: get(&stats.cost_micro_usd) as f64 / 1e6,
        }
    }

    /// The run counts in files, unless its sources emit units directly.
    fn in_files(&self) -> bool {
        self.files_found > 0 || !self.listing_done || self.entered == 0
    }

    /// (done, total) in the run's measure.
    fn position(&self) -> (u64, u64) {
        if self.in_files() {
            (self.files_done.min(self.files_found), self.files_found)
        } else {
            (self.finished, self.entered)
        }
    }

    /// Units by state, then what the model cost so far.
    fn counts(&self) -> String {
        let mut parts = vec![
            format!("{} generated", self.generated),
            format!("{} kept", self.kept),
            format!("{} cached", self.cached),
            format!("{} failed", self.failed),
        ];
        for (n, what) in [(self.skipped, "skipped"), (self.cancelled, "cancelled")] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        let mut text = parts.join(", ");
        if self.tokens > 0 || self.cost_usd > 0.0 {
            text.push_str(&format!(
                "; {}, {} tokens, {}",
                printable::count(self.requests, "request", "requests"),
                short_number(self.tokens),
                printable::usd(self.cost_usd)
            ));
        }
        text
    }

    /// The status line printed when stderr is not a terminal.
    fn status_line(&self, elapsed: Duration) -> String {
        let (done, total) = self.position();
        let unit = if self.in_files() { "files" } else { "units" };
        // Still listing: the total so far is a floor.
        let total = if self.listing_done {
            total.to_string()
        } else {
            format!("{total}+")
        };
        let mut line = format!(
            "docpipe: {done} of {total} {unit} done ({}); {} elapsed",
            self.counts(),
            HumanDuration(elapsed)
        );
        if let Some(left) = self.time_left(elapsed) {
            line.push_str(&format!(", about {} left", HumanDuration(left)));
        }
        line
    }

    /// What is left at the pace so far, once the total is known.
    fn time_left(&self, elapsed: Duration) -> Option<Duration> {
        let (done, total) = self.position();
        (self.listing_done && done > 0 && done < total)
            .then(|| elapsed.mul_f64((total - done) as f64 / done as f64))
    }
}

/// `1234` -> `1234`, `56789` -> `56.8k`, `1234567` -> `1.2M`.
fn short_number(n: u64) -> String {
    match n {
        0..10_000 => n.to_string(),
        10_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// The bar or the status lines of a running run.
pub struct Live {
    task: Option<tokio::task::JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

impl Live {
    /// Starts showing `progress` and `stats` as `show` says.
    pub fn start(show: Show, progress: Arc<Progress>, stats: Arc<RunStats>) -> Live {
        match show {
            Show::Nothing => Live {
                task: None,
                bar: None,
            },
            Show::StatusLines => Live {
                task: Some(tokio::spawn(async move {
                    let started = Instant::now();
                    let mut ticks = tokio::time::interval_at(
                        tokio::time::Instant::now() + STATUS_EVERY,
                        STATUS_EVERY,
                    );
                    loop {
                        ticks.tick().await;
                        let line = Snapshot::take(&progress, &stats).status_line(started.elapsed());
                        with_bar_hidden(&mut || eprintln!("{line}"));
                    }
                })),
                bar: None,
            },
            Show::Bar => {
                let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
                bar.set_style(listing_style());
                bar.enable_steady_tick(Duration::from_millis(120));
                if let Ok(mut current) = CURRENT.lock() {
                    *current = Some(bar.clone());
                }
                let b = bar.clone();
                let task = tokio::spawn(async move {
                    let mut counting = false;
                    loop {
                        let s = Snapshot::take(&progress, &stats);
                        let (done, total) = s.position();
                        if s.listing_done && !counting {
                            // The total is known: from now on the bar fills
                            // and the ETA means something.
                            counting = true;
                            b.set_style(counting_style(s.in_files()));
                            b.reset_eta();
                        }
                        b.set_length(total);
                        b.set_position(done);
                        b.set_message(s.counts());
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                });
                Live {
                    task: Some(task),
                    bar: Some(bar),
                }
            }
        }
    }

    /// Stops and removes the bar.
    pub fn finish(self) {
        if let Some(task) = self.task {
            task.abort();
        }
        if let Ok(mut current) = CURRENT.lock() {
            *current = None;
        }
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn listing_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {elapsed:>4} listing files: {len} found {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn counting_style(files: bool) -> ProgressStyle {
    let template = if files {
        "{spinner} {elapsed:>4} [{bar:20}] {pos}/{len} files · ETA {eta} · {wide_msg}"
    } else {
        "{spinner} {elapsed:>4} [{bar:20}] {pos}/{len} units · ETA {eta} · {wide_msg}"
    };
    ProgressStyle::with_template(template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            files_found: 200,
            files_done: 50,
            listing_done: true,
            entered: 4000,
            finished: 1000,
            kept: 700,
            cached: 0,
            generated: 290,
            failed: 10,
            skipped: 0,
            cancelled: 0,
            requests: 300,
            tokens: 196_800,
            cost_usd: 0.0412,
        }
    }

    #[test]
    fn a_status_line_says_files_units_model_use_and_time_left() {
        let line = snapshot().status_line(Duration::from_secs(30));
        assert_eq!(
            line,
            "docpipe: 50 of 200 files done (290 generated, 700 kept, 0 cached, 10 failed; \
             300 requests, 196.8k tokens, $0.04); 30 seconds elapsed, about 2 minutes left"
        );
    }

    #[test]
    fn before_the_listing_ends_there_is_no_time_left_and_the_total_is_provisional() {
        let s = Snapshot {
            listing_done: false,
            tokens: 0,
            cost_usd: 0.0,
            ..snapshot()
        };
        let line = s.status_line(Duration::from_secs(10));
        assert!(line.starts_with("docpipe: 50 of 200+ files done"), "{line}");
        assert!(!line.contains("left"), "{line}");
        assert!(!line.contains("requests"), "{line}");
    }
}
