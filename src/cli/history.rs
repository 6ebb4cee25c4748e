//! `lifecourse history`: a child's entries in order, with their envelope metadata.

use std::collections::HashMap;

use clap::Args;
use lifecourse_events::*;

use super::{freshness_line, json, shown, Format};
use crate::app::{App, AppError};

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The child's id (a UUID)
    child_id: ChildId,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub async fn run(app: &App, args: HistoryArgs) -> Result<(), AppError> {
    let answer = app.history(args.child_id).await?;
    match args.format {
        // The documented JSON is the array of entries; how current it is goes with the text.
        Format::Json => out!("{}", json(&answer.value)?),
        Format::Text => {
            out!("{}", render_text(&answer.value).trim_end());
            out!("{}", freshness_line(&answer.freshness));
        }
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
        // The opening as it now counts: a corrected name or birth date shows corrected.
        let opened = effective_entries(history.iter().map(|e| &e.event))
            .into_iter()
            .find_map(|(_, e)| match e {
                ChildEvent::ChildFileOpened(o) => Some(o.clone()),
                _ => None,
            });
        let _ = write!(out, "Child {}", first.child_id);
        if let Some(o) = opened {
            let _ = write!(
                out,
                ": {} {}, born {}",
                shown(o.child.given_name.expose()),
                shown(o.child.family_name.expose()),
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
            shown(&e.event.summary())
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
            let _ = write!(out, " · reason: {}", shown(reason.expose()));
        }
        if let ChildEvent::EntryCorrected(c) = &e.event {
            let _ = write!(out, " · why: {}", shown(c.reason.expose()));
        }
        let _ = writeln!(out);
    }
    out
}
