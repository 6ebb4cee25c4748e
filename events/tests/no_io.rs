//! The catalogue is data only: no async runtime, no database driver, no I/O crate may creep into
//! its dependency tree.

#[test]
fn the_events_crate_depends_on_no_io_or_async_crate() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "lifecourse-events",
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
    assert!(tree.starts_with("lifecourse-events"), "{tree}");
    for forbidden in [
        "tokio",
        "sqlx",
        "mio",
        "async-trait",
        "futures",
        "cqrs-es",
        "hyper",
        "reqwest",
    ] {
        let found: Vec<_> = tree
            .lines()
            .filter(|l| l.split(' ').next() == Some(forbidden))
            .collect();
        assert!(
            found.is_empty(),
            "lifecourse-events depends on {forbidden}: {found:?}"
        );
    }
}
