//! `lifecourse history`: a child's entries in order, with their envelope metadata.

use std::collections::HashMap;

use clap::Args;
use lifecourse_events::*;

use super::{Failure, Format};
use crate::store::Store;

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The child's id (a UUID)
    child_id: String,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub async fn run(store: &Store, args: HistoryArgs) -> Result<(), Failure> {
    let child: ChildId = args
        .child_id
        .parse()
        .map_err(|e: IdError| Failure::Input(e.to_string()))?;
    let history = store.history(child).await?;
    if history.is_empty() {
        return Err(Failure::Input(format!(
            "there is no file for child {child} in this store"
        )));
    }
    match args.format {
        Format::Json => out!(
            "{}",
            serde_json::to_string_pretty(&history).expect("events always serialise")
        ),
        Format::Text => out!("{}", render_text(&history).trim_end()),
    }
    Ok(())
}

/// The history as a person reads it: one block per entry, corrections cross-referenced.
pub fn render_text(history: &[StoredEvent]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let corrected_by: HashMap<u64, u64> = history
        .iter()
        .filter_map(|e| match &e.event {
            ChildEvent::EntryCorrected(c) => Some((c.corrects_sequence, e.sequence)),
            _ => None,
        })
        .collect();
    if let Some(first) = history.first() {
        let opened = history.iter().rev().find_map(|e| match &e.event {
            ChildEvent::ChildFileOpened(o) => Some(o.clone()),
            _ => None,
        });
        let _ = write!(out, "Child {}", first.child_id);
        if let Some(o) = opened {
            let _ = write!(
                out,
                ": {} {}, born {}",
                o.child.given_name.expose(),
                o.child.family_name.expose(),
                o.child.birth_date.expose()
            );
        }
        let _ = writeln!(out, " ({} entries)", history.len());
    }
    for e in history {
        let mark = match corrected_by.get(&e.sequence) {
            Some(by) => format!("  [corrected by #{by}]"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "#{:<4} {}  {:<27} {}{mark}",
            e.sequence,
            e.occurred_on(),
            e.event_type,
            e.event.summary()
        );
        let m = &e.metadata;
        let _ = write!(
            out,
            "      recorded {} by {} ({}, {}) · key {} · event {} · position {}",
            e.recorded_at.format("%Y-%m-%d %H:%M:%S%.3fZ"),
            m.recorded_by.person,
            m.recorded_by.role,
            m.recorded_by.centre,
            m.idempotency_key,
            e.event_id,
            e.position
        );
        if let Some(reason) = &m.reason {
            let _ = write!(out, " · reason: {}", reason.expose());
        }
        if let ChildEvent::EntryCorrected(c) = &e.event {
            let _ = write!(out, " · why: {}", c.reason.expose());
        }
        let _ = writeln!(out);
    }
    out
}
