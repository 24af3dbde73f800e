//! `runner merge DIR… --out DIR`: the results folders of a run's shards (`--shard I/N`), each
//! scenario's parts combined into one result as one process would have written it — counts
//! summed, histograms merged, series and timelines aligned by wall clock, thresholds judged again
//! on the merged figures — and its folder written with its reports.

mod combine;
mod metrics;

use std::path::{Path, PathBuf};

use super::results::{self, FolderError, read_report, scenario_folder, scenario_folders};
use crate::exec::ScenarioResult;

/// A scenario's merged result and the folder it was written to.
pub struct Merged {
    pub dir: PathBuf,
    pub result: ScenarioResult,
    pub parts: u64,
}

/// Why shards' results could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Folder(#[from] FolderError),
    #[error("{} is not a shard's result (it was not run with --shard), so it has nothing to merge with", .0.display())]
    Whole(PathBuf),
    #[error("scenario `{scenario}`: {problem}")]
    Parts { scenario: String, problem: String },
    #[error(transparent)]
    Combine(#[from] combine::CombineError),
}

/// Merges the shards' results in `dirs` (each a scenario's folder, or a run's folder of them)
/// into `out`: one scenario's merged folder is `out` itself, several get `out/<scenario>/`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Vec<Merged>, MergeError> {
    let mut scenarios: Vec<(String, Vec<(PathBuf, ScenarioResult)>)> = Vec::new();
    for dir in dirs {
        for folder in scenario_folders(dir)? {
            let result = read_report(&folder)?;
            if result.shard.is_none() {
                return Err(MergeError::Whole(folder));
            }
            match scenarios.iter_mut().find(|(name, _)| *name == result.name) {
                Some((_, parts)) => parts.push((folder, result)),
                None => scenarios.push((result.name.clone(), vec![(folder, result)])),
            }
        }
    }
    let several = scenarios.len() > 1;
    let mut merged = Vec::with_capacity(scenarios.len());
    for (name, mut parts) in scenarios {
        check_parts(&name, &mut parts)?;
        let count = parts.len() as u64;
        let result = combine::combine(parts.into_iter().map(|(_, result)| result).collect())?;
        let dir = match several {
            true => out.join(scenario_folder(&name)),
            false => out.to_path_buf(),
        };
        results::write_folder(&dir, &result).map_err(|source| FolderError::Write {
            path: dir.clone(),
            source,
        })?;
        merged.push(Merged {
            dir,
            result,
            parts: count,
        });
    }
    Ok(merged)
}

/// Every shard of the scenario once, `0/N` to `N-1/N`, in that order.
fn check_parts(scenario: &str, parts: &mut [(PathBuf, ScenarioResult)]) -> Result<(), MergeError> {
    let problem = |problem: String| MergeError::Parts {
        scenario: scenario.to_string(),
        problem,
    };
    parts.sort_by_key(|(_, result)| result.shard.map(|s| s.index));
    let count = parts[0].1.shard.map_or(1, |s| s.count);
    for (folder, result) in parts.iter() {
        let shard = result.shard.unwrap_or_default();
        if shard.count != count {
            return Err(problem(format!(
                "{} is shard {shard}, but {} is one of {count}",
                folder.display(),
                parts[0].0.display()
            )));
        }
    }
    for pair in parts.windows(2) {
        if pair[0].1.shard == pair[1].1.shard {
            let (a, b) = (pair[0].0.display(), pair[1].0.display());
            let shard = pair[0].1.shard.unwrap_or_default();
            return Err(problem(format!("{a} and {b} are both shard {shard}")));
        }
    }
    let have: Vec<u64> = parts.iter().filter_map(|(_, r)| r.shard.map(|s| s.index)).collect();
    let missing: Vec<String> = (0..count)
        .filter(|i| !have.contains(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(problem(format!(
            "shard {} is missing: merge every part of the run",
            missing.join(", ")
        )));
    }
    Ok(())
}
