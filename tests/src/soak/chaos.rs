//! The killer: at random moments, SIGKILL one process of the stack and start it again, one
//! at a time so the Lit threshold (2 of 3) and the RPC quorum (2 of 3) stay reachable for
//! most of the run, as they would with independent failures. The enclave is restarted by the
//! host's supervisor (as `nitro-cli` would); everything else by the killer after a pause.

use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore};

use crate::service::Stack;

/// What was done, by process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Kills {
    pub enclave: u32,
    pub host: u32,
    pub lit_node: u32,
    pub rpc_endpoint: u32,
    /// Not a kill: the cluster's blockhash expired (signed, unlanded payments can never land).
    pub blockhash_expired: u32,
}

impl Kills {
    pub fn total(&self) -> u32 {
        self.enclave + self.host + self.lit_node + self.rpc_endpoint
    }
}

fn between(low: u64, high: u64) -> u64 {
    low + OsRng.next_u64() % (high - low + 1)
}

fn sleep_ms(low: u64, high: u64) {
    std::thread::sleep(Duration::from_millis(between(low, high)));
}

/// Kills and restarts processes of `stack` until `until`; everything runs again when it
/// returns. `quiet` is how long to leave between faults, at random in that range.
pub fn run(stack: &mut Stack, until: Instant, quiet_ms: (u64, u64)) -> Kills {
    let mut kills = Kills::default();
    loop {
        let pause = Duration::from_millis(between(quiet_ms.0, quiet_ms.1));
        if Instant::now() + pause >= until {
            std::thread::sleep(until.saturating_duration_since(Instant::now()));
            return kills;
        }
        std::thread::sleep(pause);
        match OsRng.next_u64() % 9 {
            // The enclave twice as often: it is the process whose crash matters most.
            0 | 1 => {
                if let Some(pid) = stack.enclave_pid() {
                    let _ = std::process::Command::new("kill")
                        .args(["-9", &pid.to_string()])
                        .status();
                    kills.enclave += 1;
                    announce("enclave", pid);
                }
            }
            2 | 3 => {
                let pid = stack.host_pid().unwrap_or(0);
                stack.kill_host();
                kills.host += 1;
                announce("host", pid);
                sleep_ms(200, 3000);
                stack.start_host();
            }
            4 | 5 => {
                let index = between(0, stack.lit_nodes.len() as u64 - 1) as usize;
                let node = &mut stack.lit_nodes[index];
                announce("lit node", node.pid());
                node.kill();
                kills.lit_node += 1;
                sleep_ms(500, 5000);
                node.restart();
            }
            6 | 7 => {
                let index = between(0, stack.rpc_relays.len() as u64 - 1) as usize;
                let relay = &mut stack.rpc_relays[index];
                announce("rpc endpoint", relay.pid());
                relay.kill();
                kills.rpc_endpoint += 1;
                sleep_ms(500, 5000);
                relay.restart();
            }
            _ => {
                if let Some(solana) = &stack.solana {
                    if solana.rpc.expire_blockhash().is_ok() {
                        kills.blockhash_expired += 1;
                        eprintln!("soak: the blockhash expired");
                    }
                }
            }
        }
    }
}

fn announce(what: &str, pid: u32) {
    eprintln!("soak: kill -9 {what} (pid {pid})");
}
