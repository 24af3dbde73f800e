//! PostgreSQL for the `sql` step's end-to-end tests: the server under test, a schema per test so
//! tests run in parallel, and a tiny mock server for the one answer a trust-auth server cannot
//! give (a wrong password).
//!
//! A missing or unreachable PostgreSQL fails the tests; it never skips them.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_postgres::{Client, NoTls, Row};

/// `DATABASE_URL`, else the local test server.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Connects with tokio-postgres (no TLS), or fails the test saying what it needs.
pub async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("these tests need PostgreSQL at {url} (set DATABASE_URL): {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// `url` with `name=value` added to its query string.
pub fn with_param(url: &str, name: &str, value: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{name}={value}")
}

/// A schema of its own for one test, dropped (with everything in it) when the test ends.
pub struct Schema {
    name: String,
    url: String,
}

impl Schema {
    /// Creates `runner_t_<uuid>` in the test database.
    pub async fn create() -> Self {
        let name = format!("runner_t_{}", uuid::Uuid::new_v4().simple());
        let base = database_url();
        connect(&base)
            .await
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap_or_else(|e| panic!("CREATE SCHEMA {name}: {e}"));
        // `-c search_path=NAME`, URL-encoded: every session opened with this URL uses the schema.
        let url = with_param(&base, "options", &format!("-csearch_path%3D{name}"));
        Self { name, url }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database URL with the schema as the search path.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs statements (separated by `;`) in the schema.
    pub async fn execute(&self, sql: &str) {
        connect(&self.url)
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs one query in the schema and returns its rows.
    pub async fn query(&self, sql: &str) -> Vec<Row> {
        connect(&self.url)
            .await
            .query(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

impl Drop for Schema {
    /// Best effort, on a thread with its own runtime: the test's runtime may be shutting down.
    fn drop(&mut self) {
        let url = database_url();
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async {
                let work = async {
                    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.ok()?;
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    client.batch_execute(&sql).await.ok()
                };
                let _ = tokio::time::timeout(std::time::Duration::from_secs(10), work).await;
            });
        });
        let _ = dropper.join();
    }
}

/// Starts a server on `127.0.0.1:0` that asks every client for a cleartext password and then
/// rejects it as PostgreSQL does (SQLSTATE 28P01) for user `app`. Returns its address.
///
/// Wire format: PostgreSQL docs, "Frontend/Backend Protocol" › "Message Formats".
pub async fn start_wrong_password_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = reject_password(stream).await;
            });
        }
    });
    addr
}

async fn reject_password(mut stream: TcpStream) -> std::io::Result<()> {
    // Startup packets have no type byte: int32 length (itself included), then the body.
    let mut startup = read_untyped(&mut stream).await?;
    // SSLRequest: length 8, code 80877103. `N`: no TLS here; the client goes on in the clear.
    if startup.len() == 4 && startup == 80877103i32.to_be_bytes() {
        stream.write_all(b"N").await?;
        startup = read_untyped(&mut stream).await?;
    }
    let _ = startup;
    // AuthenticationCleartextPassword: `R`, int32 length 8, int32 3.
    stream.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).await?;
    // PasswordMessage: `p`, int32 length, the password as a C string.
    if stream.read_u8().await? != b'p' {
        return Err(std::io::Error::other("expected a password message"));
    }
    read_untyped(&mut stream).await?;
    // ErrorResponse: `E`, int32 length, fields (a type byte, a C string), a final zero byte.
    let mut fields = Vec::new();
    for (code, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', "28P01"),
        (b'M', "password authentication failed for user \"app\""),
    ] {
        fields.push(code);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&(fields.len() as i32 + 4).to_be_bytes());
    message.extend_from_slice(&fields);
    stream.write_all(&message).await?;
    stream.shutdown().await
}

/// Reads an int32 length (itself included) and the body after it.
async fn read_untyped(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let len = stream.read_i32().await?;
    let mut body = vec![0; (len as usize).saturating_sub(4)];
    stream.read_exact(&mut body).await?;
    Ok(body)
}
