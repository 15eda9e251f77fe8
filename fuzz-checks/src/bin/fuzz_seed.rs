//! `fuzz-seed TARGET DIR [TESTDATA]`: writes TARGET's seed inputs into DIR (one file each,
//! named by index), for `scripts/fuzz` to start its corpus from. TESTDATA defaults to
//! `../shared/testdata` beside the repository.
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, dir, rest @ ..] = args.as_slice() else {
        eprintln!("usage: fuzz-seed TARGET DIR [TESTDATA]");
        return ExitCode::FAILURE;
    };
    let Some(target) = aip_fuzz_checks::target(name) else {
        eprintln!("no fuzz target {name}");
        return ExitCode::FAILURE;
    };
    let testdata = rest.first().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata"),
        PathBuf::from,
    );
    let dir = PathBuf::from(dir);
    let seeds = (target.seeds)(&testdata);
    if seeds.is_empty() {
        eprintln!("no seeds for {name} under {}", testdata.display());
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for (index, seed) in seeds.iter().enumerate() {
        let path = dir.join(format!("seed-{index:03}"));
        if let Err(e) = std::fs::write(&path, seed) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    println!("{name}: {} seeds in {}", seeds.len(), dir.display());
    ExitCode::SUCCESS
}
