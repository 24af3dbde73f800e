//! Which of a client's exchanges reach `transcript.jsonl`. The executor decides, so that an
//! exchange that will not be written is never sent to the reporter: a long soak would otherwise
//! write gigabytes of passing traffic, and hold it in memory while the reporter catches up.

use super::event::Exchange;

/// What `transcript.jsonl` keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TranscriptMode {
    /// Every exchange of a step that failed or was interrupted, and the first 10 of each client
    /// instance.
    #[default]
    Failures,
    /// Every exchange.
    All,
    /// None: the file is written, empty.
    Off,
}

/// The exchanges of each client that `failures` keeps whatever its steps do, so that a passing
/// run still shows what its traffic looked like.
pub const FIRST_EXCHANGES: u64 = 10;

/// An exchange not yet made into its transcript line: most held exchanges are dropped when their
/// step passes, and building their JSON would cost more than the request did.
type Deferred = Box<dyn FnOnce() -> Exchange + Send>;

/// One client's exchanges on their way to the transcript: those it will certainly write, and
/// those that wait for their step's end to learn whether it failed.
pub struct Outbox {
    mode: TranscriptMode,
    /// Exchanges kept by the first-[`FIRST_EXCHANGES`] rule so far.
    first: u64,
    kept: Vec<Exchange>,
    held: Vec<Deferred>,
}

impl Outbox {
    pub fn new(mode: TranscriptMode) -> Self {
        Self {
            mode,
            first: 0,
            kept: Vec::new(),
            held: Vec::new(),
        }
    }

    /// Keeps no exchange by the first-[`FIRST_EXCHANGES`] rule.
    pub fn skip_first(&mut self) {
        self.first = FIRST_EXCHANGES;
    }

    /// False when no exchange can be written: the caller need not build one.
    pub fn wanted(&self) -> bool {
        self.mode != TranscriptMode::Off
    }

    /// Takes one exchange of the running step, built now if it will be written, later if its
    /// step fails, or never.
    pub fn add(&mut self, exchange: impl FnOnce() -> Exchange + Send + 'static) {
        match self.mode {
            TranscriptMode::Off => {}
            TranscriptMode::All => self.kept.push(exchange()),
            TranscriptMode::Failures if self.first < FIRST_EXCHANGES => {
                self.first += 1;
                self.kept.push(exchange());
            }
            TranscriptMode::Failures => self.held.push(Box::new(exchange)),
        }
    }

    /// The step ended: the exchanges to write, in the order they were made. A passed step's held
    /// exchanges are dropped. (The kept ones came first: holding starts only once the first
    /// ones are used up.)
    pub fn step_ended(&mut self, passed: bool) -> Vec<Exchange> {
        let mut out = std::mem::take(&mut self.kept);
        match passed {
            true => self.held.clear(),
            false => out.extend(self.held.drain(..).map(|build| build())),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::exec::event::Actor;

    fn exchange(step: &str, n: u64) -> Exchange {
        Exchange {
            actor: Actor {
                scenario: "s".into(),
                group: "g".into(),
                client_id: 1,
            },
            step: step.into(),
            sent_at: Utc::now(),
            request: json!({ "n": n }),
            response: json!({ "status": 200 }),
        }
    }

    fn built(step: &str, n: u64) -> impl FnOnce() -> Exchange + Send + 'static {
        let exchange = exchange(step, n);
        move || exchange
    }

    /// `steps` one-exchange passing steps; the numbers of the exchanges written.
    fn passing(outbox: &mut Outbox, steps: std::ops::RangeInclusive<u64>) -> Vec<u64> {
        let mut written = Vec::new();
        for n in steps {
            outbox.add(built("pass", n));
            written.extend(numbers(outbox.step_ended(true)));
        }
        written
    }

    fn numbers(exchanges: Vec<Exchange>) -> Vec<u64> {
        exchanges.iter().map(|e| e.request["n"].as_u64().unwrap()).collect()
    }

    #[test]
    fn failures_keeps_a_clients_first_ten_passing_exchanges() {
        let mut outbox = Outbox::new(TranscriptMode::Failures);
        assert_eq!(passing(&mut outbox, 1..=25), (1..=10).collect::<Vec<_>>());
    }

    #[test]
    fn an_outbox_that_skips_the_first_keeps_only_failed_steps() {
        let mut outbox = Outbox::new(TranscriptMode::Failures);
        outbox.skip_first();
        assert_eq!(passing(&mut outbox, 1..=5), [0u64; 0]);
        outbox.add(built("fail", 6));
        assert_eq!(numbers(outbox.step_ended(false)), [6]);
    }

    #[test]
    fn failures_keeps_every_attempt_of_a_failed_step_after_the_first_ten() {
        let mut outbox = Outbox::new(TranscriptMode::Failures);
        passing(&mut outbox, 1..=25);
        for attempt in 26..=28 {
            outbox.add(built("fail", attempt));
        }
        assert_eq!(numbers(outbox.step_ended(false)), [26, 27, 28]);
        assert_eq!(
            passing(&mut outbox, 29..=30),
            [0u64; 0],
            "a passing step is dropped again"
        );
    }

    #[test]
    fn a_step_that_spans_the_first_ten_keeps_its_first_ones_when_it_passes_and_all_when_it_fails() {
        let mut outbox = Outbox::new(TranscriptMode::Failures);
        passing(&mut outbox, 1..=8);
        for n in 9..=12 {
            outbox.add(built("retried", n));
        }
        assert_eq!(numbers(outbox.step_ended(true)), [9, 10]);

        let mut outbox = Outbox::new(TranscriptMode::Failures);
        passing(&mut outbox, 1..=8);
        for n in 9..=12 {
            outbox.add(built("retried", n));
        }
        assert_eq!(numbers(outbox.step_ended(false)), [9, 10, 11, 12]);
    }

    #[test]
    fn all_keeps_every_exchange_and_off_none() {
        let mut all = Outbox::new(TranscriptMode::All);
        assert_eq!(passing(&mut all, 1..=25), (1..=25).collect::<Vec<_>>());
        assert!(all.wanted());

        let mut off = Outbox::new(TranscriptMode::Off);
        assert!(!off.wanted());
        assert_eq!(passing(&mut off, 1..=25), [0u64; 0]);
        off.add(built("fail", 26));
        assert!(off.step_ended(false).is_empty());
    }
}
