//! The killer: at random moments, SIGKILL one process of the stack and start it again, one
//! at a time so the Lit threshold (2 of 3) and the RPC quorum (2 of 3) stay reachable for
//! most of the run, as they would with independent failures. The enclave is restarted by the
//! host's supervisor (as `nitro-cli` would); everything else by the killer after a pause.

use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore};

use crate::devnet::Crashable;
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
                crash_one(&mut stack.lit_nodes, "lit node");
                kills.lit_node += 1;
            }
            6 | 7 => {
                crash_one(&mut stack.rpc_relays, "rpc endpoint");
                kills.rpc_endpoint += 1;
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

/// Kills one of `processes` at random, waits a little, starts it again.
fn crash_one(processes: &mut [impl Crashable], what: &str) {
    let index = between(0, processes.len() as u64 - 1) as usize;
    let process = &mut processes[index];
    announce(what, process.pid());
    process.kill();
    sleep_ms(500, 5000);
    process.restart();
}

fn announce(what: &str, pid: u32) {
    eprintln!("soak: kill -9 {what} (pid {pid})");
}
