//! `lifecourse verify` and `lifecourse anchor`: tamper evidence for auditors and operators.

use std::path::PathBuf;

use clap::Args;
use lifecourse_events::ChildId;

use super::{json, Format};
use crate::app::{AnchorSummary, App, AppError, VerifyReport};
use crate::integrity::{anchor, SignedAnchor};

fn public_key(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err("expected 64 hexadecimal characters (an ed25519 public key)".into())
    }
}

#[derive(Args, Debug)]
#[command(
    long_about = "Recomputes the seal of every event (a SHA-256 over what the engine wrote and the \
previous event's seal) and names, by child and sequence number, every event changed, deleted, \
inserted or reordered behind the engine's back, even by someone with the database owner's rights \
who disabled the triggers. Also compares the store with every anchor stored in the database and, \
with --anchor, with an anchor file kept elsewhere, which detects a chain rewritten whole.",
    after_help = "Exit codes: 0 every event is as the engine recorded it; 5 the store was altered \
(each problem is listed); 2 the anchor file cannot be read or its signature does not hold; 1 the \
store failed."
)]
pub struct VerifyArgs {
    /// Verify one child's file only (a UUID); by default, every file
    child_id: Option<ChildId>,
    /// An anchor file written by `lifecourse anchor`, to compare the store with
    #[arg(long, value_name = "FILE")]
    anchor: Option<PathBuf>,
    /// The centre's anchor public key (64 hex characters, as `anchor --new-key` prints it): every
    /// anchor must be signed by it; without it an anchor is checked against the key it names
    #[arg(long, env = "LIFECOURSE_ANCHOR_PUBLIC_KEY", value_name = "HEX", value_parser = public_key)]
    public_key: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Args, Debug)]
#[command(
    long_about = "Verifies the whole store, then signs a Merkle root over every child's last \
event with an ed25519 key kept outside the database, stores it in the database and writes it to \
--out: a small file to keep elsewhere or publish. `lifecourse verify --anchor FILE` later proves \
that nothing recorded up to it has changed. Refused when the store does not verify.",
    after_help = "Create a key once with `lifecourse anchor --new-key FILE` and keep it away from \
the database server and its backups. Exit codes: 0 anchor written; 5 the store does not verify; \
2 the key cannot be read or the file cannot be written."
)]
pub struct AnchorArgs {
    /// The signing key (64 hex characters), made by --new-key
    #[arg(
        long,
        env = "LIFECOURSE_ANCHOR_KEY_FILE",
        value_name = "FILE",
        required_unless_present = "new_key"
    )]
    key: Option<PathBuf>,
    /// Where to write the anchor file (it is also stored in the database)
    #[arg(long, value_name = "FILE", required_unless_present = "new_key")]
    out: Option<PathBuf>,
    /// Create a new signing key in FILE (readable by you only; never overwrites) and stop
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "out"])]
    new_key: Option<PathBuf>,
}

pub async fn verify(app: &App, args: VerifyArgs) -> Result<(), AppError> {
    let file = match &args.anchor {
        Some(path) => Some(SignedAnchor::read(path)?),
        None => None,
    };
    let report = app
        .verify_pinned(args.child_id, file.as_ref(), args.public_key.as_deref())
        .await?;
    match args.format {
        Format::Json => out!("{}", json(&report)?),
        Format::Text => out!("{}", render(&report).trim_end()),
    }
    if report.is_clean() {
        Ok(())
    } else {
        Err(AppError::Altered {
            problems: report.findings.len(),
        })
    }
}

impl AnchorArgs {
    /// `--new-key FILE`: made before any store is opened.
    pub fn new_key(&self) -> Option<&PathBuf> {
        self.new_key.as_ref()
    }
}

/// Creates a signing key; touches no store.
pub fn new_key(path: &std::path::Path) -> Result<(), AppError> {
    let key = anchor::new_key(path)?;
    let public = hex::encode(key.verifying_key().to_bytes());
    out!("wrote a new anchor signing key to {}", path.display());
    out!("public key: {public}");
    out!("keep the file away from the database and its backups; publish the public key");
    Ok(())
}

pub async fn anchor(app: &App, args: AnchorArgs) -> Result<(), AppError> {
    let (Some(key_path), Some(out)) = (&args.key, &args.out) else {
        unreachable!("clap requires --key and --out without --new-key");
    };
    let key = anchor::read_key(key_path)?;
    let signed = app.anchor(&key).await?;
    std::fs::write(out, signed.to_file_text()).map_err(|source| anchor::AnchorError::Write {
        path: out.display().to_string(),
        source,
    })?;
    let summary = AnchorSummary::of(&signed);
    out!(
        "anchored {} children, {} events: root {}",
        summary.children,
        summary.events,
        summary.root
    );
    out!(
        "signed with key {}…, stored in the database and written to {}",
        summary.key_fingerprint,
        out.display()
    );
    Ok(())
}

/// The report as an auditor reads it.
pub fn render(report: &VerifyReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let rate = if report.seconds > 0.0 {
        report.events as f64 / report.seconds
    } else {
        0.0
    };
    let scope = match report.child {
        Some(child) => format!("child {child}'s file"),
        None => format!("{} file(s)", report.children),
    };
    let _ = writeln!(
        out,
        "verified {scope}, {} event(s), on {} in {:.2} s ({:.0} events/s)",
        report.events, report.store, report.seconds, rate
    );
    if report.recorded_before_seals > 0 {
        let _ = writeln!(
            out,
            "{} event(s) were recorded before seals existed: the first sealed event of each file covers them",
            report.recorded_before_seals
        );
    }
    let _ = writeln!(out, "stored anchors compared: {}", report.stored_anchors);
    if let Some(a) = &report.anchor_file {
        let _ = writeln!(
            out,
            "anchor file: taken {}, {} children, {} events, signed by key {}… (signature and root hold)",
            a.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            a.children,
            a.events,
            a.key_fingerprint
        );
    }
    if report.is_clean() {
        let _ = writeln!(
            out,
            "no problem found: every event is as the engine recorded it"
        );
        return out;
    }
    let _ = writeln!(out, "{} problem(s) found:", report.findings.len());
    for f in &report.findings {
        let at = match f.sequence {
            Some(s) => format!("child {} entry #{s}", f.child),
            None => format!("child {}", f.child),
        };
        let _ = writeln!(out, "  {at}: {}", f.problem.describe());
    }
    out
}
