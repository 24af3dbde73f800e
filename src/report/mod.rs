//! Everything the user sees: diagnostics summaries, the plan tree, later progress and results.

mod plan_tree;

pub use plan_tree::plan_tree;
