//! Printing to the terminal while the command may be drawing a progress bar
//! on it. A bar redraws itself by moving the cursor up over the lines it
//! drew; a report printed in between would be overwritten. Stages that print
//! (a check report, a diff, an estimate) do it inside [`exclusive`], which
//! the binary hooks to hide the bar meanwhile; elsewhere (tests, library
//! use) it just runs the printing.

use std::sync::OnceLock;

/// How the binary clears the terminal for a print: it calls the function it
/// is given, with its bar hidden.
pub type Pause = Box<dyn Fn(&mut dyn FnMut()) + Send + Sync>;

static PAUSE: OnceLock<Pause> = OnceLock::new();

/// Sets, once per process, how [`exclusive`] keeps the terminal to itself.
/// Later calls are ignored.
pub fn set_pause(pause: Pause) {
    let _ = PAUSE.set(pause);
}

/// Runs `print` with the terminal to itself.
pub fn exclusive<R>(print: impl FnOnce() -> R) -> R {
    let Some(pause) = PAUSE.get() else {
        return print();
    };
    let mut print = Some(print);
    let mut result = None;
    pause(&mut || {
        if let Some(p) = print.take() {
            result = Some(p());
        }
    });
    match result {
        Some(r) => r,
        // A pause that did not call back: print anyway rather than lose it.
        None => match print.take() {
            Some(p) => p(),
            None => unreachable!("the print ran or is still here"),
        },
    }
}
