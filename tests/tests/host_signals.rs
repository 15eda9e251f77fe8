#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The host never leaves an orphaned enclave (issue 15): SIGTERM stops it like Ctrl-C (the
//! enclave first), and if the host is killed outright the kernel kills the enclave with it
//! (parent-death signal). The enclave's log lines reach the host's log over the control
//! channel (on Nitro there is no other way out). Real processes, real signals.

use std::process::Command;
use std::time::{Duration, Instant};

use aip_tests::service::{Stack, StackOptions};

fn alive(pid: u32) -> bool {
    // A zombie is dead for our purposes: it runs nothing and holds no key.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([name, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_enclave_and_a_killed_host_takes_it_along() {
    let mut stack = Stack::start("host-signals", StackOptions::default());
    stack.wait_attested(Duration::from_secs(90)).await;
    let enclave = stack.enclave_pid().expect("the enclave runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    let shipped = loop {
        let log = stack.host_log();
        let line = log
            .lines()
            .find(|l| l.contains("log lines go to the host"))
            .map(str::to_owned);
        if let Some(line) = line {
            break line;
        }
        assert!(
            Instant::now() < deadline,
            "no enclave line in the host's log"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let shipped: serde_json::Value = serde_json::from_str(&shipped).unwrap();
    assert_eq!(
        shipped["from"], "enclave",
        "written by the host, marked: {shipped}"
    );
    signal(stack.host_pid().unwrap(), "-TERM");
    let status = stack
        .wait_host_exit(Duration::from_secs(15))
        .expect("the host exits on SIGTERM");
    assert!(status.success(), "a clean stop: {status:?}");
    assert!(
        wait_gone(enclave, Duration::from_secs(5)),
        "the enclave stopped with its host"
    );
    assert!(
        stack.host_log().contains("SIGTERM"),
        "the host says why it stopped"
    );

    stack.start_host();
    stack.wait_attested(Duration::from_secs(90)).await;
    let enclave = stack.enclave_pid().expect("the enclave runs again");
    signal(stack.host_pid().unwrap(), "-KILL");
    stack
        .wait_host_exit(Duration::from_secs(5))
        .expect("killed");
    assert!(
        wait_gone(enclave, Duration::from_secs(5)),
        "the kernel killed the enclave with its host (no orphan)"
    );
}

/// As on Nitro, the enclave image holds no configuration: the host serves it at boot
/// (`serve --config-from`). A host that serves another configuration gets an enclave that
/// boots no further than the state key: the configuration's identity is bound into the
/// evidence and the measurement policy the Lit nodes check pins it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_serves_the_configuration_and_cannot_swap_it() {
    let mut stack = Stack::start(
        "config-from-host",
        StackOptions {
            config_from_host: true,
            ..StackOptions::default()
        },
    );
    stack.wait_attested(Duration::from_secs(90)).await;
    assert!(stack.host_log().contains("enclave configuration served"));

    stack.stop_host();
    let path = stack.dir.join("enclave.toml");
    let genuine = std::fs::read_to_string(&path).unwrap();
    let swapped = genuine.replacen("node_timeout_ms = 15000", "node_timeout_ms = 15001", 1);
    assert_ne!(swapped, genuine);
    std::fs::write(&path, swapped).unwrap();
    stack.start_host();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = stack.host_log();
        let refused = log
            .lines()
            .any(|line| line.contains("boot failed") && line.contains("state_key"));
        if refused {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the enclave booted on a configuration the policy does not pin"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
