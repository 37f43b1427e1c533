//! External subcommands: `docpipe NAME ARGS...` runs `docpipe-NAME ARGS...`
//! found on PATH, as cargo runs `cargo-NAME`. The child inherits the
//! terminal; its exit status becomes docpipe's. `DOCPIPE` in its environment
//! is the path of this docpipe, so that it can call back.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

/// Runs the external subcommand `argv[0]` with the rest as its arguments.
pub fn run(argv: &[OsString]) -> Result<u8, String> {
    let Some((name, rest)) = argv.split_first() else {
        return Err("no subcommand given; `docpipe --help` lists them".into());
    };
    let name = name.to_string_lossy();
    let program = format!("docpipe-{name}");
    let Some(path) = find_on_path(&program) else {
        let installed = installed();
        let hint = if installed.is_empty() {
            String::new()
        } else {
            format!(
                "; external subcommands on PATH: {}",
                installed
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(format!(
            "no such command: `{name}` (neither built in nor a `{program}` executable on PATH); `docpipe --help` lists the commands{hint}"
        ));
    };
    let mut command = Command::new(&path);
    command.args(rest);
    if let Ok(me) = std::env::current_exe() {
        command.env("DOCPIPE", me);
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    Ok(match status.code() {
        Some(code) => u8::try_from(code).unwrap_or(1),
        // Killed by a signal: 128 + the signal's number, as shells report it.
        None => signal_status(&status),
    })
}

#[cfg(unix)]
fn signal_status(status: &std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    status
        .signal()
        .and_then(|s| u8::try_from(128 + s).ok())
        .unwrap_or(1)
}

#[cfg(not(unix))]
fn signal_status(_: &std::process::ExitStatus) -> u8 {
    1
}

fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default()
}

fn is_executable(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let file = format!("{program}{}", std::env::consts::EXE_SUFFIX);
    path_dirs()
        .into_iter()
        .map(|dir| dir.join(&file))
        .find(|p| is_executable(p))
}

/// The names of the `docpipe-NAME` executables on PATH.
fn installed() -> Vec<String> {
    let mut names: Vec<String> = path_dirs()
        .into_iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .flatten()
        .filter(|e| is_executable(&e.path()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name
                .strip_suffix(std::env::consts::EXE_SUFFIX)
                .unwrap_or(&name);
            stem.strip_prefix("docpipe-").map(str::to_string)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}
