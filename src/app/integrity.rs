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
    anchor, check_anchored, check_stream, missing_child, Anchor, Finding, Head, SignedAnchor,
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
        let started = Instant::now();
        let mut findings = Vec::new();
        let mut anchored = Anchored::new();
        let stored = self.store.anchors().await?;
        for (id, text) in &stored {
            match serde_json::from_str::<SignedAnchor>(text) {
                Ok(a) if a.check().is_ok() => add_heads(&mut anchored, &a.anchor.heads),
                _ => findings.push(Finding {
                    child: format!("(stored anchor #{id})"),
                    sequence: None,
                    problem: crate::integrity::Problem::AnchorAltered,
                }),
            }
        }
        if let Some(file) = anchor_file {
            file.check()?;
            add_heads(&mut anchored, &file.anchor.heads);
        }
        if let Some(child) = only {
            let id = child.to_string();
            anchored.retain(|c, _| *c == id);
        }
        let mut children = 0u64;
        let mut events = 0u64;
        let mut legacy = 0u64;
        let mut seen: std::collections::HashSet<String> = Default::default();
        let mut buffer = Vec::with_capacity(4096);
        let mut heads = Vec::new();
        self.store
            .sealed_streams(only, |child, rows| {
                let check = check_stream(child, rows, &mut buffer);
                if let Some((sequence, seal)) = check.head {
                    heads.push(Head {
                        child: child.to_string(),
                        sequence,
                        seal: seal.to_hex(),
                    });
                }
                children += 1;
                events += rows.len() as u64;
                legacy += check.unsealed_legacy;
                findings.extend(check.findings);
                if let Some(heads) = anchored.get(child) {
                    findings.extend(check_anchored(child, heads, &check.seals));
                    seen.insert(child.to_string());
                }
            })
            .await?;
        let mut gone: BTreeMap<&String, u64> = BTreeMap::new();
        for (child, heads) in &anchored {
            if !seen.contains(child) {
                gone.insert(child, heads.iter().map(|(s, _)| *s).max().unwrap_or(0));
            }
        }
        findings.extend(gone.into_iter().map(|(c, n)| missing_child(c, n)));
        if let Some(child) = only.filter(|_| children == 0 && findings.is_empty()) {
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
