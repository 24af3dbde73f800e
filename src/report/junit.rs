//! `junit.xml`: a run as CI systems read it. One `<testsuite>` per scenario; in it one
//! `<testcase>` per `before:`/`after:` step, per client instance of a counted group, per arrival
//! group (its instances are many alike: one verdict), and per threshold; and one for the
//! scenario itself when it failed for a reason none of those carries (no assertion ran, a stop).
//! Every text is masked before it goes in: the XML escapes a secret's `&` or `<`, after which
//! masking the finished file could no longer find it.

use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::exec::{ArrivalsResult, ClientResult, ScenarioResult, Status, StepResult, ThresholdResult};
use crate::mask::masker;

/// The report of `results`, as XML text.
pub fn junit(results: &[ScenarioResult]) -> String {
    let mut report = Report::new("runner");
    report.add_test_suites(results.iter().map(suite));
    if let Some(first) = results.iter().map(|r| r.started_at).min() {
        report.set_timestamp(first);
    }
    // Serializing into a `String` writes to memory, which cannot fail.
    report.to_string().unwrap_or_default()
}

fn suite(result: &ScenarioResult) -> TestSuite {
    let mut suite = TestSuite::new(masked(&result.name));
    suite.set_timestamp(result.started_at);
    suite.set_time(seconds(result.elapsed_ms));
    let classname = |part: &str| masked(&format!("{}.{part}", result.name));
    let file = result.path.as_path();
    let phase = |name: &str, steps: &[StepResult]| -> Vec<TestCase> {
        (steps.iter())
            .map(|step| phase_case(name, step, file).with_class(classname(name)))
            .collect()
    };
    let mut cases = phase("before", &result.before);
    cases.extend((result.clients.iter()).map(|c| client_case(c, file).with_class(classname(&c.group))));
    cases.extend(
        result
            .arrivals
            .iter()
            .map(|a| arrivals_case(a).with_class(classname(&a.group))),
    );
    cases.extend(phase("after", &result.after));
    cases.extend(
        result
            .thresholds
            .iter()
            .map(|t| threshold_case(t).with_class(classname("thresholds"))),
    );
    let carried = cases
        .iter()
        .any(|c| matches!(c.status, TestCaseStatus::NonSuccess { .. }));
    if !result.status.passed() && !carried {
        cases.push(scenario_case(result).with_class(masked(&result.name)));
    }
    suite.add_test_cases(cases);
    suite
}

/// `before: <step>`: a step of a phase, which runs once.
fn phase_case(phase: &str, step: &StepResult, file: &Path) -> TestCase {
    let failed = failed_step(std::slice::from_ref(step)).unwrap_or(step);
    let status = match step.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Failed => failure(
            step.error.as_deref().unwrap_or("failed"),
            Some(step_details(failed, file)),
        ),
        Status::Interrupted => interrupted(),
    };
    let mut case = TestCase::new(masked(&format!("{phase}: {}", step.name)), status);
    case.set_time(seconds(step.elapsed_ms));
    case
}

/// `<group> #<id>`: one client instance, its error naming the step that failed.
fn client_case(client: &ClientResult, file: &Path) -> TestCase {
    let status = match client.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Failed => {
            let failed = failed_step(&client.steps);
            let message = client.error.as_deref().unwrap_or("no assertion ran");
            failure(message, failed.map(|step| step_details(step, file)))
        }
        Status::Interrupted => interrupted(),
    };
    let mut case = TestCase::new(masked(&format!("{} #{}", client.group, client.client_id)), status);
    case.set_time(seconds(client.elapsed_ms));
    case
}

/// `<group> (arrivals)`: an arrival group, failed when one of its instances did, with its counts.
fn arrivals_case(arrivals: &ArrivalsResult) -> TestCase {
    let counts = format!(
        "{} arrivals, {} started, {} dropped, {} not reached; {} passed, {} failed, {} interrupted",
        arrivals.scheduled,
        arrivals.started,
        arrivals.dropped,
        arrivals.unreached,
        arrivals.passed,
        arrivals.failed,
        arrivals.interrupted
    );
    let status = match arrivals.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Failed => failure(
            arrivals.error.as_deref().unwrap_or("an instance failed"),
            Some(counts.clone()),
        ),
        Status::Interrupted => interrupted(),
    };
    let mut case = TestCase::new(masked(&format!("{} (arrivals)", arrivals.group)), status);
    case.set_system_out(masked(&counts));
    case
}

/// `threshold <metric> <limit>`.
fn threshold_case(threshold: &ThresholdResult) -> TestCase {
    let status = match threshold.passed {
        true => TestCaseStatus::success(),
        false => failure(
            &format!(
                "threshold `{}` breached: value {} (limit {})",
                threshold.metric,
                threshold.value_text(),
                threshold.limit
            ),
            None,
        ),
    };
    let mut case = TestCase::new(
        masked(&format!("threshold {} {}", threshold.metric, threshold.limit)),
        status,
    );
    case.set_system_out(format!("value {}", threshold.value_text()));
    case
}

/// The scenario as a whole, when it failed for a reason no other test case carries.
fn scenario_case(result: &ScenarioResult) -> TestCase {
    let status = match (result.status, &result.error) {
        (Status::Interrupted, _) => interrupted(),
        (_, Some(error)) => failure(error, None),
        (_, None) => failure("the scenario failed", None),
    };
    let mut case = TestCase::new(masked(&result.name), status);
    case.set_time(seconds(result.elapsed_ms));
    case
}

fn failure(message: &str, details: Option<String>) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(masked(message));
    if let Some(details) = details {
        status.set_description(masked(&details));
    }
    status
}

/// Stopped before it could pass or fail: not a failure of the server's, so skipped.
fn interrupted() -> TestCaseStatus {
    let mut status = TestCaseStatus::skipped();
    status.set_message("interrupted");
    status
}

/// The step that failed, the innermost one under a `group`.
fn failed_step(steps: &[StepResult]) -> Option<&StepResult> {
    let step = steps.iter().find(|s| s.status == Status::Failed)?;
    failed_step(&step.steps).or(Some(step))
}

/// What a failed step's test case says beyond its message (the step's error): the step, where
/// it stands, and each assertion that did not hold, with what it expected and found.
fn step_details(step: &StepResult, file: &Path) -> String {
    let file = file.display();
    let mut lines = vec![format!("step `{}` ({}) at {file}:{}", step.name, step.kind, step.at)];
    for assertion in step.assertions.iter().filter(|a| !a.passed) {
        let message = assertion.message.as_deref().unwrap_or(&assertion.assertion);
        lines.push(format!("assertion at {file}:{}: {message}", assertion.at));
    }
    lines.join("\n")
}

fn masked(text: &str) -> String {
    masker().text(text).into_owned()
}

fn seconds(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

/// Sets a test case's `classname` in a chain.
trait WithClass {
    fn with_class(self, classname: String) -> Self;
}

impl WithClass for TestCase {
    fn with_class(mut self, classname: String) -> Self {
        self.set_classname(classname);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{client, scenario};

    /// Each case of the only suite, read back by quick-junit's own parser: its name and how it
    /// ended (`passed`, `skipped`, or the failure's message).
    fn cases(result: &ScenarioResult) -> Vec<(String, String)> {
        let report = Report::deserialize_from_str(&junit(std::slice::from_ref(result))).unwrap();
        let [suite] = &report.test_suites[..] else {
            panic!("one suite: {report:?}");
        };
        (suite.test_cases.iter())
            .map(|case| {
                let how = match &case.status {
                    TestCaseStatus::Success { .. } => "passed".to_string(),
                    TestCaseStatus::Skipped { .. } => "skipped".to_string(),
                    TestCaseStatus::NonSuccess { message, .. } => {
                        message.as_ref().map_or("", |m| m.as_str()).to_string()
                    }
                };
                (case.name.to_string(), how)
            })
            .collect()
    }

    fn pairs(cases: &[(String, String)]) -> Vec<(&str, &str)> {
        cases.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
    }

    #[test]
    fn a_scenario_that_failed_on_its_own_gets_a_case_and_a_stopped_client_is_skipped() {
        let mut result = scenario(
            "heartbeat",
            vec![
                client(1, "keeper", Status::Passed, None),
                client(2, "keeper", Status::Interrupted, None),
            ],
        );
        result.status = Status::Failed;
        result.error = Some("no assertion ran".into());
        let cases = cases(&result);
        assert_eq!(
            pairs(&cases),
            [
                ("keeper #1", "passed"),
                ("keeper #2", "skipped"),
                ("heartbeat", "no assertion ran")
            ]
        );
    }

    #[test]
    fn a_failed_client_carries_the_failure_alone() {
        let result = scenario(
            "lifecycle",
            vec![client(
                1,
                "main",
                Status::Failed,
                Some("step `echo` (s.yaml:3:5): timed out"),
            )],
        );
        let cases = cases(&result);
        assert_eq!(pairs(&cases), [("main #1", "step `echo` (s.yaml:3:5): timed out")]);
    }
}
