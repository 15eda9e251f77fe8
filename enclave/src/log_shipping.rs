//! The enclave's log lines reach the operator through the host (docs/deploy-nitro.md): a Nitro
//! enclave has no stderr anyone reads. Each line the JSON formatter writes goes into a bounded
//! in-memory queue; a task sends the queue to the host over the control channel in batches,
//! and the host writes the lines with its own (marked `"from":"enclave"`).
//!
//! Logging never waits for the host: a full queue drops the newest line and counts it (the
//! count travels with the next batch), and a failed batch falls back to stderr. Before the
//! control channel is up (boot), lines go to stderr as before. What reaches a log line is what
//! the code formats: secrets are in types whose `Debug` is redacted and that have no `Display`
//! (`Zeroizing` seeds, `SigningKeypair`, `CombinedSignature`, API keys), so they cannot be
//! formatted into one.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use aip_wire::control::{MAX_LOG_LINES, MAX_LOG_LINE_BYTES};

use crate::state::host_store::HostStore;

/// Lines kept while the host is slow: about 4 batches.
pub const QUEUE_LINES: usize = 4 * MAX_LOG_LINES;

#[derive(Debug)]
struct Queue {
    lines: VecDeque<String>,
    dropped: u64,
    shipping: bool,
}

/// The process's log queue.
#[derive(Debug)]
pub struct LogQueue(Mutex<Queue>);

/// The one queue the formatter writes into.
pub static LOG_QUEUE: LogQueue = LogQueue::new();

impl LogQueue {
    pub const fn new() -> Self {
        Self(Mutex::new(Queue {
            lines: VecDeque::new(),
            dropped: 0,
            shipping: false,
        }))
    }

    /// One formatted line: queued while shipping (dropped and counted when full), written to
    /// stderr before.
    pub fn push(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\n');
        let Ok(mut queue) = self.0.lock() else {
            let _ = writeln!(std::io::stderr(), "{text}");
            return;
        };
        if !queue.shipping {
            drop(queue);
            let _ = writeln!(std::io::stderr(), "{text}");
            return;
        }
        if queue.lines.len() >= QUEUE_LINES || text.len() > MAX_LOG_LINE_BYTES {
            queue.dropped = queue.dropped.saturating_add(1);
            return;
        }
        queue.lines.push_back(text.to_owned());
    }

    /// From now on lines are queued for the host.
    pub fn start_shipping(&self) {
        if let Ok(mut queue) = self.0.lock() {
            queue.shipping = true;
        }
    }

    /// Up to one batch of lines and the count dropped since the last batch.
    pub fn take_batch(&self) -> (Vec<String>, u64) {
        let Ok(mut queue) = self.0.lock() else {
            return (Vec::new(), 0);
        };
        let count = queue.lines.len().min(MAX_LOG_LINES);
        let lines = queue.lines.drain(..count).collect();
        (lines, std::mem::take(&mut queue.dropped))
    }

    /// Lines waiting.
    pub fn len(&self) -> usize {
        self.0.lock().map_or(0, |queue| queue.lines.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for LogQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// The formatter's writer: collects one event's line and pushes it when dropped.
#[derive(Debug)]
pub struct LineWriter {
    queue: &'static LogQueue,
    line: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            self.queue.push(&self.line);
        }
    }
}

/// `tracing_subscriber`'s writer factory over [`LOG_QUEUE`].
#[derive(Debug, Clone, Copy)]
pub struct ToQueue;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ToQueue {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            queue: &LOG_QUEUE,
            line: Vec::with_capacity(256),
        }
    }
}

/// Sends the queue to the host every `every`, for as long as the enclave serves.
pub async fn ship(store: std::sync::Arc<HostStore>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        loop {
            let (lines, dropped) = LOG_QUEUE.take_batch();
            if lines.is_empty() && dropped == 0 {
                break;
            }
            let full = lines.len() == MAX_LOG_LINES;
            if let Err(error) = store.ship_logs(lines.clone(), dropped).await {
                // The host did not take them: stderr is all that is left (on Nitro, the
                // debug console).
                let mut stderr = std::io::stderr().lock();
                let _ = writeln!(stderr, "{{\"level\":\"WARN\",\"fields\":{{\"message\":\"log shipping to the host failed\",\"error\":{:?}}}}}", error.to_string());
                for line in lines {
                    let _ = writeln!(stderr, "{line}");
                }
                break;
            }
            if !full {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_host_costs_lines_not_time() {
        let queue = LogQueue::new();
        queue.start_shipping();
        for n in 0..QUEUE_LINES + 100 {
            queue.push(format!("{{\"n\":{n}}}\n").as_bytes());
        }
        assert_eq!(queue.len(), QUEUE_LINES, "bounded");
        let (batch, dropped) = queue.take_batch();
        assert_eq!(batch.len(), MAX_LOG_LINES);
        assert_eq!(dropped, 100, "the dropped lines are counted, once");
        assert_eq!(batch[0], "{\"n\":0}", "oldest first, newline trimmed");
        let (_, dropped) = queue.take_batch();
        assert_eq!(dropped, 0);
        queue.push(&vec![b'x'; MAX_LOG_LINE_BYTES + 1]);
        let (rest, dropped) = queue.take_batch();
        assert_eq!(dropped, 1, "an oversized line is dropped and counted");
        assert!(rest.iter().all(|l| l.len() <= MAX_LOG_LINE_BYTES));
    }
}
