//! Searching another process's memory (`/proc/PID/maps` + `/proc/PID/mem`) for bytes: the
//! test that a session key does not outlive its payment in the enclave process.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// Largest region read (bigger ones are reserved address space, not data).
const MAX_REGION: u64 = 1 << 30;
const CHUNK: usize = 4 << 20;

/// Whether any readable mapping of `pid` holds `needle`.
pub fn process_contains(pid: u32, needle: &[u8]) -> std::io::Result<bool> {
    Ok(!find_in_process(pid, needle, 1)?.is_empty())
}

/// Where `needle` is in `pid`'s memory: up to `max` hits, each the mapping line and the
/// address, for a failing test to say where a secret lingers.
pub fn find_in_process(pid: u32, needle: &[u8], max: usize) -> std::io::Result<Vec<String>> {
    let mut hits = Vec::new();
    assert!(!needle.is_empty());
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let mem = File::open(format!("/proc/{pid}/mem"))?;
    let mut buffer = vec![0u8; CHUNK + needle.len()];
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let name = line.split_whitespace().nth(5).unwrap_or("");
        if !perms.starts_with('r')
            || name == "[vvar]"
            || name == "[vsyscall]"
            || name == "[vvar_vclock]"
        {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        else {
            continue;
        };
        if end - start > MAX_REGION {
            continue;
        }
        let mut at = start;
        while at < end {
            let want = usize::try_from((end - at).min(buffer.len() as u64)).unwrap_or(CHUNK);
            let Ok(read) = mem.read_at(&mut buffer[..want], at) else {
                break;
            };
            if read == 0 {
                break;
            }
            let mut from = 0;
            while let Some(i) = position(&buffer[from..read], needle) {
                hits.push(format!("{line} @ {:#x}", at + (from + i) as u64));
                if hits.len() >= max {
                    return Ok(hits);
                }
                from += i + 1;
            }
            // Overlap by the needle's length so a match across chunks is found.
            at += (read.saturating_sub(needle.len()).max(1)) as u64;
        }
    }
    Ok(hits)
}

fn position(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(i) = haystack.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if haystack.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_its_own_marker() {
        let marker: Vec<u8> = b"aip-memory-scan-marker-7f3a91".to_vec();
        let held = std::hint::black_box(marker.clone());
        assert!(super::process_contains(std::process::id(), &held).unwrap());
    }
}
