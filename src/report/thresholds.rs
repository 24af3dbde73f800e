//! The thresholds table printed under a scenario's summary: metric, limit, value, verdict.

use std::fmt::Write;

use crate::exec::ThresholdResult;
use crate::report::console::shown;

/// The table, indented under the summary, one line per threshold in file order, with a header;
/// empty without thresholds. The text ends with a newline.
pub fn thresholds_table(results: &[ThresholdResult]) -> String {
    if results.is_empty() {
        return String::new();
    }
    let header = ["metric", "limit", "value", "verdict"].map(String::from);
    let rows: Vec<[String; 4]> = (results.iter())
        .map(|r| {
            let verdict = if r.passed { "passed" } else { "FAILED" };
            [shown(&r.metric), shown(&r.limit), r.value_text(), verdict.into()]
        })
        .collect();
    let width = |column: usize| {
        let cells = std::iter::once(&header).chain(&rows);
        cells.map(|row| row[column].chars().count()).max().unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let mut out = String::from("  thresholds:\n");
    for row in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(
            out,
            "    {:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::metric::Unit;

    #[test]
    fn a_table_of_aligned_columns_says_which_thresholds_held() {
        let result = |metric: &str, limit: &str, value, unit, passed| ThresholdResult {
            metric: metric.into(),
            limit: limit.into(),
            value,
            unit,
            passed,
        };
        let table = thresholds_table(&[
            result("echo.latency.p99", "< 1ms", Some(3.25), Unit::Duration, false),
            result("echo.errors.rate", "< 1%", Some(0.0), Unit::Percent, true),
            result("wait\x1b[2J.passed", "== 3", None, Unit::Count, false),
        ]);
        assert_eq!(
            table,
            "  thresholds:\n\
             \x20   metric                limit  value    verdict\n\
             \x20   echo.latency.p99      < 1ms  3.25ms   FAILED\n\
             \x20   echo.errors.rate      < 1%   0%       passed\n\
             \x20   wait\\u{1b}[2J.passed  == 3   no data  FAILED\n"
        );
        assert_eq!(thresholds_table(&[]), "");
    }
}
