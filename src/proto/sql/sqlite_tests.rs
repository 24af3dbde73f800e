use std::sync::Arc;

use serde_json::json;
use tempfile::TempDir;

use super::*;

const LONG: Duration = Duration::from_secs(10);
/// Counts forever: only an interrupt ends it.
const ENDLESS: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";

fn options(pool_size: u32) -> Options {
    Options {
        pool_size,
        connect_timeout: LONG,
        durability: Durability::Default,
    }
}

/// A pool on a fresh file; the directory lives as long as the test holds it.
fn file_pool(pool_size: u32) -> (TempDir, Pool) {
    let dir = tempfile::tempdir().unwrap();
    let pool = Pool::new(SqliteLocation::File(dir.path().join("test.db")), options(pool_size));
    (dir, pool)
}

async fn ok(pool: &Pool, sql: &str, params: &[Value]) -> Rows {
    pool.query(sql, params, LONG)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn fails(pool: &Pool, sql: &str, params: &[Value]) -> SqlError {
    match pool.query(sql, params, LONG).await {
        Ok(answer) => panic!("{sql}: {answer:?}"),
        Err(e) => e,
    }
}

/// The first row of a query's answer, as a JSON object.
async fn first(pool: &Pool, sql: &str, params: &[Value]) -> Value {
    Value::Object(ok(pool, sql, params).await.rows.swap_remove(0))
}

async fn count(pool: &Pool, sql: &str) -> u64 {
    ok(pool, sql, &[]).await.row_count
}

fn keys(row: &Map<String, Value>) -> Vec<&str> {
    row.keys().map(String::as_str).collect()
}

#[tokio::test]
async fn relaxed_durability_applies_to_every_new_connection_and_default_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let relaxed = Options {
        durability: Durability::Relaxed,
        ..options(2)
    };
    let pool = Pool::new(SqliteLocation::File(path.clone()), relaxed);
    // Two statements at once hold both connections.
    let (a, b) = tokio::join!(
        first(&pool, "PRAGMA synchronous", &[]),
        first(&pool, "PRAGMA synchronous", &[])
    );
    assert_eq!((a, b), (json!({"synchronous": 1}), json!({"synchronous": 1})), "NORMAL");
    let (_dir, pool) = file_pool(1);
    assert_eq!(
        first(&pool, "PRAGMA synchronous", &[]).await,
        json!({"synchronous": 2}),
        "FULL"
    );
}

#[tokio::test]
async fn a_type_zoo_reads_back_as_json() {
    let (_dir, pool) = file_pool(1);
    let create = "CREATE TABLE z (i INTEGER, r REAL, t TEXT, b BLOB, n TEXT, flag BOOLEAN, doc JSON, \
                  list JSONB, big INTEGER, neg INTEGER, tenth REAL, huge REAL)";
    ok(&pool, create, &[]).await;
    let insert = "INSERT INTO z VALUES (42, 2.5, 'héllo', x'00ff10', NULL, 1, '{\"a\":1,\"b\":[true,null]}', \
                  '[1,\"two\"]', 9223372036854775807, -17, 0.1, 1e300), \
                  (0, -0.5, '', x'', NULL, 0, 'not json', x'7b7d', -9223372036854775808, -1, 1e-300, 2.5e-8), \
                  (1, 1, '1', x'01', NULL, 2, '12', '\"s\"', 0, 0, 0, 0)";
    assert_eq!(ok(&pool, insert, &[]).await.row_count, 3);
    let answer = ok(&pool, "SELECT * FROM z ORDER BY rowid", &[]).await;
    let names = [
        "i", "r", "t", "b", "n", "flag", "doc", "list", "big", "neg", "tenth", "huge",
    ];
    assert_eq!(answer.columns, names);
    assert_eq!(answer.row_count, 3);
    assert!(answer.rows.iter().all(|row| keys(row) == names));
    let rows: Vec<Value> = answer.rows.into_iter().map(Value::Object).collect();
    assert_eq!(
        rows,
        [
            json!({"i": 42, "r": 2.5, "t": "héllo", "b": "\\x00ff10", "n": null, "flag": true,
                   "doc": {"a": 1, "b": [true, null]}, "list": [1, "two"], "big": i64::MAX, "neg": -17,
                   "tenth": 0.1, "huge": 1e300}),
            // A BLOB in a JSON column (binary JSONB) stays hex; text that is not JSON stays text.
            json!({"i": 0, "r": -0.5, "t": "", "b": "\\x", "n": null, "flag": false, "doc": "not json",
                   "list": "\\x7b7d", "big": i64::MIN, "neg": -1, "tenth": 1e-300, "huge": 2.5e-8}),
            // Only 0 and 1 are booleans; REAL 1 in a REAL column stays a float.
            json!({"i": 1, "r": 1.0, "t": "1", "b": "\\x01", "n": null, "flag": 2, "doc": 12, "list": "s",
                   "big": 0, "neg": 0, "tenth": 0.0, "huge": 0.0}),
        ]
    );
}

#[tokio::test]
async fn expressions_infinities_and_duplicate_names() {
    let (_dir, pool) = file_pool(1);
    let answer = ok(
        &pool,
        "SELECT 1e999 AS inf, -1e999 AS ninf, 1 AS a, 2 AS a, x'ABCD' AS b",
        &[],
    )
    .await;
    // A repeated name is numbered, so no value is lost.
    assert_eq!(answer.columns, ["inf", "ninf", "a", "a_2", "b"]);
    assert_eq!(keys(&answer.rows[0]), ["inf", "ninf", "a", "a_2", "b"]);
    assert_eq!(
        Value::Object(answer.rows[0].clone()),
        json!({"inf": "Infinity", "ninf": "-Infinity", "a": 1, "a_2": 2, "b": "\\xabcd"})
    );
}

#[tokio::test]
async fn parameters_of_each_json_type_round_trip() {
    let (_dir, pool) = file_pool(1);
    let cases = [
        (json!(null), json!(null), "null"),
        (json!(true), json!(1), "integer"),
        (json!(false), json!(0), "integer"),
        (json!(-5), json!(-5), "integer"),
        (json!(i64::MAX), json!(i64::MAX), "integer"),
        (json!(0.1), json!(0.1), "real"),
        (json!(1e300), json!(1e300), "real"),
        (json!("it's"), json!("it's"), "text"),
        (json!([1, "a"]), json!("[1,\"a\"]"), "text"),
        (json!({"k": [null]}), json!("{\"k\":[null]}"), "text"),
    ];
    for (param, expected, kind) in cases {
        let row = first(&pool, "SELECT ?1 AS v, typeof(?1) AS t", std::slice::from_ref(&param)).await;
        assert_eq!(row, json!({"v": expected, "t": kind}), "{param}");
    }
    let too_big = fails(&pool, "SELECT ?1", &[json!(u64::MAX)]).await;
    assert!(
        matches!(&too_big, SqlError::Bind { index: 1, message } if message.contains("64-bit")),
        "{too_big:?}"
    );
}

#[tokio::test]
async fn each_placeholder_style_binds_by_number() {
    let (_dir, pool) = file_pool(1);
    let params = [json!("one"), json!("two")];
    assert_eq!(
        first(&pool, "SELECT ? AS a, ? AS b", &params).await,
        json!({"a": "one", "b": "two"})
    );
    for style in ["?", "$", ":", "@"] {
        let sql = format!("SELECT {style}2 AS a, {style}1 AS b, {style}2 AS c");
        assert_eq!(
            first(&pool, &sql, &params).await,
            json!({"a": "two", "b": "one", "c": "two"}),
            "{sql}"
        );
    }
}

#[tokio::test]
async fn an_injection_attempt_stays_a_literal() {
    let (_dir, pool) = file_pool(1);
    ok(&pool, "CREATE TABLE t (name TEXT)", &[]).await;
    let evil = json!("x'; DROP TABLE t; --");
    ok(&pool, "INSERT INTO t VALUES (?1)", std::slice::from_ref(&evil)).await;
    let answer = ok(&pool, "SELECT name FROM t WHERE name = $1", std::slice::from_ref(&evil)).await;
    assert_eq!(answer.rows[0]["name"], evil);
}

#[tokio::test]
async fn row_counts_follow_the_statement() {
    let (_dir, pool) = file_pool(1);
    assert_eq!(
        count(&pool, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)").await,
        0
    );
    assert_eq!(count(&pool, "INSERT INTO t (v) VALUES (1), (2), (3)").await, 3);
    assert_eq!(count(&pool, "UPDATE t SET v = v * 10 WHERE v > 1").await, 2);
    // Same connection (a pool of one): the UPDATE's count must not leak into DDL.
    assert_eq!(count(&pool, "CREATE INDEX t_v ON t (v)").await, 0);
    assert_eq!(count(&pool, "UPDATE t SET v = 0 WHERE v > 100").await, 0);
    assert_eq!(count(&pool, "DELETE FROM t WHERE v >= 10").await, 2);
    let returning = ok(&pool, "INSERT INTO t (v) VALUES (7), (8) RETURNING id, v", &[]).await;
    assert_eq!(returning.columns, ["id", "v"]);
    assert_eq!(returning.row_count, 2);
    assert_eq!(Value::Object(returning.rows[1].clone()), json!({"id": 3, "v": 8}));
    let empty = ok(&pool, "SELECT * FROM t WHERE v < 0", &[]).await;
    assert_eq!((empty.columns.len(), empty.rows.len(), empty.row_count), (2, 0, 0));
}

#[tokio::test]
async fn syntax_errors_say_where_in_characters() {
    let (_dir, pool) = file_pool(1);
    let cases = [
        ("SELEC 1", "near \"SELEC\": syntax error", 1),
        ("SELECT 'é—ü', 1 FROM WHERE", "near \"WHERE\": syntax error", 22),
        // The second statement is reported against the whole text.
        ("SELECT 'ö'; SELEC 2", "near \"SELEC\": syntax error", 13),
    ];
    for (sql, message, at) in cases {
        let expected = SqlError::Query {
            message: message.into(),
            code: None,
            position: Some(at),
            fault: Fault::Statement,
        };
        assert_eq!(fails(&pool, sql, &[]).await, expected, "{sql}");
    }
    let missing = fails(&pool, "SELECT nope FROM nowhere", &[]).await;
    assert!(
        matches!(&missing, SqlError::Query { message, fault: Fault::Statement, .. } if message.contains("no such table")),
        "{missing:?}"
    );
    ok(&pool, "CREATE TABLE t (a INTEGER)", &[]).await;
    let column = fails(&pool, "SELECT b FROM t", &[]).await;
    assert!(!column.heals_by_waiting(), "{column:?}");
    // Malformed JSON fails while the statement runs: the data may change, so it may heal.
    let data = fails(&pool, "SELECT json_extract('{', '$.a')", &[]).await;
    assert!(data.heals_by_waiting(), "{data:?}");
}

#[tokio::test]
async fn one_statement_per_call() {
    let (_dir, pool) = file_pool(1);
    let two = fails(&pool, "SELECT 1; SELECT 2", &[]).await;
    assert!(
        matches!(&two, SqlError::Query { message, .. } if message.contains("one statement")),
        "{two:?}"
    );
    let answer = ok(&pool, "SELECT 1 AS v;  -- done\n ; /* end */ ", &[]).await;
    assert_eq!(answer.rows[0]["v"], json!(1));
    assert!(matches!(fails(&pool, " -- nothing", &[]).await, SqlError::Query { .. }));
}

#[tokio::test]
async fn a_missing_directory_cannot_connect() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("test.db");
    let pool = Pool::new(SqliteLocation::File(path.clone()), options(1));
    let error = fails(&pool, "SELECT 1", &[]).await;
    let SqlError::Connect(message) = error else {
        panic!("{error:?}")
    };
    assert!(
        message.contains(&path.display().to_string()) && message.contains("unable to open"),
        "{message}"
    );
}

#[tokio::test]
async fn parameters_that_do_not_match_placeholders() {
    let (_dir, pool) = file_pool(1);
    let cases: [(&str, &[Value], usize, &[&str]); 5] = [
        ("SELECT :name", &[json!(1)], 1, &["named parameters", "`:name`"]),
        ("SELECT $a::b", &[json!(1)], 1, &["named parameters"]),
        ("SELECT ?1, ?3", &[json!(1), json!(2)], 3, &["`?3`", "gives 2 values"]),
        ("SELECT ?, ?", &[json!(1)], 2, &["parameter 2", "gives 1 values"]),
        ("SELECT ?1", &[json!(1), json!(2)], 2, &["no placeholder"]),
    ];
    for (sql, params, at, words) in cases {
        match fails(&pool, sql, params).await {
            SqlError::Bind { index, message } => {
                assert_eq!(index, at, "{sql}: {message}");
                assert!(words.iter().all(|w| message.contains(w)), "{sql}: {message}");
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_query_past_its_deadline_is_interrupted() {
    let (_dir, pool) = file_pool(1);
    let deadline = Duration::from_millis(200);
    let late = tokio::time::timeout(LONG, pool.query(ENDLESS, &[], deadline))
        .await
        .expect("came back");
    assert_eq!(
        late,
        Err(SqlError::Timeout {
            after: deadline,
            cancelled: true
        })
    );
    assert_eq!(ok(&pool, "SELECT 1 AS v", &[]).await.rows[0]["v"], json!(1));
}

#[tokio::test]
async fn a_dropped_query_is_interrupted() {
    let (_dir, pool) = file_pool(1);
    let abandoned = tokio::time::timeout(
        Duration::from_millis(200),
        pool.query(ENDLESS, &[], Duration::from_secs(3600)),
    )
    .await;
    assert!(abandoned.is_err());
    // The only connection comes back once its statement is interrupted, well within LONG.
    assert_eq!(ok(&pool, "SELECT 1 AS v", &[]).await.rows[0]["v"], json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_connection_past_the_deadline() {
    let (_dir, pool) = file_pool(1);
    let pool = Arc::new(pool);
    let busy = tokio::spawn({
        let pool = Arc::clone(&pool);
        async move { pool.query(ENDLESS, &[], Duration::from_secs(2)).await }
    });
    while pool.permits.available_permits() > 0 {
        tokio::task::yield_now().await;
    }
    let deadline = Duration::from_millis(50);
    assert_eq!(
        pool.query("SELECT 1", &[], deadline).await,
        Err(SqlError::Timeout {
            after: deadline,
            cancelled: false
        })
    );
    assert!(matches!(
        busy.await.unwrap(),
        Err(SqlError::Timeout { cancelled: true, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_tasks_share_four_connections() {
    let (_dir, pool) = file_pool(4);
    ok(&pool, "CREATE TABLE t (n INTEGER)", &[]).await;
    let pool = Arc::new(pool);
    let tasks: Vec<_> = (0..100)
        .map(|n| {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move {
                ok(&pool, "INSERT INTO t VALUES (?)", &[json!(n)]).await;
                ok(&pool, "SELECT count(*) AS c FROM t", &[]).await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().row_count, 1);
    }
    let total = ok(&pool, "SELECT count(*) AS c, sum(n) AS s FROM t", &[]).await;
    assert_eq!(Value::Object(total.rows[0].clone()), json!({"c": 100, "s": 4950}));
    assert!(pool.idle.lock().unwrap().len() <= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_is_one_database_for_the_whole_pool() {
    let pool = Arc::new(Pool::new(SqliteLocation::Memory, options(4)));
    ok(&pool, "CREATE TABLE t (v TEXT)", &[]).await;
    ok(&pool, "INSERT INTO t VALUES ('shared')", &[]).await;
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { ok(&pool, "SELECT v FROM t", &[]).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().rows[0]["v"], json!("shared"));
    }
    // With every working connection closed, the anchor keeps the data.
    pool.idle.lock().unwrap().clear();
    assert_eq!(ok(&pool, "SELECT v FROM t", &[]).await.rows[0]["v"], json!("shared"));
    // Another pool is another database.
    let other = Pool::new(SqliteLocation::Memory, options(1));
    assert!(matches!(
        fails(&other, "SELECT v FROM t", &[]).await,
        SqlError::Query { .. }
    ));
}

/// Readers scanning a table while others write to it: with a shared cache the writers would
/// fail at once with "database table is locked"; in memdb they wait like on a file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_takes_concurrent_writes() {
    let pool = Arc::new(Pool::new(SqliteLocation::Memory, options(4)));
    ok(&pool, "CREATE TABLE t (n INTEGER)", &[]).await;
    let scan = "SELECT count(*) AS c FROM t, (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 50) SELECT x FROM c)";
    let tasks: Vec<_> = (0..100)
        .map(|n| {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move {
                ok(&pool, "INSERT INTO t VALUES (?)", &[json!(n)]).await;
                ok(&pool, scan, &[]).await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().row_count, 1);
    }
    assert_eq!(
        first(&pool, "SELECT count(*) AS c FROM t", &[]).await,
        json!({"c": 100})
    );
}
