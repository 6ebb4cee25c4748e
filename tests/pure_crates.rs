//! The catalogue and the read-model folds are data and pure functions: no async runtime, no
//! database driver, no I/O crate may creep into their dependency trees.

fn dependencies_of(package: &str) -> Vec<String> {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    assert!(tree.starts_with(package), "{tree}");
    tree.lines()
        .filter_map(|l| l.split(' ').next())
        .map(String::from)
        .collect()
}

const FORBIDDEN: &[&str] = &[
    "tokio",
    "sqlx",
    "mio",
    "async-trait",
    "futures",
    "cqrs-es",
    "hyper",
    "reqwest",
    "socket2",
];

#[test]
fn the_events_and_projections_crates_depend_on_no_io_or_async_crate() {
    for package in ["lifecourse-events", "lifecourse-projections"] {
        let dependencies = dependencies_of(package);
        for forbidden in FORBIDDEN {
            assert!(
                !dependencies.iter().any(|d| d == forbidden),
                "{package} depends on {forbidden}"
            );
        }
    }
}
