//! `aip-enclave` as PID 1 (`/init`) of a Nitro enclave or an SEV-SNP guest
//! (docs/enclave-image.md, docs/deploy-sev.md). The image holds nothing but this binary and
//! someone else's pinned kernel and modules, so it does what an init does before serving:
//! - both: mount `/dev` (devtmpfs), load the ramdisk's kernel modules, take the configuration
//!   from the host over vsock port 9001 and serve; if serving ends, power off (PID 1 must never
//!   return);
//! - Nitro (AWS's own init, aws-nitro-enclaves-sdk-bootstrap init/init.c, is the model):
//!   `/nsm.ko`, then the heartbeat `nitro-cli run-enclave` waits for; the parent is CID 3;
//! - SEV-SNP: `/modules/*` in name order (vsock, its virtio transport, configfs-tsm, sev-guest),
//!   sysfs and configfs mounted for the kernel's attestation reports; the host is CID 2.
//!
//! Which platform is told by `AIP_INIT` in the kernel command line (the kernel hands unknown
//! `name=value` words to init as environment): absent on Nitro, whose command line is AWS's,
//! `sev-snp` in our SNP guest's. Both command lines are measured; any other value powers off.

use std::ffi::CStr;
use std::path::Path;
use std::process::ExitCode;

use aip_wire::Endpoint;

use crate::serve::{self, ConfigSource};

/// Where `nitro-cli run-enclave` waits for the heartbeat.
const HEARTBEAT_PORT: u32 = 9000;
const HEARTBEAT: u8 = 0xB7;
/// Where aip-host serves the enclave's configuration (`[enclave] config`, docs).
pub const CONFIG_PORT: u32 = 9001;
/// `finit_module` flag: the kernel decompresses the module itself (Linux 6.4+,
/// `CONFIG_MODULE_DECOMPRESS`), as for the SNP kernel's `.ko.zst` files.
const MODULE_INIT_COMPRESSED_FILE: libc::c_int = 4;

/// The platform `/init` is booting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Nitro,
    SevSnp,
}

impl Platform {
    fn from_environment() -> Result<Self, InitError> {
        match std::env::var("AIP_INIT") {
            Err(std::env::VarError::NotPresent) => Ok(Self::Nitro),
            Ok(value) if value == "sev-snp" => Ok(Self::SevSnp),
            Ok(value) => Err(InitError::UnknownPlatform(value)),
            Err(std::env::VarError::NotUnicode(value)) => Err(InitError::UnknownPlatform(
                value.to_string_lossy().into_owned(),
            )),
        }
    }

    /// The vsock context id of the machine aip-host runs on.
    fn host_cid(self) -> u32 {
        match self {
            // The parent instance.
            Self::Nitro => 3,
            // VMADDR_CID_HOST: the hypervisor's host, where QEMU and aip-host run.
            Self::SevSnp => 2,
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum InitError {
    #[error("AIP_INIT={0:?} names no platform this image boots (only sev-snp, or none for Nitro)")]
    UnknownPlatform(String),
    #[error("mounting {target}")]
    Mount {
        target: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("loading the kernel module {module}")]
    LoadModule {
        module: String,
        #[source]
        source: std::io::Error,
    },
    #[error("listing /modules")]
    ListModules(#[source] std::io::Error),
    #[error("the heartbeat to the parent")]
    Heartbeat(#[source] aip_wire::WireError),
    #[error("the parent answered the heartbeat with {0:#x}")]
    HeartbeatAnswer(u8),
    #[error("the heartbeat's connection")]
    HeartbeatIo(#[source] std::io::Error),
}

pub fn run() -> ExitCode {
    let platform = match Platform::from_environment().and_then(|platform| {
        prepare(platform)?;
        Ok(platform)
    }) {
        Ok(platform) => platform,
        Err(error) => {
            tracing::error!(stage = "init", error = %aip_wire::process::error_chain(&error), "the enclave cannot start");
            power_off();
        }
    };
    tracing::info!(
        stage = "init",
        ?platform,
        "the machine is ready; asking the host for the configuration"
    );
    let source = ConfigSource::Host(Endpoint::Vsock {
        cid: platform.host_cid(),
        port: CONFIG_PORT,
    });
    let code = serve::run(&source, None);
    tracing::error!(?code, "serving ended; powering off");
    power_off();
}

fn prepare(platform: Platform) -> Result<(), InitError> {
    mount(c"devtmpfs", c"/dev", c"devtmpfs", "/dev")?;
    match platform {
        Platform::Nitro => {
            load_module_file(Path::new("/nsm.ko"))?;
            let runtime = aip_wire::process::runtime().map_err(InitError::HeartbeatIo)?;
            runtime.block_on(heartbeat(platform.host_cid()))
        }
        Platform::SevSnp => {
            // configfs-tsm reports live in /sys/kernel/config/tsm/report.
            mount(c"sysfs", c"/sys", c"sysfs", "/sys")?;
            mount(
                c"configfs",
                c"/sys/kernel/config",
                c"configfs",
                "/sys/kernel/config",
            )?;
            load_modules(Path::new("/modules"))
        }
    }
}

/// mount(2) of a pseudo filesystem, creating the mount point; already mounted (EBUSY: some
/// kernels mount devtmpfs themselves) is fine.
fn mount(
    source: &CStr,
    target: &CStr,
    kind: &CStr,
    target_name: &'static str,
) -> Result<(), InitError> {
    let _ = std::fs::create_dir_all(target_name);
    #[allow(unsafe_code)]
    // SAFETY: mount(2) with NUL-terminated strings that outlive the call and no data; no
    // memory is shared with the kernel after it returns.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            kind.as_ptr(),
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
        _ => Err(InitError::Mount {
            target: target_name,
            source: error,
        }),
    }
}

/// Every module in `dir`, in name order (the image names them `0-…`, `1-…` in load order).
fn load_modules(dir: &Path) -> Result<(), InitError> {
    let mut modules = std::fs::read_dir(dir)
        .and_then(|entries| {
            entries
                .map(|entry| entry.map(|entry| entry.path()))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(InitError::ListModules)?;
    modules.sort();
    for module in modules {
        load_module_file(&module)?;
    }
    Ok(())
}

/// Loads one module from the ramdisk (a missing file or an already loaded or built-in
/// module is fine: kernels from 6.8 have the NSM driver built in), then removes the file.
fn load_module_file(path: &Path) -> Result<(), InitError> {
    let failed = |source| InitError::LoadModule {
        module: path.display().to_string(),
        source,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(failed(error)),
    };
    let flags = match path.extension().and_then(|e| e.to_str()) {
        Some("zst" | "xz" | "gz") => MODULE_INIT_COMPRESSED_FILE,
        _ => 0,
    };
    use std::os::fd::AsRawFd;
    #[allow(unsafe_code)]
    // SAFETY: finit_module(2) on an open file descriptor we own, with an empty NUL-terminated
    // parameter string; the kernel reads the module from the descriptor.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_finit_module,
            file.as_raw_fd(),
            c"".as_ptr(),
            flags,
        )
    };
    if rc != 0 {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EEXIST) {
            return Err(failed(error));
        }
    }
    drop(file);
    let _ = std::fs::remove_file(path);
    tracing::info!(stage = "init", module = %path.display(), "kernel module loaded");
    Ok(())
}

/// 0xB7 to the parent on port 9000, and 0xB7 back: `nitro-cli` waits for it.
async fn heartbeat(parent_cid: u32) -> Result<(), InitError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = aip_wire::Stream::connect(&Endpoint::Vsock {
        cid: parent_cid,
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

/// PID 1 must not exit (the kernel would panic): power the machine off.
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
