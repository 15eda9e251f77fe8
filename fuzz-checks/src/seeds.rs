//! Reading seed files.

use std::path::{Path, PathBuf};

/// The files directly in `dir` whose extension is one of `extensions`, sorted by name, with
/// their bytes. A missing directory gives none (the caller checks it found seeds).
pub fn files(dir: &Path, extensions: &[&str]) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes)))
        .collect()
}
