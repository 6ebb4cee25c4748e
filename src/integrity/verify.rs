//! Checking stored streams against their seals, and against an anchor: pure functions over rows
//! as read back, naming every event that was changed, deleted, inserted or reordered behind the
//! engine's back.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::chain::{seal_with, Digest32, Link, SEAL_KEY};

/// One stored event as `verify` reads it.
pub struct SealedRow {
    pub sequence: u64,
    /// Recorded after this store began sealing: it must carry a seal.
    pub after_sealing_began: bool,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
}

impl SealedRow {
    /// The seal stored with the event, if it has one that reads as a digest.
    pub fn stored_seal(&self) -> Option<Digest32> {
        self.metadata
            .get(SEAL_KEY)
            .and_then(Value::as_str)
            .and_then(Digest32::from_hex)
    }
}

/// One stored event as read, before parsing.
pub struct RawSealed {
    pub sequence: u64,
    /// Recorded after this store began sealing (migration 0009 applied): it must carry a seal.
    pub after_sealing_began: bool,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
    pub metadata: String,
}

impl RawSealed {
    /// Parsed for checking. A payload or metadata that is no longer JSON (SQLite stores text) is
    /// kept as a string, whose seal cannot match: the event is reported as changed.
    pub fn parse(self) -> SealedRow {
        let json = |text: String| serde_json::from_str(&text).unwrap_or(Value::String(text));
        SealedRow {
            sequence: self.sequence,
            after_sealing_began: self.after_sealing_began,
            event_type: self.event_type,
            event_version: self.event_version,
            payload: json(self.payload),
            metadata: json(self.metadata),
        }
    }
}

/// What is wrong with one event, or one child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Problem {
    /// Its content no longer matches its seal: the payload, type, version or metadata (who
    /// recorded it, the reason...) was changed.
    Changed,
    /// No event is stored under this sequence number, though later ones are: deleted.
    Missing,
    /// It carries no seal, although the stream was sealed before it or it was recorded after
    /// the store began sealing: inserted behind the engine, or its seal removed.
    Unsealed,
    /// Its seal is a copy of another event's seal in the same stream: inserted behind the
    /// engine with copied metadata.
    CopiedSeal { of_sequence: u64 },
    /// Its seal matches its content at another sequence number: moved (reordered).
    Moved { sealed_as: u64 },
    /// Its content matches its seal, but the seal follows an event that is no longer the one
    /// before it: the event before it was deleted, replaced or moved.
    ChainBroken,
    /// The child is in an anchor but has no events in the store any more: deleted.
    ChildMissing { anchored_events: u64 },
    /// The child has fewer events than an anchor recorded: its last events were deleted.
    Truncated {
        anchored_events: u64,
        stored_events: u64,
    },
    /// The event the anchor recorded as the child's last one is no longer the same event
    /// (its seal differs): the chain was rewritten.
    DiffersFromAnchor {
        anchored_seal: String,
        stored_seal: String,
    },
    /// A stored anchor no longer matches its own signature or root: it was altered.
    AnchorAltered,
    /// A stored anchor is signed by another key than the one the auditor expects.
    AnchorForeignKey { key_fingerprint: String },
}

impl Problem {
    /// In words, for the text report.
    pub fn describe(&self) -> String {
        match self {
            Problem::Changed => "changed: its content no longer matches its seal".into(),
            Problem::Missing => "deleted: no event is stored under this sequence number".into(),
            Problem::Unsealed => {
                "inserted behind the engine, or its seal removed: no seal, where every entry is sealed".into()
            }
            Problem::CopiedSeal { of_sequence } => format!(
                "inserted behind the engine: its seal is a copy of entry #{of_sequence}'s"
            ),
            Problem::Moved { sealed_as } => {
                format!("reordered: it was sealed as entry #{sealed_as}")
            }
            Problem::ChainBroken => {
                "the entry before it is no longer the one it was sealed after (deleted, replaced or moved)".into()
            }
            Problem::ChildMissing { anchored_events } => format!(
                "deleted: the whole file is gone ({anchored_events} event(s) anchored)"
            ),
            Problem::Truncated {
                anchored_events,
                stored_events,
            } => format!(
                "deleted: {stored_events} event(s) stored, {anchored_events} anchored"
            ),
            Problem::DiffersFromAnchor { .. } => {
                "rewritten: this entry's seal differs from the anchored one".into()
            }
            Problem::AnchorAltered => {
                "altered: the stored anchor no longer matches its signature or root".into()
            }
            Problem::AnchorForeignKey { key_fingerprint } => format!(
                "not the centre's: the stored anchor is signed by key {key_fingerprint}…, not the expected one"
            ),
        }
    }
}

/// One problem found, where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub child: String,
    /// The entry concerned; `None` for the whole file.
    pub sequence: Option<u64>,
    #[serde(flatten)]
    pub problem: Problem,
}

/// The outcome of checking one child's stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamCheck {
    pub findings: Vec<Finding>,
    /// Events recorded before seals existed (no seal, none sealed before them).
    pub unsealed_legacy: u64,
    /// The stream's head: its last sequence number and seal (recomputed for an unsealed head).
    pub head: Option<(u64, Digest32)>,
    /// Every event's seal as stored (or recomputed for legacy events), by sequence.
    pub seals: Vec<(u64, Digest32)>,
}

/// How many suspect events of one stream get the search for where they were sealed (each search
/// costs up to the stream's length squared in hashes); the rest are reported as changed.
const SEARCHED_PER_STREAM: usize = 64;

/// Checks one child's rows (in sequence order). `buffer` is reused between calls.
pub fn check_stream(child: &str, rows: &[SealedRow], buffer: &mut Vec<u8>) -> StreamCheck {
    let mut check = StreamCheck::default();
    let finding = |sequence: u64, problem: Problem| Finding {
        child: child.to_string(),
        sequence: Some(sequence),
        problem,
    };
    let stored_seals: Vec<Digest32> = rows.iter().filter_map(SealedRow::stored_seal).collect();
    let mut previous: Option<Digest32> = None;
    let mut previous_sequence = 0u64;
    let mut sealed_before = false;
    let mut searched = 0usize;
    let mut seen: HashMap<Digest32, u64> = HashMap::new();
    for row in rows {
        for missing in previous_sequence + 1..row.sequence {
            check.findings.push(finding(missing, Problem::Missing));
        }
        let after_gap = previous_sequence + 1 != row.sequence;
        let expected = seal_with(buffer, &link(child, row, row.sequence), previous.as_ref());
        let this = match row.stored_seal() {
            None if !sealed_before && !row.after_sealing_began => {
                check.unsealed_legacy += 1;
                expected
            }
            None => {
                check
                    .findings
                    .push(finding(row.sequence, Problem::Unsealed));
                expected
            }
            Some(stored) => {
                sealed_before = true;
                if stored != expected {
                    let problem = if let Some(&of_sequence) = seen.get(&stored) {
                        Problem::CopiedSeal { of_sequence }
                    } else if searched >= SEARCHED_PER_STREAM {
                        Problem::Changed
                    } else {
                        searched += 1;
                        match sealed_at(child, row, stored, rows, &stored_seals, buffer) {
                            Some(s) if s != row.sequence => Problem::Moved { sealed_as: s },
                            Some(_) => Problem::ChainBroken,
                            None if after_gap => Problem::ChainBroken,
                            None => Problem::Changed,
                        }
                    };
                    check.findings.push(finding(row.sequence, problem));
                }
                seen.entry(stored).or_insert(row.sequence);
                stored
            }
        };
        check.seals.push((row.sequence, this));
        previous = Some(this);
        previous_sequence = row.sequence;
    }
    check.head = check.seals.last().copied();
    check
}

fn link<'a>(child: &'a str, row: &'a SealedRow, sequence: u64) -> Link<'a> {
    Link {
        child,
        sequence,
        event_type: &row.event_type,
        event_version: &row.event_version,
        payload: &row.payload,
        metadata: &row.metadata,
    }
}

/// The sequence number at which `row`'s content was sealed as `stored`, after the first event,
/// or after any event whose seal the stream still holds; `None` when its content matches its
/// seal nowhere (it was changed).
fn sealed_at(
    child: &str,
    row: &SealedRow,
    stored: Digest32,
    rows: &[SealedRow],
    stored_seals: &[Digest32],
    buffer: &mut Vec<u8>,
) -> Option<u64> {
    let sequences = std::iter::once(row.sequence).chain(rows.iter().map(|r| r.sequence));
    for sequence in sequences {
        let previous = std::iter::once(None).chain(stored_seals.iter().map(Some));
        for p in previous {
            if seal_with(buffer, &link(child, row, sequence), p) == stored {
                return Some(sequence);
            }
        }
    }
    None
}

/// One child's last event as an anchor recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Head {
    pub child: String,
    pub sequence: u64,
    pub seal: String,
}

/// Compares what anchors recorded of one child (`anchored`: sequence and seal, from any number of
/// anchors) with the child's seals as `check_stream` found them, naming the child cut short or
/// each anchored entry rewritten since.
pub fn check_anchored(
    child: &str,
    anchored: &[(u64, String)],
    seals: &[(u64, Digest32)],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let stored_events = seals.last().map_or(0, |(s, _)| *s);
    let mut truncated = false;
    for (sequence, anchored_seal) in anchored {
        match seals.iter().find(|(s, _)| s == sequence) {
            Some((_, seal)) if &seal.to_hex() != anchored_seal => {
                let finding = Finding {
                    child: child.to_string(),
                    sequence: Some(*sequence),
                    problem: Problem::DiffersFromAnchor {
                        anchored_seal: anchored_seal.clone(),
                        stored_seal: seal.to_hex(),
                    },
                };
                if !findings.contains(&finding) {
                    findings.push(finding);
                }
            }
            Some(_) => {}
            None if *sequence > stored_events => truncated = true,
            // A gap in the middle is reported by `check_stream` as missing.
            None => {}
        }
    }
    if truncated {
        let anchored_events = anchored.iter().map(|(s, _)| *s).max().unwrap_or(0);
        findings.push(Finding {
            child: child.to_string(),
            sequence: None,
            problem: Problem::Truncated {
                anchored_events,
                stored_events,
            },
        });
    }
    findings
}

/// A child an anchor recorded with `anchored_events` events, and that the store no longer holds.
pub fn missing_child(child: &str, anchored_events: u64) -> Finding {
    Finding {
        child: child.to_string(),
        sequence: None,
        problem: Problem::ChildMissing { anchored_events },
    }
}
