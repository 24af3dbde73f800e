//! What stops a run: the first Ctrl-C, SIGTERM or SIGHUP cancels it, so that the clients stop
//! and every result is still written; a second one exits at once. CI systems and Kubernetes stop
//! jobs with SIGTERM, and a closed terminal sends SIGHUP: these are the common ways a run ends
//! early, not edge cases.

use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

use crate::report::console;

/// The signal that stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP.
    Hangup,
}

impl Stop {
    /// 128 + the signal's number, as a shell reports a process that the signal ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => super::EXIT_INTERRUPTED,
            Stop::Terminate => 143,
            Stop::Hangup => 129,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "interrupted",
            Stop::Terminate => "SIGTERM",
            Stop::Hangup => "SIGHUP",
        }
    }
}

/// The first signal the run got, once it got one.
#[derive(Debug, Clone, Default)]
pub struct Stopped(Arc<OnceLock<Stop>>);

impl Stopped {
    pub fn get(&self) -> Option<Stop> {
        self.0.get().copied()
    }
}

/// Catches the signals from now on (they are registered before this returns, so none sent after
/// it is lost): the first cancels `cancel`, a second exits the process with its own code.
pub fn listen(cancel: CancellationToken) -> Stopped {
    let mut signals = Signals::register();
    let stopped = Stopped::default();
    let first = stopped.clone();
    tokio::spawn(async move {
        let Some(stop) = signals.next().await else {
            return;
        };
        let _ = first.0.set(stop);
        console::err(&format!(
            "\n{}: stopping the clients and writing results (a second signal quits at once)\n",
            stop.name()
        ));
        cancel.cancel();
        if let Some(again) = signals.next().await {
            std::process::exit(i32::from(again.exit_code()));
        }
    });
    stopped
}

/// The signal streams. One that cannot be registered is left out rather than failing the run.
struct Signals {
    #[cfg(unix)]
    streams: Vec<(Stop, tokio::signal::unix::Signal)>,
}

impl Signals {
    #[cfg(unix)]
    fn register() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            (Stop::Interrupt, SignalKind::interrupt()),
            (Stop::Terminate, SignalKind::terminate()),
            (Stop::Hangup, SignalKind::hangup()),
        ];
        let streams = kinds
            .into_iter()
            .filter_map(|(stop, kind)| signal(kind).ok().map(|s| (stop, s)))
            .collect();
        Self { streams }
    }

    #[cfg(not(unix))]
    fn register() -> Self {
        Self {}
    }

    /// The next signal; `None` when none can arrive any more.
    #[cfg(unix)]
    async fn next(&mut self) -> Option<Stop> {
        if self.streams.is_empty() {
            return None;
        }
        let waits = self.streams.iter_mut().map(|(stop, stream)| {
            let stop = *stop;
            Box::pin(async move { stream.recv().await.map(|()| stop) })
        });
        futures_util::future::select_all(waits).await.0
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Option<Stop> {
        tokio::signal::ctrl_c().await.ok().map(|()| Stop::Interrupt)
    }
}
