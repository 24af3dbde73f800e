//! Turning the paths a user names into the scenario files to load.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// True for the file names a folder contributes: `*.yaml` and `*.yml`, except vars files
/// (`*.vars.yaml`), which hold overrides rather than scenarios.
pub fn is_scenario_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    yaml && !name.ends_with(".vars.yaml") && !name.ends_with(".vars.yml")
}

/// The files behind `paths`: a file as named, a folder's scenario files recursively, sorted.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = walk(path, &mut found, &mut HashSet::new()) {
                problems.push(Diagnostic::for_path(path, format!("cannot read the folder: {e}")));
            }
            found.sort();
            if found.is_empty() {
                problems.push(Diagnostic::for_path(
                    path,
                    "no scenario files (*.yaml, *.yml) in this folder",
                ));
            }
            files.extend(found);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            problems.push(Diagnostic::for_path(path, "no such file or folder"));
        }
    }
    (files, problems)
}

/// Walks a folder, following symbolic links but entering each folder (and taking each file)
/// once: a link back to a parent would otherwise make the walk endless.
fn walk(dir: &Path, found: &mut Vec<PathBuf>, seen: &mut HashSet<Identity>) -> std::io::Result<()> {
    if !seen.insert(identity(dir)?) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found, seen)?;
        } else if is_scenario_file(&path) && first_look(&path, seen) {
            found.push(path);
        }
    }
    Ok(())
}

/// False for a file already taken through another link. One that cannot be looked at is taken,
/// so that reading it reports why.
fn first_look(path: &Path, seen: &mut HashSet<Identity>) -> bool {
    match identity(path) {
        Ok(id) => seen.insert(id),
        Err(_) => true,
    }
}

/// What makes two paths one file: its device and inode.
#[cfg(unix)]
type Identity = (u64, u64);

#[cfg(unix)]
fn identity(path: &Path) -> std::io::Result<Identity> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path)?;
    Ok((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
type Identity = PathBuf;

#[cfg(not(unix))]
fn identity(path: &Path) -> std::io::Result<Identity> {
    std::fs::canonicalize(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_give_sorted_yaml_files_without_vars_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in ["b.yaml", "a.yml", "sub/c.yaml", "quick.vars.yaml", "notes.txt"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let (files, problems) = discover(&[dir.path().to_path_buf()]);
        assert!(problems.is_empty());
        let names: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml", "sub/c.yaml"]);
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_link_loops_are_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("a.yaml"), "").unwrap();
        std::os::unix::fs::symlink(dir.path(), sub.join("up")).unwrap();
        std::os::unix::fs::symlink(&sub, sub.join("self")).unwrap();
        std::os::unix::fs::symlink(sub.join("a.yaml"), dir.path().join("again.yaml")).unwrap();
        let (files, problems) = discover(&[dir.path().to_path_buf()]);
        assert!(problems.is_empty(), "{problems:?}");
        let names: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn missing_paths_are_reported() {
        let (files, problems) = discover(&[PathBuf::from("/no/such/scenario.yaml")]);
        assert!(files.is_empty());
        assert_eq!(problems.len(), 1);
    }
}
