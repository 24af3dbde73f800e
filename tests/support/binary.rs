//! Running the real `runner` binary from a test, and reading what it printed.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Runs `runner ARGS…` in `cwd` to its end, killed if it outlives `limit`.
pub async fn runner<S: AsRef<OsStr>>(args: &[S], cwd: &Path, limit: Duration) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_runner"));
    cmd.current_dir(cwd).args(args).kill_on_drop(true);
    tokio::time::timeout(limit, cmd.output())
        .await
        .unwrap_or_else(|_| {
            let args: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
            panic!("runner {} did not end within {limit:?}", args.join(" "))
        })
        .unwrap()
}

/// `runner run FILE --set S… --out OUT --progress never` in `cwd`, within 60 s.
pub async fn run_file(file: &Path, sets: &[String], out: &Path, cwd: &Path) -> Output {
    run_file_with(file, sets, out, cwd, &[]).await
}

/// [`run_file`] with more arguments after the others.
pub async fn run_file_with(file: &Path, sets: &[String], out: &Path, cwd: &Path, more: &[&str]) -> Output {
    let mut args: Vec<OsString> = vec!["run".into(), file.into()];
    for set in sets {
        args.extend(["--set".into(), set.into()]);
    }
    args.extend(["--out".into(), out.into(), "--progress".into(), "never".into()]);
    args.extend(more.iter().map(OsString::from));
    runner(&args, cwd, Duration::from_secs(60)).await
}

/// Standard output, then standard error, as text.
pub fn console(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}
