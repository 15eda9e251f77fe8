//! Fault injection for tests and benchmarks: `--down I`, `--slow I=MIN..MAX` (milliseconds,
//! uniform per request), `--wrong I` (a share over another message, under the node's own
//! identifier, so only a verification catches it), `--foreign-seal I` (the node's answer sealed
//! by a key other than the identity key its handshake named, so only the requester's check of
//! the sender catches it).

use std::ops::RangeInclusive;
use std::time::Duration;

use rand_core::{OsRng, RngCore};

/// What one node does wrong.
#[derive(Debug, Clone, Default)]
pub struct NodeFaults {
    pub latency_ms: Option<RangeInclusive<u64>>,
    pub wrong_share: bool,
    pub foreign_seal: bool,
}

impl NodeFaults {
    /// A latency drawn from the range, if the node is slow.
    pub fn delay(&self) -> Option<Duration> {
        let range = self.latency_ms.as_ref()?;
        let span = range.end() - range.start() + 1;
        Some(Duration::from_millis(
            range.start() + OsRng.next_u64() % span,
        ))
    }
}

/// Faults of the whole network, by node index.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub down: Vec<usize>,
    pub slow: Vec<(usize, RangeInclusive<u64>)>,
    pub wrong: Vec<usize>,
    pub foreign_seal: Vec<usize>,
}

impl Faults {
    pub fn is_down(&self, index: usize) -> bool {
        self.down.contains(&index)
    }

    pub fn for_node(&self, index: usize) -> NodeFaults {
        NodeFaults {
            latency_ms: self
                .slow
                .iter()
                .find(|(i, _)| *i == index)
                .map(|(_, r)| r.clone()),
            wrong_share: self.wrong.contains(&index),
            foreign_seal: self.foreign_seal.contains(&index),
        }
    }

    /// Every index must name a node.
    pub fn check(&self, nodes: usize) -> Result<(), String> {
        let indices = self
            .down
            .iter()
            .chain(self.wrong.iter())
            .chain(self.foreign_seal.iter())
            .chain(self.slow.iter().map(|(i, _)| i));
        for index in indices {
            if *index >= nodes {
                return Err(format!(
                    "fault for node {index}, but nodes are 0..{}",
                    nodes - 1
                ));
            }
        }
        Ok(())
    }
}

/// Parses `I=MIN..MAX` for `--slow`.
pub fn parse_slow(text: &str) -> Result<(usize, RangeInclusive<u64>), String> {
    let (index, range) = text
        .split_once('=')
        .ok_or("expected NODE=MIN..MAX (milliseconds)")?;
    let (min, max) = range
        .split_once("..")
        .ok_or("expected NODE=MIN..MAX (milliseconds)")?;
    let index = index.parse().map_err(|e| format!("node index: {e}"))?;
    let min: u64 = min.parse().map_err(|e| format!("minimum: {e}"))?;
    let max: u64 = max.parse().map_err(|e| format!("maximum: {e}"))?;
    if min > max {
        return Err(format!("minimum {min} is above maximum {max}"));
    }
    Ok((index, min..=max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_ranges_parse_and_bad_ones_are_refused() {
        assert_eq!(parse_slow("3=20..80"), Ok((3, 20..=80)));
        assert_eq!(parse_slow("0=5..5"), Ok((0, 5..=5)));
        for bad in ["3", "3=20", "x=1..2", "1=9..2", "1=..2"] {
            assert!(parse_slow(bad).is_err(), "{bad}");
        }
        let faults = Faults {
            down: vec![0],
            slow: vec![(1, 10..=10)],
            wrong: vec![2],
            foreign_seal: vec![1],
        };
        assert!(faults.check(3).is_ok());
        let foreign = Faults {
            foreign_seal: vec![3],
            ..Faults::default()
        };
        assert!(foreign.check(3).is_err());
        assert!(faults.for_node(1).foreign_seal && !faults.for_node(2).foreign_seal);
        assert!(faults.check(2).is_err());
        assert_eq!(faults.for_node(1).delay(), Some(Duration::from_millis(10)));
        assert!(faults.for_node(2).wrong_share && faults.for_node(0).delay().is_none());
    }
}
