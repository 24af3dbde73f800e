//! The checked-in JSON Schema is what `runner schema` prints, and every shipped scenario both
//! passes it and tells editors where to find it.

use std::path::{Path, PathBuf};

const SCHEMA_FILE: &str = "schemas/scenario.schema.json";
const SCHEMA_LINE: &str = "# yaml-language-server: $schema=../schemas/scenario.schema.json";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario in a shipped folder (vars files are not scenarios).
fn shipped(folder: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root().join(folder)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if runner::load::is_scenario_file(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn yaml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn checked_in_schema_is_current() {
    let checked_in = std::fs::read_to_string(root().join(SCHEMA_FILE)).unwrap();
    assert!(
        checked_in == runner::cli::schema_text(),
        "{SCHEMA_FILE} is stale: run `cargo run -- schema > {SCHEMA_FILE}`"
    );
}

#[test]
fn shipped_scenarios_pass_the_schema_and_point_editors_at_it() {
    let schema: serde_json::Value = serde_json::from_str(&runner::cli::schema_text()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid draft 2020-12 schema");
    let files: Vec<PathBuf> = ["examples", "scenarios"].iter().flat_map(|f| shipped(f)).collect();
    assert!(!files.is_empty());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let depth = file.strip_prefix(root()).unwrap().components().count() - 1;
        let expected = SCHEMA_LINE.replace("../", &"../".repeat(depth));
        assert_eq!(first, expected, "{}: first line", file.display());
        let errors: Vec<String> = validator
            .iter_errors(&yaml_as_json(&file))
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let schema: serde_json::Value = serde_json::from_str(&runner::cli::schema_text()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad = [
        serde_json::json!({"clients": {"a": {"steps": [{"cal": "x"}]}}}),
        serde_json::json!({"clients": {"a": {"count": 0, "steps": [{"wait": "1s"}]}}}),
        serde_json::json!({"stpes": []}),
        serde_json::json!({"clients": {"a": {"steps": [{"call": "x", "expect": [{"path": "$.a", "bigger": 1}]}]}}}),
    ];
    for instance in bad {
        assert!(!validator.is_valid(&instance), "accepted: {instance}");
    }
    let good =
        serde_json::json!({"clients": {"a": {"steps": [{"call": "x", "expect": [{"$.result.isError": false}]}]}}});
    assert!(validator.is_valid(&good));
}
