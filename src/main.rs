//! The `docpipe` command: parses flags and wires docpipe-core and
//! docpipe-stages together. Everything else lives in those crates.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
