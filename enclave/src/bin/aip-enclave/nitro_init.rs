//! `aip-enclave` as a Nitro enclave's `/init` (PID 1; docs/enclave-image.md). The image holds
//! nothing but this binary (PCR2) and AWS's kernel and `nsm.ko` (PCR0/1), so it does what
//! AWS's own init does before serving (aws-nitro-enclaves-sdk-bootstrap, init/init.c):
//! mount `/dev`, load the NSM driver, tell `nitro-cli` it booted (the heartbeat), then take its
//! configuration from the host and serve. If serving ends, the enclave powers off: PID 1 must
//! never return.

use std::process::ExitCode;

use aip_wire::Endpoint;

use crate::serve::{self, ConfigSource};

/// The parent instance's vsock context id.
const PARENT_CID: u32 = 3;
/// Where `nitro-cli run-enclave` waits for the heartbeat.
const HEARTBEAT_PORT: u32 = 9000;
const HEARTBEAT: u8 = 0xB7;
/// Where aip-host serves the enclave's configuration (`[enclave] config_file`, docs).
pub const CONFIG_PORT: u32 = 9001;

#[derive(Debug, thiserror::Error)]
enum InitError {
    #[error("mounting /dev")]
    MountDev(#[source] std::io::Error),
    #[error("loading /nsm.ko")]
    LoadNsm(#[source] std::io::Error),
    #[error("the heartbeat to the parent")]
    Heartbeat(#[source] aip_wire::WireError),
    #[error("the parent answered the heartbeat with {0:#x}")]
    HeartbeatAnswer(u8),
    #[error("the heartbeat's connection")]
    HeartbeatIo(#[source] std::io::Error),
}

pub fn run() -> ExitCode {
    if let Err(error) = prepare() {
        tracing::error!(stage = "init", error = %aip_wire::process::error_chain(&error), "the enclave cannot start");
        power_off();
    }
    let source = ConfigSource::Host(Endpoint::Vsock {
        cid: PARENT_CID,
        port: CONFIG_PORT,
    });
    let code = serve::run(&source, None);
    tracing::error!(?code, "serving ended; powering off");
    power_off();
}

fn prepare() -> Result<(), InitError> {
    mount_dev()?;
    load_nsm()?;
    let runtime = aip_wire::process::runtime().map_err(InitError::HeartbeatIo)?;
    runtime.block_on(heartbeat())
}

/// devtmpfs on /dev (already mounted by some kernels: EBUSY is fine).
fn mount_dev() -> Result<(), InitError> {
    let _ = std::fs::create_dir_all("/dev");
    #[allow(unsafe_code)]
    // SAFETY: mount(2) with NUL-terminated static strings and no data; no memory is shared.
    let rc = unsafe {
        libc::mount(
            c"devtmpfs".as_ptr(),
            c"/dev".as_ptr(),
            c"devtmpfs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EBUSY) => Ok(()),
        _ => Err(InitError::MountDev(error)),
    }
}

/// The NSM driver from the bootstrap ramdisk (kernels from 6.8 have it built in: a missing
/// file or an already loaded module is fine), then the file is removed.
fn load_nsm() -> Result<(), InitError> {
    let file = match std::fs::File::open("/nsm.ko") {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(InitError::LoadNsm(error)),
    };
    use std::os::fd::AsRawFd;
    #[allow(unsafe_code)]
    // SAFETY: finit_module(2) on an open file descriptor we own, with an empty NUL-terminated
    // parameter string and no flags; the kernel reads the module from the descriptor.
    let rc = unsafe { libc::syscall(libc::SYS_finit_module, file.as_raw_fd(), c"".as_ptr(), 0) };
    if rc != 0 {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EEXIST) {
            return Err(InitError::LoadNsm(error));
        }
    }
    drop(file);
    let _ = std::fs::remove_file("/nsm.ko");
    Ok(())
}

/// 0xB7 to the parent on port 9000, and 0xB7 back: `nitro-cli` waits for it.
async fn heartbeat() -> Result<(), InitError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = aip_wire::Stream::connect(&Endpoint::Vsock {
        cid: PARENT_CID,
        port: HEARTBEAT_PORT,
    })
    .await
    .map_err(InitError::Heartbeat)?;
    stream
        .write_all(&[HEARTBEAT])
        .await
        .map_err(InitError::HeartbeatIo)?;
    let mut answer = [0u8; 1];
    stream
        .read_exact(&mut answer)
        .await
        .map_err(InitError::HeartbeatIo)?;
    match answer[0] {
        HEARTBEAT => Ok(()),
        other => Err(InitError::HeartbeatAnswer(other)),
    }
}

/// PID 1 must not exit (the kernel would panic): power the enclave off.
fn power_off() -> ! {
    #[allow(unsafe_code)]
    // SAFETY: reboot(2) with the power-off command; it does not return on success.
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_POWER_OFF);
    }
    loop {
        std::thread::park();
    }
}
