//! A deterministic initramfs: an uncompressed `newc` cpio archive written from an explicit
//! manifest, never from the filesystem's metadata. Entries are sorted by path, inodes numbered
//! in that order, owner root, mtime 0, modes from the manifest; so the same manifest gives the
//! same bytes on any machine (`docs/deploy-nitro.md`, research: enclave-image.md §2.5).

use thiserror::Error;

/// One file or directory of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Directory {
        path: String,
        mode: u32,
    },
    File {
        path: String,
        mode: u32,
        data: Vec<u8>,
    },
}

impl Entry {
    pub fn path(&self) -> &str {
        match self {
            Self::Directory { path, .. } | Self::File { path, .. } => path,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CpioError {
    #[error("path {0:?} must be relative, non-empty, without `.`/`..` parts or NUL")]
    BadPath(String),
    #[error("path {0:?} is listed twice")]
    Duplicate(String),
    #[error("mode {mode:o} of {path:?} has bits outside 0o7777")]
    BadMode { path: String, mode: u32 },
    #[error("{0:?} is larger than a newc archive can hold (4 GiB)")]
    TooLarge(String),
    #[error("{path:?} lies in {parent:?}, which the manifest does not list as a directory")]
    NoParent { path: String, parent: String },
}

const MAGIC: &str = "070701";
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;

/// The archive of `entries`, sorted by path; every parent directory must be listed.
pub fn archive(entries: &[Entry]) -> Result<Vec<u8>, CpioError> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path().cmp(b.path()));
    for pair in sorted.windows(2) {
        if let [a, b] = pair {
            if a.path() == b.path() {
                return Err(CpioError::Duplicate(a.path().to_owned()));
            }
        }
    }
    let directories: Vec<&str> = sorted
        .iter()
        .filter(|e| matches!(e, Entry::Directory { .. }))
        .map(|e| e.path())
        .collect();
    let mut out = Vec::new();
    for (index, entry) in sorted.iter().enumerate() {
        let path = entry.path();
        if path.is_empty()
            || path.starts_with('/')
            || path.contains('\0')
            || path
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..")
        {
            return Err(CpioError::BadPath(path.to_owned()));
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            if !directories.contains(&parent) {
                return Err(CpioError::NoParent {
                    path: path.to_owned(),
                    parent: parent.to_owned(),
                });
            }
        }
        let (kind, mode, data, links) = match entry {
            Entry::Directory { mode, .. } => (S_IFDIR, *mode, &[][..], 2),
            Entry::File { mode, data, .. } => (S_IFREG, *mode, data.as_slice(), 1),
        };
        if mode & !0o7777 != 0 {
            return Err(CpioError::BadMode {
                path: path.to_owned(),
                mode,
            });
        }
        let size = u32::try_from(data.len()).map_err(|_| CpioError::TooLarge(path.to_owned()))?;
        let inode = u32::try_from(index + 1).map_err(|_| CpioError::TooLarge(path.to_owned()))?;
        header(&mut out, inode, kind | mode, links, size, path);
        out.extend_from_slice(data);
        pad4(&mut out);
    }
    header(&mut out, 0, 0, 1, 0, "TRAILER!!!");
    Ok(out)
}

/// A newc header, the NUL-terminated name, and padding to 4 bytes.
fn header(out: &mut Vec<u8>, inode: u32, mode: u32, links: u32, size: u32, name: &str) {
    let name_size = u32::try_from(name.len() + 1).unwrap_or(u32::MAX);
    let fields = [inode, mode, 0, 0, links, 0, size, 0, 0, 0, 0, name_size, 0];
    out.extend_from_slice(MAGIC.as_bytes());
    for field in fields {
        out.extend_from_slice(format!("{field:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}
