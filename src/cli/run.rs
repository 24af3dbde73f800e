//! `runner run`: compile, select by tag, start the lab if asked, run the [`crate::suite`], exit with
//! a code for its outcome.

use std::path::PathBuf;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::signals::{self, Stop};
use super::{EXIT_FAILED, EXIT_INVALID, EXIT_OK, VarArgs, compile_all, compile_with, report, run_lab};
use crate::exec::Record;
use crate::exec::Shard;
use crate::exec::TranscriptMode;
use crate::lab::Lab;
use crate::plan::Plan;
use crate::report::{ProgressMode, console};
use crate::suite::{Options, Outcome, Schedule, Suite};

/// What `runner run` takes.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files or folders (searched recursively for *.yaml and *.yml).
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(super) vars: VarArgs,
    /// Write the results here instead of results/<scenario>-<timestamp>/ (one sub-folder per
    /// scenario when several run).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Also write the whole run's JUnit XML here (each scenario's folder has its own
    /// junit.xml).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Progress display: bars on a terminal, plain status lines otherwise.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    progress: ProgressMode,
    /// Print nothing but the summary.
    #[arg(long, short)]
    quiet: bool,
    /// Run only scenarios with one of these tags (repeatable).
    #[arg(long, value_name = "TAG")]
    tag: Vec<String>,
    /// Skip scenarios with one of these tags (repeatable).
    #[arg(long, value_name = "TAG")]
    skip_tag: Vec<String>,
    /// Stop after the first scenario that fails.
    #[arg(long, conflicts_with = "parallel")]
    fail_fast: bool,
    /// Run the scenarios at the same time instead of one after another.
    #[arg(long)]
    parallel: bool,
    /// Start the built-in lab server for this run, configured by the scenarios' `lab:` blocks,
    /// and point the variables `mcp_url`, `api_url` and `database_url` at it (`--set` wins).
    #[arg(long)]
    lab: bool,
    /// The lab's store (`postgres://…` or `sqlite://PATH`); default: an SQLite file in the
    /// results folder.
    #[arg(long, value_name = "URL", requires = "lab")]
    lab_database: Option<String>,
    /// Which exchanges transcript.jsonl keeps: those of every step that failed plus each
    /// client's first 10 (`failures`), every one (`all`), or none (`off`).
    #[arg(long, value_enum, default_value_t = TranscriptMode::Failures)]
    transcript: TranscriptMode,
    /// Keep at most this much of each body in transcript.jsonl (`64KiB`, `1MiB`); a cut body
    /// keeps its first bytes, with its full size beside it.
    #[arg(long, value_name = "SIZE", default_value = "64KiB", value_parser = size)]
    transcript_body_limit: u64,
    /// Which of a loop's passes the result files keep in full; every pass is counted and measured
    /// in the loop's `passes` either way.
    #[arg(long, value_enum, default_value_t = Record::Bounded)]
    record: Record,
    /// Run only part I of N of each scenario's clients (I from 0): each group's instances and
    /// each schedule's arrivals dealt out by index. `runner merge` combines the parts' results.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
}

/// Runs the scenarios behind the paths; returns the exit code.
pub fn run(args: RunArgs) -> u8 {
    let (plans, diagnostics) = compile_all(&args.paths, &args.vars);
    if !diagnostics.is_empty() {
        return report(&diagnostics);
    }
    let plans: Vec<Plan> = plans.into_iter().filter(|p| selected(p, &args)).collect();
    if plans.is_empty() {
        console::err("error: no scenario to run (every one was filtered out by --tag / --skip-tag)\n");
        return EXIT_INVALID;
    }
    let suite = match Suite::new(plans) {
        Ok(suite) => suite,
        Err(problems) => return report(&problems),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            console::err(&format!("error: cannot start the async runtime: {e}\n"));
            return EXIT_FAILED;
        }
    };
    if !args.lab {
        return runtime.block_on(run_suite(suite, &args));
    }
    let (lab, suite) = match runtime.block_on(with_lab(suite.plans(), &args)) {
        Ok(started) => started,
        Err(code) => return code,
    };
    let code = runtime.block_on(run_suite(suite, &args));
    match runtime.block_on(lab.shutdown()) {
        Ok(_) => code,
        Err(e) => {
            console::err(&format!("error: the lab's store could not record its shutdown: {e}\n"));
            code.max(EXIT_FAILED)
        }
    }
}

/// Starts the lab the scenarios ask for and compiles them again with its URLs; on failure, the
/// exit code.
async fn with_lab(plans: &[Plan], args: &RunArgs) -> Result<(Lab, Suite), u8> {
    let database = run_lab::database(args.lab_database.as_deref(), args.out.as_deref()).map_err(|e| {
        console::err(&format!("error: cannot make the lab's store: {e}\n"));
        EXIT_FAILED
    })?;
    let settings = run_lab::settings(plans, database).map_err(|problems| report(&problems))?;
    let (lab, supplied) = run_lab::start(settings).await.map_err(|e| {
        console::err(&format!("error: cannot start the lab: {e}\n"));
        EXIT_FAILED
    })?;
    if !args.quiet {
        console::err(&format!("lab: {} (store: {})\n", lab.mcp_url(), lab.database_url()));
    }
    let (plans, diagnostics) = compile_with(&args.paths, &args.vars, &supplied);
    let suite = match diagnostics.is_empty() {
        true => Suite::new(plans.into_iter().filter(|p| selected(p, args)).collect()),
        false => Err(diagnostics),
    };
    match suite {
        Ok(suite) => Ok((lab, suite)),
        Err(problems) => {
            let _ = lab.shutdown().await;
            Err(report(&problems))
        }
    }
}

/// Runs the suite with the signals caught from its start; the exit code.
async fn run_suite(suite: Suite, args: &RunArgs) -> u8 {
    let cancel = CancellationToken::new();
    let stopped = signals::listen(cancel.clone());
    let outcome = suite.run(&options(args), cancel).await;
    exit_code(&outcome, stopped.get())
}

fn options(args: &RunArgs) -> Options {
    Options {
        out: args.out.clone(),
        junit: args.junit.clone(),
        schedule: match args.parallel {
            true => Schedule::AllAtOnce,
            false => Schedule::OneAfterAnother {
                fail_fast: args.fail_fast,
            },
        },
        progress: args.progress,
        quiet: args.quiet,
        transcript: args.transcript,
        transcript_body_limit: args.transcript_body_limit,
        record: args.record,
        shard: args.shard.unwrap_or_default(),
    }
}

/// A signal's own code when one stopped the run, as a shell would report the process it ended.
fn exit_code(outcome: &Outcome, stopped: Option<Stop>) -> u8 {
    match stopped {
        Some(stop) => stop.exit_code(),
        None if outcome.passed() => EXIT_OK,
        None => EXIT_FAILED,
    }
}

/// A size with a unit (`64KiB`, `1MB`) or bytes.
fn size(text: &str) -> Result<u64, String> {
    text.trim().parse::<bytesize::ByteSize>().map(|size| size.as_u64())
}

/// `--tag` keeps scenarios with any of its tags; `--skip-tag` drops those with any of its.
fn selected(plan: &Plan, args: &RunArgs) -> bool {
    let has = |tags: &[String]| plan.tags.iter().any(|t| tags.contains(t));
    (args.tag.is_empty() || has(&args.tag)) && !has(&args.skip_tag)
}
