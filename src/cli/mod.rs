//! The command line: argument parsing and wiring of the pipeline stages, nothing else.

#[allow(
    clippy::print_stderr,
    reason = "`runner lab` logs the lab's own state, like the lab itself"
)]
mod lab;
mod run;
mod run_lab;
mod signals;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::compile::{CompileOptions, compile};
use crate::diagnostic::{Diagnostic, render_all};
use crate::load::{Overrides, load};
use crate::mask::{self, Masker};
use crate::plan::Plan;
use crate::report::merge::merge;
use crate::report::results::rerender;
use crate::report::{console, plan_tree};
use crate::report::{run_summary, scenario_summary};

/// Exit code of a run where every scenario passed (or every file is valid).
pub const EXIT_OK: u8 = 0;
/// Exit code of a run where a step or an assertion failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code of an invalid spec or a usage error.
pub const EXIT_INVALID: u8 = 2;
/// Exit code of a run stopped by Ctrl-C (SIGTERM and SIGHUP have their own: see `signals`).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Runs declarative YAML scenarios against MCP servers, HTTP services and their databases.
///
/// `runner PATHS…` is short for `runner run PATHS…`.
#[derive(Debug, Parser)]
#[command(
    name = "runner",
    version,
    about,
    max_term_width = 100,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: run::RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios: every client concurrently, results written, exit 0 only when all passed.
    Run(run::RunArgs),
    /// Check scenario files and report every problem with its file:line:col.
    Validate {
        /// Scenario files or folders (searched recursively for *.yaml and *.yml).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Print the compiled step graph of a scenario without running anything.
    Plan {
        /// The scenario file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Print the JSON Schema (draft 2020-12) of scenario files.
    Schema,
    /// Serve the reference MCP server, which records every session's life in a database.
    Lab(lab::LabArgs),
    /// Write junit.xml and report.html again from the report.json of results folders, without
    /// running anything.
    Report {
        /// Results folders: a scenario's, or a run's with one sub-folder per scenario.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Combine the results folders of a run's shards (`run --shard I/N`) into one: counts summed,
    /// histograms merged, thresholds judged again, its reports written.
    Merge {
        /// The shards' results folders: each a scenario's, or a run's with one per scenario.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the merged results go (one sub-folder per scenario when several).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Variable overrides, shared by every command that loads scenarios.
#[derive(Debug, Args)]
pub(crate) struct VarArgs {
    /// A YAML file of variable values that replace the scenario's defaults (repeatable).
    #[arg(long = "vars", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Replace one variable's default: NAME=VALUE, the value typed as YAML (repeatable; wins over --vars).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    assignments: Vec<String>,
    /// Like --set, but the value is a secret: `***` wherever it would be printed or written. A
    /// bare NAME takes the value of the environment variable NAME (repeatable; wins over --vars).
    #[arg(long = "secret", value_name = "NAME=VALUE|NAME")]
    secrets: Vec<String>,
}

impl VarArgs {
    /// Each `--secret` as (name, value), `NAME` alone read from the environment.
    fn secrets(&self) -> Vec<Result<(&str, String), String>> {
        self.secrets
            .iter()
            .map(|secret| match secret.split_once('=') {
                Some((name, value)) => Ok((name, value.to_string())),
                None => std::env::var(secret.trim())
                    .map(|value| (secret.as_str(), value))
                    .map_err(|_| format!("`--secret {secret}`: the environment variable `{secret}` is not set")),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

impl Cli {
    /// Runs the command; returns the process exit code.
    pub fn run(self) -> ExitCode {
        // Before anything is printed: every output masks the secrets from here on.
        if let Some(vars) = self.vars() {
            mask::install(Masker::new(
                vars.secrets().into_iter().flatten().map(|(_, value)| value),
            ));
        }
        let code = match self.command {
            Some(Command::Run(args)) => run::run(args),
            None if self.run.paths.is_empty() => {
                let _ = <Self as clap::CommandFactory>::command().print_help();
                EXIT_INVALID
            }
            None => run::run(self.run),
            Some(Command::Validate { paths, vars }) => validate(&paths, &vars),
            Some(Command::Plan { file, format, vars }) => plan(file, format, &vars),
            Some(Command::Schema) => {
                console::out_verbatim(&schema_text());
                EXIT_OK
            }
            Some(Command::Lab(args)) => lab::lab(args),
            Some(Command::Report { dirs }) => rerender_reports(&dirs),
            Some(Command::Merge { dirs, out }) => merge_shards(&dirs, &out),
        };
        ExitCode::from(code)
    }
}

impl Cli {
    fn vars(&self) -> Option<&VarArgs> {
        match &self.command {
            None => Some(&self.run.vars),
            Some(Command::Run(args)) => Some(&args.vars),
            Some(Command::Validate { vars, .. } | Command::Plan { vars, .. }) => Some(vars),
            Some(Command::Schema | Command::Lab(_) | Command::Report { .. } | Command::Merge { .. }) => None,
        }
    }
}

/// `runner report`: each scenario folder's reports written again; exit 2 when one could not be.
fn rerender_reports(dirs: &[PathBuf]) -> u8 {
    let mut code = EXIT_OK;
    for dir in dirs {
        match rerender(dir) {
            Ok(written) => {
                for path in written {
                    console::out(&format!("{}\n", path.display()));
                }
            }
            Err(e) => {
                console::err(&format!("error: {e}\n"));
                code = EXIT_INVALID;
            }
        }
    }
    code
}

/// `runner merge`: each scenario's shards as one, with its summary; exit 1 when a merged
/// scenario failed, 2 when the shards could not be merged.
fn merge_shards(dirs: &[PathBuf], out: &std::path::Path) -> u8 {
    let merged = match merge(dirs, out) {
        Ok(merged) => merged,
        Err(e) => {
            console::err(&format!("error: {e}\n"));
            return EXIT_INVALID;
        }
    };
    for scenario in &merged {
        let summary = scenario_summary(&scenario.result);
        let (parts, dir) = (scenario.parts, scenario.dir.display());
        console::out(&format!("{summary}  merged from {parts} shards: {dir}\n"));
    }
    let results: Vec<_> = merged.into_iter().map(|m| m.result).collect();
    console::out(&run_summary(&results));
    match results.iter().all(|r| r.status.passed()) {
        true => EXIT_OK,
        false => EXIT_FAILED,
    }
}

/// The JSON Schema as `runner schema` prints it (and `schemas/scenario.schema.json` holds it).
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&crate::spec::json_schema()).expect("a JSON value serializes");
    text.push('\n');
    text
}

fn overrides(vars: &VarArgs, supplied: &[(&str, String)]) -> Result<Overrides, Vec<Diagnostic>> {
    let mut overrides = Overrides::default();
    let mut problems = Vec::new();
    for file in &vars.files {
        if let Err(d) = overrides.add_file(file) {
            problems.push(d);
        }
    }
    for assignment in &vars.assignments {
        if let Err(message) = overrides.add_assignment(assignment) {
            problems.push(Diagnostic::for_path(std::path::Path::new("--set"), message));
        }
    }
    // After `--set`, so a secret wins; one name in both is refused rather than one of them
    // silently ignored.
    for secret in vars.secrets() {
        let added = secret.and_then(|(name, value)| {
            let set_too = vars
                .assignments
                .iter()
                .any(|a| a.split_once('=').is_some_and(|(n, _)| n.trim() == name.trim()));
            match set_too {
                true => Err(format!("`{}` is given by both --set and --secret", name.trim())),
                false => overrides.add_secret(name, &value),
            }
        });
        if let Err(message) = added {
            problems.push(Diagnostic::for_path(std::path::Path::new("--secret"), message));
        }
    }
    for (name, value) in supplied {
        overrides.add_supplied(name, value);
    }
    if problems.is_empty() {
        Ok(overrides)
    } else {
        Err(problems)
    }
}

/// Loads and compiles every scenario behind `paths`: the plans, and the problems of the rest.
pub(crate) fn compile_all(paths: &[PathBuf], vars: &VarArgs) -> (Vec<Plan>, Vec<Diagnostic>) {
    compile_with(paths, vars, &[])
}

/// [`compile_all`], with values the runner supplies for variables the scenarios declare.
pub(crate) fn compile_with(
    paths: &[PathBuf],
    vars: &VarArgs,
    supplied: &[(&str, String)],
) -> (Vec<Plan>, Vec<Diagnostic>) {
    let overrides = match overrides(vars, supplied) {
        Ok(o) => o,
        Err(problems) => return (Vec::new(), problems),
    };
    let outcome = load(paths, &overrides);
    let options = CompileOptions::from_process();
    let mut diagnostics = outcome.diagnostics;
    let mut plans = Vec::new();
    for loaded in &outcome.scenarios {
        match compile(loaded, &options) {
            Ok(plan) => plans.push(plan),
            Err(problems) => diagnostics.extend(problems),
        }
    }
    (plans, diagnostics)
}

fn validate(paths: &[PathBuf], vars: &VarArgs) -> u8 {
    let (plans, diagnostics) = compile_all(paths, vars);
    let mut out = String::new();
    for plan in &plans {
        out.push_str(&format!("ok {}\n", plan.path.display()));
    }
    print(&out);
    if diagnostics.is_empty() {
        if plans.is_empty() {
            console::err("error: no scenario files found\n");
            return EXIT_INVALID;
        }
        return EXIT_OK;
    }
    report(&diagnostics)
}

fn plan(file: PathBuf, format: Format, vars: &VarArgs) -> u8 {
    let (plans, diagnostics) = compile_all(&[file], vars);
    if !diagnostics.is_empty() {
        return report(&diagnostics);
    }
    let mut text = String::new();
    for plan in &plans {
        match format {
            Format::Text => text.push_str(&plan_tree(plan)),
            Format::Json => {
                if let Err(e) = console::out_json(plan) {
                    console::err(&format!("error: cannot print the plan: {e}\n"));
                    return EXIT_FAILED;
                }
            }
        }
    }
    print(&text)
}

pub(crate) fn report(diagnostics: &[Diagnostic]) -> u8 {
    console::err(&render_all(diagnostics));
    EXIT_INVALID
}

/// Writes to stdout through [`console::out`] (masked, escaped; a closed pipe is not an error).
pub(crate) fn print(text: &str) -> u8 {
    console::out(text);
    EXIT_OK
}
