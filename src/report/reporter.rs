//! The reporter task: consumes the executor's events, shows progress, writes transcripts.

use std::time::Duration;

use tokio::sync::mpsc::Receiver;
use tokio::time::MissedTickBehavior;

use crate::exec::event::Event;
use crate::report::progress::Progress;
use crate::report::transcript::TranscriptRouter;

/// How often [`Progress::tick`] runs while events are quiet.
const TICK: Duration = Duration::from_secs(1);

/// Consumes events until the channel closes (every sender dropped): each one goes to `progress`,
/// and each exchange to its scenario's transcript. The channel is bounded: while this task is
/// behind, the clients wait to send (and drop their progress-only events), so nothing piles up. Then finishes `progress` and returns the
/// router, for the caller to [`TranscriptRouter::finish_all`].
///
/// Spawn it (`tokio::spawn(drive(rx, progress, router))`) before running scenarios, insert every
/// scenario's transcript into the router first, and await the task after the last sender is gone.
/// Needs a tokio runtime with timers enabled.
pub async fn drive(
    mut rx: Receiver<Event>,
    mut progress: Progress,
    mut transcripts: TranscriptRouter,
) -> TranscriptRouter {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = rx.recv() => {
                let Some(event) = event else { break };
                progress.handle(&event);
                transcripts.handle(&event);
            }
            _ = tick.tick(), if !progress.is_off() => progress.tick(),
        }
    }
    progress.finish();
    transcripts
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::sync::Arc;

    use chrono::Utc;
    use serde_json::{Value, json};
    use tokio::sync::mpsc::channel;

    use super::*;
    use crate::exec::event::Exchange;
    use crate::report::fixtures::{actor, client_finished, finished, started, step_started};
    use crate::report::transcript::Transcript;

    fn exchange(scenario: &str, n: u64) -> Event {
        Event::Exchange(Box::new(Exchange {
            actor: actor(scenario, "g", n),
            step: "call echo".into(),
            sent_at: Utc::now(),
            request: json!({"headers": {"authorization": "Bearer t"}, "n": n}),
            response: json!({"status": 200}),
        }))
    }

    #[tokio::test]
    async fn drive_routes_exchanges_until_the_channel_closes() {
        let tmp = tempfile::tempdir().unwrap();
        let mut router = TranscriptRouter::new();
        router.insert("a", Transcript::create(tmp.path().join("a/transcript.jsonl")).unwrap());
        router.insert("b", Transcript::create(tmp.path().join("b/transcript.jsonl")).unwrap());
        let (tx, rx) = channel(4);
        let task = tokio::spawn(drive(rx, Progress::off(), router));

        let sender = tx.clone();
        let producer = tokio::spawn(async move {
            sender.send(started("a", &[("g", 2)])).await.unwrap();
            for n in 1..=3 {
                sender.send(step_started("a", "g", 1, "call echo")).await.unwrap();
                sender.send(exchange("a", n)).await.unwrap();
            }
            sender.send(client_finished("a", "g", 1, true)).await.unwrap();
            sender.send(finished("a", true)).await.unwrap();
        });
        tx.send(exchange("b", 9)).await.unwrap();
        tx.send(exchange("nobody", 1)).await.unwrap();
        drop(tx);
        producer.await.unwrap();

        let router = task.await.unwrap();
        let finished: Vec<(Arc<str>, _)> = router.finish_all();
        assert_eq!(finished.len(), 2);
        let read = |name: &str| -> Vec<Value> {
            let text = fs::read_to_string(tmp.path().join(name).join("transcript.jsonl")).unwrap();
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
        };
        let a = read("a");
        assert_eq!(
            a.iter()
                .map(|v| v["request"]["n"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert!(a.iter().all(|v| v["request"]["headers"]["authorization"] == "***"));
        assert_eq!(read("b").len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn drive_ends_when_every_sender_is_gone() {
        let (tx, rx) = channel::<Event>(4);
        let task = tokio::spawn(drive(
            rx,
            Progress::plain(Box::new(std::io::sink())),
            TranscriptRouter::new(),
        ));
        tx.send(started("s", &[("g", 1)])).await.unwrap();
        // Ticks run while the channel is open and quiet.
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(tx);
        let router = task.await.unwrap();
        assert!(router.is_empty());
    }

    #[tokio::test]
    async fn a_reporter_that_is_behind_holds_no_more_than_the_capacity_and_loses_nothing() {
        const CAPACITY: usize = 8;
        let tmp = tempfile::tempdir().unwrap();
        let mut router = TranscriptRouter::new();
        router.insert("a", Transcript::create(tmp.path().join("transcript.jsonl")).unwrap());
        let (tx, rx) = channel(CAPACITY);
        let sender = tx.clone();
        let producer = tokio::spawn(async move {
            for n in 1..=100 {
                sender.send(exchange("a", n)).await.unwrap();
            }
        });
        // The reporter has not started: the producer fills the channel, then waits.
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        assert_eq!(tx.max_capacity() - tx.capacity(), CAPACITY);
        assert!(!producer.is_finished(), "the producer waits for room");

        let task = tokio::spawn(drive(rx, Progress::off(), router));
        producer.await.unwrap();
        drop(tx);
        task.await.unwrap().finish_all();
        let text = fs::read_to_string(tmp.path().join("transcript.jsonl")).unwrap();
        let numbers: Vec<u64> = (text.lines())
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["request"]["n"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(numbers, (1..=100).collect::<Vec<_>>());
    }

    #[test]
    fn the_reporter_future_can_be_spawned() {
        fn send<T: Send + 'static>(_: &T) {}
        let (_tx, rx) = channel(1);
        send(&drive(rx, Progress::off(), TranscriptRouter::new()));
    }
}
