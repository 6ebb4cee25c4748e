//! `lifecourse history`: a child's entries in order, with their envelope metadata.

use std::collections::HashMap;

use clap::Args;
use lifecourse_events::*;

use lifecourse_projections::describe::Names;
use lifecourse_projections::ChildHistory;

use super::read;
use super::text::{quoted, wrapped};
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

/// The history as a person reads it: one block per entry (what happened, named by what it is
/// about; who recorded it, when, under which key), corrections cross-referenced both ways with
/// what they changed.
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
    let effective = effective_entries(history.iter().map(|e| &e.event));
    // Everything the file names (goals, referrals, people), as the entries now count, plus
    // what any entry ever called them, so a voided entry still reads by name.
    let names = Names::of(
        history
            .iter()
            .map(|e| &e.event)
            .chain(effective.iter().map(|(_, e)| *e)),
    );
    let changes = ChildHistory::from_events(history.iter().cloned()).correction_changes();
    if let Some(first) = history.first() {
        // The opening as it now counts: a corrected name or birth date shows corrected.
        let opened = effective.iter().find_map(|(_, e)| match e {
            ChildEvent::ChildFileOpened(o) => Some(o.clone()),
            _ => None,
        });
        let mut head = format!("Child {}", first.child_id);
        if let Some(o) = opened {
            head.push_str(&format!(
                ": {} {}, born {}",
                shown(o.child.given_name.expose()),
                shown(o.child.family_name.expose()),
                o.child
                    .birth_date
                    .known()
                    .map_or(identifying::ERASED_TEXT.to_string(), ToString::to_string)
            ));
        }
        head.push_str(&format!(" ({})", count(history.len(), "entry", "entries")));
        out.push_str(&wrapped("", "  ", &head));
    }
    for e in history {
        let description = names.describe(&e.event);
        let mut line = shown(&description.text).into_owned();
        if let Some(about) = &description.about {
            line.push_str(&format!(" — {}", quoted(about)));
        }
        if let Some(by) = corrected_by.get(&e.sequence) {
            line.push_str(&format!(" [corrected by #{by}]"));
        }
        out.push_str(&wrapped(
            &format!(
                "#{:<4} {}  {:<30} ",
                e.sequence,
                e.occurred_on(),
                e.event_type
            ),
            &" ".repeat(49),
            &line,
        ));
        let m = &e.metadata;
        out.push_str(&wrapped(
            "      ",
            "        ",
            &format!(
                "recorded {} by {} ({}, {})",
                e.recorded_at.format("%Y-%m-%d %H:%M:%S%.3fZ"),
                m.recorded_by.person,
                m.recorded_by.role,
                m.recorded_by.centre,
            ),
        ));
        out.push_str(&wrapped(
            "      ",
            "        ",
            &format!(
                "key {} · event {} · position {}",
                shown(m.idempotency_key.as_str()),
                e.event_id,
                e.position
            ),
        ));
        if let Some(reason) = &m.reason {
            out.push_str(&wrapped(
                "      reason: ",
                "        ",
                &shown(reason.expose()),
            ));
        }
        if let ChildEvent::EntryCorrected(c) = &e.event {
            out.push_str(&wrapped(
                "      why: ",
                "        ",
                &shown(c.reason.expose()),
            ));
            for change in changes.get(&e.sequence).into_iter().flatten() {
                out.push_str(&wrapped(
                    "      changed: ",
                    "        ",
                    &read::change_line(change),
                ));
            }
        }
        let _ = writeln!(out);
    }
    out
}
