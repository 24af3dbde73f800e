//! No input makes the loader or the compiler panic: every shipped scenario, cut short at many
//! points and with bytes flipped, gives either a plan or diagnostics.

use std::path::PathBuf;
use std::sync::Arc;

use runner::compile::{CompileOptions, compile};
use runner::load::{Loaded, parse_scenario};
use runner::source::Source;

fn shipped() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = ["examples", "scenarios"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| runner::load::is_scenario_file(path))
        .collect();
    files.sort();
    files
}

/// Loads and compiles a text and renders its diagnostics; a panic fails the test, any result
/// passes.
fn survive(name: &str, text: &str) {
    let source = Arc::new(Source::new(name, text));
    match parse_scenario(&source) {
        Ok(spec) => {
            if let Err(problems) = compile(&Loaded { source, spec }, &CompileOptions::default()) {
                problems.iter().for_each(|d| assert!(!d.render().is_empty()));
            }
        }
        Err(problems) => problems.iter().for_each(|d| assert!(!d.render().is_empty())),
    }
}

#[test]
fn truncated_files_never_panic() {
    for file in shipped() {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.display().to_string();
        for cut in (0..text.len()).step_by(5).filter(|i| text.is_char_boundary(*i)) {
            survive(&name, &text[..cut]);
        }
    }
}

#[test]
fn files_with_a_changed_character_never_panic() {
    let replacements = [
        '{', '}', ':', '-', '"', '\'', '[', ']', ' ', '\n', '\t', '$', '%', '#', '&', '*',
    ];
    for file in shipped() {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.display().to_string();
        let positions: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(11).collect();
        for (n, at) in positions.into_iter().enumerate() {
            let replacement = replacements[n % replacements.len()];
            let mut changed = text.clone();
            let width = changed[at..].chars().next().map_or(0, char::len_utf8);
            changed.replace_range(at..at + width, &replacement.to_string());
            survive(&name, &changed);
        }
    }
}
