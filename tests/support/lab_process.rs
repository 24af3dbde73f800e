//! `runner lab` as a child process on a free loopback port.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

/// A running `runner lab`, killed when dropped.
pub struct LabProcess {
    /// The child.
    pub child: Child,
    /// The rest of its stdout, after the first line. Keep reading it (or drop the child): a
    /// closed pipe is no reason for the lab to stop, but a full one would block it.
    pub lines: Lines<BufReader<ChildStdout>>,
    /// `127.0.0.1:PORT`.
    pub listen: String,
}

impl LabProcess {
    /// Starts `runner lab --listen 127.0.0.1:PORT ARGS…` in `cwd` and waits for its first line.
    pub async fn start(cwd: &Path, args: &[&str]) -> Self {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let listen = format!("127.0.0.1:{port}");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_runner"))
            .current_dir(cwd)
            .args(["lab", "--listen", &listen])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the lab prints its URLs")
            .unwrap()
            .unwrap();
        assert_eq!(first, format!("lab: MCP      http://{listen}/mcp"));
        Self { child, lines, listen }
    }

    /// Its MCP endpoint.
    pub fn mcp_url(&self) -> String {
        format!("http://{}/mcp", self.listen)
    }
}
