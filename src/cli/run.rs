//! `runner run`: compile, execute each scenario, write its results, summarize, exit.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::signals::{self, Stop};
use super::{EXIT_FAILED, EXIT_INVALID, EXIT_OK, VarArgs, compile_all, compile_with, print, report, run_lab};
use crate::diagnostic::Diagnostic;
use crate::exec::{Run, ScenarioResult, run_scenario};
use crate::lab::Lab;
use crate::plan::Plan;
use crate::report::{
    Progress, ProgressMode, Transcript, TranscriptRouter, console, drive, results, run_summary, scenario_summary,
};

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
    /// Keep at most this much of each body in transcript.jsonl (`64KiB`, `1MiB`); a cut body
    /// keeps its first bytes, with its full size beside it.
    #[arg(long, value_name = "SIZE", default_value = "64KiB", value_parser = size)]
    transcript_body_limit: u64,
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
    let problems = same_names(&plans);
    if !problems.is_empty() {
        return report(&problems);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            console::err(&format!("error: cannot start the async runtime: {e}\n"));
            return EXIT_FAILED;
        }
    };
    if !args.lab {
        return runtime.block_on(run_all(plans, &args));
    }
    let (lab, plans) = match runtime.block_on(with_lab(&plans, &args)) {
        Ok(started) => started,
        Err(code) => return code,
    };
    let code = runtime.block_on(run_all(plans, &args));
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
async fn with_lab(plans: &[Plan], args: &RunArgs) -> Result<(Lab, Vec<Plan>), u8> {
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
    if !diagnostics.is_empty() {
        let _ = lab.shutdown().await;
        return Err(report(&diagnostics));
    }
    Ok((lab, plans.into_iter().filter(|p| selected(p, args)).collect()))
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

/// Two scenarios whose names give one results folder (`Normal Lifecycle` and
/// `normal-lifecycle`): their reports would mix.
fn same_names(plans: &[Plan]) -> Vec<Diagnostic> {
    let folder = |plan: &Plan| results::scenario_folder(&plan.name);
    let mut problems = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        if let Some(other) = plans[..i].iter().find(|p| folder(p) == folder(plan)) {
            let message = match other.name == plan.name {
                true => format!("two scenarios of this run are named `{}`", plan.name),
                false => format!(
                    "the scenarios `{}` and `{}` would share the results folder `{}`",
                    other.name,
                    plan.name,
                    folder(plan)
                ),
            };
            problems.push(Diagnostic::for_path(&plan.path, message).help("give one of them another `name:`"));
        }
    }
    problems
}

async fn run_all(plans: Vec<Plan>, args: &RunArgs) -> u8 {
    let cancel = CancellationToken::new();
    let stopped = signals::listen(cancel.clone());
    let run = Run::new(cancel.clone());
    let several = plans.len() > 1;
    let started = chrono::Utc::now();
    let placed = plans.into_iter().map(|plan| {
        let dir = results_dir(&plan, args.out.as_deref(), several, started);
        (plan, dir)
    });
    let batches: Vec<Vec<(Plan, PathBuf)>> = match args.parallel {
        true => vec![placed.collect()],
        false => placed.map(|one| vec![one]).collect(),
    };
    let mut outcomes: Vec<ScenarioResult> = Vec::new();
    let mut write_failed = false;
    for batch in batches {
        let mut failed = false;
        for (dir, result) in run_batch(batch, &run, args).await {
            let result = match result {
                Ok(result) => result,
                Err(e) => {
                    console::err(&format!("error: cannot write results to {}: {e}\n", dir.display()));
                    write_failed = true;
                    continue;
                }
            };
            print(&format!("{}  results: {}\n", scenario_summary(&result), dir.display()));
            failed |= !result.status.passed();
            outcomes.push(result);
        }
        if cancel.is_cancelled() || (failed && args.fail_fast) {
            break;
        }
    }
    if several {
        print(&run_summary(&outcomes));
    }
    exit_code(&outcomes, stopped.get(), write_failed)
}

/// Where a scenario's results go: `--out DIR` (a sub-folder per scenario when several run), or
/// `results/<scenario>-<timestamp>/`.
fn results_dir(plan: &Plan, out: Option<&Path>, several: bool, started: chrono::DateTime<chrono::Utc>) -> PathBuf {
    match (out, several) {
        (Some(out), false) => out.to_path_buf(),
        (Some(out), true) => out.join(results::scenario_folder(&plan.name)),
        (None, _) => results::scenario_dir(Path::new("results"), &plan.name, started),
    }
}

/// Runs scenarios at the same time with one reporter for all, then writes each one's results:
/// each scenario's folder and its outcome, in order. (Run one after another, a batch is one.)
async fn run_batch(
    batch: Vec<(Plan, PathBuf)>,
    run: &Run,
    args: &RunArgs,
) -> Vec<(PathBuf, std::io::Result<ScenarioResult>)> {
    let mut transcripts = TranscriptRouter::new();
    let mut ready = Vec::new();
    let mut outcomes = Vec::new();
    for (plan, dir) in batch {
        match std::fs::create_dir_all(&dir).and_then(|()| Transcript::create(dir.join("transcript.jsonl"))) {
            Ok(transcript) => {
                let transcript = transcript.with_body_limit(args.transcript_body_limit);
                transcripts.insert(plan.name.as_str(), transcript);
                ready.push((Arc::new(plan), dir));
            }
            Err(e) => outcomes.push((dir, Err(e))),
        }
    }
    let (events, receiver) = mpsc::unbounded_channel();
    let reporter = tokio::spawn(drive(receiver, Progress::new(args.progress, args.quiet), transcripts));
    let runs = ready
        .iter()
        .map(|(plan, _)| run_scenario(plan.clone(), run, events.clone()));
    let results = futures_util::future::join_all(runs).await;
    // The executors have dropped their clones; dropping this one lets the reporter drain and end.
    drop(events);
    let mut written: std::collections::HashMap<Arc<str>, std::io::Result<PathBuf>> = match reporter.await {
        Ok(transcripts) => transcripts.finish_all().into_iter().collect(),
        Err(e) => ready
            .iter()
            .map(|(plan, _)| (Arc::from(plan.name.as_str()), Err(std::io::Error::other(e.to_string()))))
            .collect(),
    };
    for ((plan, dir), result) in ready.into_iter().zip(results) {
        let saved = match written.remove(plan.name.as_str()) {
            Some(Err(e)) => Err(e),
            _ => Ok(()),
        }
        .and_then(|()| results::write_clients(&dir, &result.clients))
        .and_then(|()| results::write_report(&dir, &result))
        .map(|_| result);
        outcomes.push((dir, saved));
    }
    outcomes
}

/// A signal's own code when one stopped the run, as a shell would report the process it ended.
fn exit_code(outcomes: &[ScenarioResult], stopped: Option<Stop>, write_failed: bool) -> u8 {
    if let Some(stop) = stopped {
        stop.exit_code()
    } else if write_failed || outcomes.iter().any(|r| !r.status.passed()) {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
