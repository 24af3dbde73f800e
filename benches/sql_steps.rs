//! Benchmark: the round-trip cost of one `sql` step through the runner, on PostgreSQL and on
//! SQLite. One client runs N sequential parameterised SELECTs (a typed row back, asserted); the
//! figures are wall time per step and the runner's own step-latency percentiles. A second pass
//! runs 100 clients × N/100 queries at once on a pool of 4, to show the pool under contention.
//!
//! `cargo bench --bench sql_steps` (2,000 queries), or `cargo bench --bench sql_steps -- 5000`.
//! PostgreSQL is `DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/test`.

mod support;

use std::path::Path;

const QUERY: &str = "SELECT $1::int AS n, now() AS at, 'x'::text AS s";

fn main() {
    let queries: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(2_000);
    let dir = tempfile::tempdir().expect("a temp dir");
    let postgres = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    for (backend, url, query) in [
        ("postgres", postgres.as_str(), QUERY),
        (
            "sqlite",
            sqlite.as_str(),
            "SELECT ?1 AS n, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS at, 'x' AS s",
        ),
    ] {
        bench(dir.path(), backend, url, query, 1, queries);
        bench(dir.path(), backend, url, query, 100, queries / 100);
    }
}

/// Runs `clients` clients of `each` queries and prints the figures.
fn bench(dir: &Path, backend: &str, url: &str, query: &str, clients: u64, each: u64) {
    let scenario = dir.join(format!("{backend}-{clients}.yaml"));
    std::fs::write(
        &scenario,
        format!(
            "name: sql-{backend}-{clients}\nconnections:\n  db: {{ sql: {{ url: \"{url}\", pool_size: 4 }} }}\nclients:\n  q:\n    count: {clients}\n    steps:\n      - repeat: {{ times: {each} }}\n        steps:\n          - name: select\n            sql: \"{query}\"\n            params: [\"{{{{ iteration }}}}\"]\n            expect:\n              - $.rows[0].n: \"{{{{ iteration }}}}\"\n"
        ),
    )
    .expect("the scenario file");
    let (elapsed, report) = support::run(&scenario, &dir.join(format!("out-{backend}-{clients}")));
    let select = &report["latency"]["select"];
    let total = clients * each;
    println!(
        "{backend}: {clients} client(s) × {each} = {total} queries, wall {:.2}s ({:.0} µs per query, process start included), step latency p50 {:.0} µs, p99 {:.0} µs",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / total as f64,
        support::micros(select, "p50_ms"),
        support::micros(select, "p99_ms"),
    );
}
