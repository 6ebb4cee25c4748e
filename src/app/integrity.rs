//! Verifying the store and taking anchors (`crate::integrity`): operators' commands, run with the
//! database's credentials like `project` and `rebuild`; they read every stream and print child
//! ids and sequence numbers, never a payload.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use lifecourse_events::ChildId;
use serde::Serialize;

use super::{App, AppError};
use crate::integrity::{
    anchor, check_anchored, check_stream, missing_child, Anchor, Finding, Head, RawSealed,
    SealedRow, SignedAnchor,
};

/// What `verify` found.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    pub store: &'static str,
    /// The one child verified, when one was named.
    pub child: Option<ChildId>,
    pub children: u64,
    pub events: u64,
    /// Events recorded before seals existed: they are chained (the first sealed event covers
    /// them) but carry no seal of their own.
    pub recorded_before_seals: u64,
    /// Anchors stored in the database that were checked, and the anchor file, if one was given.
    pub stored_anchors: u64,
    pub anchor_file: Option<AnchorSummary>,
    pub findings: Vec<Finding>,
    pub seconds: f64,
    /// Every verified child's last event, as an anchor records it.
    #[serde(skip)]
    pub heads: Vec<Head>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// An anchor, in brief.
#[derive(Clone, Debug, Serialize)]
pub struct AnchorSummary {
    pub created_at: DateTime<Utc>,
    pub children: u64,
    pub events: u64,
    pub root: String,
    /// The first 16 hex digits of the signing key, for people to compare.
    pub key_fingerprint: String,
}

impl AnchorSummary {
    pub fn of(anchor: &SignedAnchor) -> Self {
        Self {
            created_at: anchor.anchor.created_at,
            children: anchor.anchor.children,
            events: anchor.anchor.events,
            root: anchor.anchor.root.clone(),
            key_fingerprint: anchor::fingerprint(&anchor.public_key),
        }
    }
}

/// What the checker found over every stream.
#[derive(Default)]
struct Tally {
    children: u64,
    events: u64,
    legacy: u64,
    findings: Vec<Finding>,
    seen: std::collections::HashSet<String>,
    heads: Vec<Head>,
}

/// What the anchors say each child held: sequence and seal, per child.
type Anchored = HashMap<String, Vec<(u64, String)>>;

fn add_heads(anchored: &mut Anchored, heads: &[Head]) {
    for head in heads {
        let entry = anchored.entry(head.child.clone()).or_default();
        if !entry.iter().any(|(s, _)| *s == head.sequence) {
            entry.push((head.sequence, head.seal.clone()));
        }
    }
}

impl App {
    /// Recomputes every seal (or one child's) and compares the store with every stored anchor
    /// and with `anchor_file`, if given (its signature and root are checked first).
    pub async fn verify(
        &self,
        only: Option<ChildId>,
        anchor_file: Option<&SignedAnchor>,
    ) -> Result<VerifyReport, AppError> {
        self.verify_pinned(only, anchor_file, None).await
    }

    /// As `verify`, and when `public_key` (hex) is given, every anchor — the file's and the
    /// stored ones — must be signed by that key: the file is refused otherwise, and a stored
    /// anchor signed by another key is a finding.
    pub async fn verify_pinned(
        &self,
        only: Option<ChildId>,
        anchor_file: Option<&SignedAnchor>,
        public_key: Option<&str>,
    ) -> Result<VerifyReport, AppError> {
        use crate::integrity::Problem;
        let started = Instant::now();
        let mut findings = Vec::new();
        let mut anchored = Anchored::new();
        let stored = self.store.anchors().await?;
        let pinned =
            |a: &SignedAnchor| public_key.is_none_or(|k| k.eq_ignore_ascii_case(&a.public_key));
        for (id, text) in &stored {
            let problem = match serde_json::from_str::<SignedAnchor>(text) {
                Ok(a) if a.check().is_ok() && pinned(&a) => {
                    add_heads(&mut anchored, &a.anchor.heads);
                    continue;
                }
                Ok(a) if a.check().is_ok() => Problem::AnchorForeignKey {
                    key_fingerprint: anchor::fingerprint(&a.public_key),
                },
                _ => Problem::AnchorAltered,
            };
            findings.push(Finding {
                child: format!("(stored anchor #{id})"),
                sequence: None,
                problem,
            });
        }
        if let Some(file) = anchor_file {
            file.check()?;
            if let Some(expected) = public_key.filter(|_| !pinned(file)) {
                return Err(anchor::AnchorError::UnexpectedKey {
                    found: anchor::fingerprint(&file.public_key),
                    expected: anchor::fingerprint(expected),
                }
                .into());
            }
            add_heads(&mut anchored, &file.anchor.heads);
        }
        if let Some(child) = only {
            let id = child.to_string();
            anchored.retain(|c, _| *c == id);
        }
        // The store is read on this task; rows are parsed and hashed on a thread of their own,
        // so reading and hashing overlap.
        let (to_checker, rows) = std::sync::mpsc::sync_channel::<(String, Vec<RawSealed>)>(64);
        let checker = tokio::task::spawn_blocking(move || {
            let mut tally = Tally::default();
            let mut buffer = Vec::with_capacity(4096);
            for (child, raw) in rows {
                let parsed: Vec<SealedRow> = raw.into_iter().map(RawSealed::parse).collect();
                let check = check_stream(&child, &parsed, &mut buffer);
                if let Some((sequence, seal)) = check.head {
                    tally.heads.push(Head {
                        child: child.clone(),
                        sequence,
                        seal: seal.to_hex(),
                    });
                }
                tally.children += 1;
                tally.events += parsed.len() as u64;
                tally.legacy += check.unsealed_legacy;
                tally.findings.extend(check.findings);
                if let Some(heads) = anchored.get(&child) {
                    tally
                        .findings
                        .extend(check_anchored(&child, heads, &check.seals));
                    tally.seen.insert(child);
                }
            }
            (tally, anchored)
        });
        let read = self
            .store
            .sealed_streams(only, |child, rows| {
                // Fails only when the checker has stopped, which it does only by panicking.
                let _ = to_checker.send((child.to_string(), rows));
            })
            .await;
        drop(to_checker);
        let (tally, anchored) = match checker.await {
            Ok(done) => done,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => {
                return Err(AppError::Output {
                    format: "verify",
                    message: join.to_string(),
                })
            }
        };
        read?;
        let Tally {
            children,
            events,
            legacy,
            findings: found,
            seen,
            heads,
        } = tally;
        findings.extend(found);
        let mut gone: BTreeMap<&String, u64> = BTreeMap::new();
        for (child, heads) in &anchored {
            if !seen.contains(child) {
                gone.insert(child, heads.iter().map(|(s, _)| *s).max().unwrap_or(0));
            }
        }
        findings.extend(gone.into_iter().map(|(c, n)| missing_child(c, n)));
        if let (Some(child), 0, true) = (only, children, findings.is_empty()) {
            return Err(AppError::UnknownChild(child));
        }
        let report = VerifyReport {
            store: self.backend(),
            child: only,
            children,
            events,
            recorded_before_seals: legacy,
            stored_anchors: stored.len() as u64,
            anchor_file: anchor_file.map(AnchorSummary::of),
            findings,
            seconds: started.elapsed().as_secs_f64(),
            heads,
        };
        tracing::info!(
            children = report.children,
            events = report.events,
            problems = report.findings.len(),
            "verified"
        );
        Ok(report)
    }

    /// Takes an anchor: verifies the whole store, then signs the Merkle root over every child's
    /// chain head with `key`, stores it and returns it (to be written out as a file). Refused
    /// when the store does not verify: an anchor must never vouch for altered records.
    pub async fn anchor(&self, key: &SigningKey) -> Result<SignedAnchor, AppError> {
        let verified = self.verify(None, None).await?;
        if !verified.is_clean() {
            return Err(AppError::AnchorRefused {
                problems: verified.findings.len(),
            });
        }
        let signed = Anchor::new(self.backend(), Utc::now(), verified.heads).sign(key);
        let id = self.store.insert_anchor(&signed).await?;
        tracing::info!(
            anchor = id,
            children = signed.anchor.children,
            events = signed.anchor.events,
            "anchor taken"
        );
        Ok(signed)
    }
}
