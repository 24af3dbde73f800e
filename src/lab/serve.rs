//! The lab's HTTP server: hyper's HTTP/1.1 connections, one task each, with a header-read
//! timeout. `axum::serve` has none, so a client that connects and sends nothing held its
//! connection (and a file descriptor) for as long as it liked; here the connection is closed
//! once `header_read_timeout` passes without a whole request head — on a new connection, and
//! on a kept-alive one between requests.
//!
//! Stopping stops accepting, lets each connection finish its request in flight (rmcp's
//! cancellation ends the SSE streams), and resolves when the last one has closed.

use std::time::Duration;

use axum::Router;
use axum::serve::Listener;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio_util::sync::CancellationToken;

/// Serves `app` on `listener` until `stop` is cancelled and every connection has ended.
pub async fn serve<L>(mut listener: L, app: Router, header_read_timeout: Duration, stop: CancellationToken)
where
    L: Listener,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connections = GracefulShutdown::new();
    loop {
        // The listener retries failed accepts itself (waiting a second when out of descriptors).
        let (io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = connections.watch(builder.serve_connection(TokioIo::new(io), service));
        tokio::spawn(async move {
            // A client that goes away or times out ends its own connection: nothing to report.
            let _ = connection.await;
        });
    }
    drop(listener);
    connections.shutdown().await;
}
