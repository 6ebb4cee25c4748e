//! `lifecourse audit`: a child's decision trail, for auditors (certification, quality,
//! complaints): every entry with who recorded it and when, corrections linked both ways, the
//! entry each rests on, and for each decision the facts on record when it was recorded.

use std::fmt::Write;

use clap::Args;
use lifecourse_events::*;
use lifecourse_projections::audit::{DecisionFacts, EntryRef, TrailEntry};
use lifecourse_projections::describe::Description;
use lifecourse_projections::{DecisionTrail, Gap};

use super::read;
use super::text::{days, listed, quoted, wrapped};
use super::{freshness_line, json, shown, Format};
use crate::app::{App, AppError};

/// What `lifecourse audit --help` says an auditor gets.
pub const LONG_ABOUT: &str =
    "Show a child's decision trail, for an auditor: every entry of the file in \
sequence order with who recorded it (person, role and centre), when it happened and when it was \
recorded, the reason given, the idempotency key, correlation and causation ids, event id and \
position, and what it is in words. A correction names the entry it corrects and what it changed, \
field by field; a corrected entry lists the corrections that changed it later. An entry recorded \
because of another (an outcome of its referral, a plan after its meeting, a correction) shows \
\"rests on: #N\" when its causation id names an entry of the file. Each decision (initial \
assessment, plan adopted or revised, referral made, legal intervention opened, transfer, \
closure) shows the facts on record when it was recorded: the needs assessed at the last meeting, \
the referrals open and the follow-up gaps open on its date. Entries recorded after the decision, \
even when dated before it, are left out of those facts.\n\nRead by auditors, centre \
administrators and the staff of the file's centre (not volunteers); each read is written to the \
access log. Exit 2 for an unknown child, or a child outside your centres.";

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The child's id (a UUID)
    child_id: ChildId,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub async fn run(app: &App, args: AuditArgs) -> Result<(), AppError> {
    let answer = app.audit(args.child_id).await?;
    match args.format {
        Format::Json => out!("{}", json(&answer.value)?),
        Format::Text => {
            out!("{}", render_text(&answer.value).trim_end());
            out!("{}", freshness_line(&answer.freshness));
        }
    }
    Ok(())
}

const INDENT: &str = "      ";
const MORE: &str = "        ";

/// The trail as an auditor reads it: one block per entry, in sequence order.
pub fn render_text(trail: &DecisionTrail) -> String {
    let mut out = wrapped(
        "",
        "  ",
        &format!(
            "Decision trail of child {} ({} {})",
            trail.child_id,
            trail.entries.len(),
            if trail.entries.len() == 1 {
                "entry"
            } else {
                "entries"
            }
        ),
    );
    for e in &trail.entries {
        out.push('\n');
        entry(&mut out, e);
    }
    out
}

fn words(what: &Description) -> String {
    let mut line = shown(&what.text).into_owned();
    if let Some(about) = &what.about {
        let _ = write!(line, " — {}", quoted(about));
    }
    line
}

fn entry_ref(r: &EntryRef) -> String {
    format!("#{} {}: {}", r.sequence, r.event_type, words(&r.what))
}

fn entry(out: &mut String, e: &TrailEntry) {
    out.push_str(&wrapped(
        &format!(
            "#{:<4} {}  {:<30} ",
            e.sequence, e.occurred_on, e.event_type
        ),
        &" ".repeat(49),
        &words(&e.what),
    ));
    let by = &e.recorded_by;
    let line = |out: &mut String, first: &str, text: &str| {
        out.push_str(&wrapped(&format!("{INDENT}{first}"), MORE, text));
    };
    line(
        out,
        "",
        &format!(
            "happened {} · recorded {}",
            e.occurred_on,
            e.recorded_at.format("%Y-%m-%d %H:%M:%S%.3fZ"),
        ),
    );
    line(
        out,
        "by ",
        &format!("{} ({}, {})", shown(by.person.as_str()), by.role, by.centre),
    );
    if let Some(reason) = &e.reason {
        line(out, "reason: ", &shown(reason.expose()));
    }
    line(
        out,
        "",
        &format!(
            "key {} · event {} · position {}",
            shown(e.idempotency_key.as_str()),
            e.event_id,
            e.position
        ),
    );
    line(
        out,
        "",
        &format!(
            "correlation {} · causation {}",
            e.correlation_id,
            e.causation_id
                .map_or_else(|| "none".to_string(), |c| c.to_string())
        ),
    );
    match (&e.rests_on, e.causation_id) {
        (Some(cause), _) => line(out, "rests on: ", &entry_ref(cause)),
        (None, Some(id)) => line(
            out,
            "rests on: ",
            &format!("event {id}, not an entry of this file"),
        ),
        (None, None) => {}
    }
    if let Some(c) = &e.corrects {
        let how = if c.entered_in_error {
            " (entered in error: it no longer counts)"
        } else {
            ""
        };
        line(
            out,
            "corrects: ",
            &format!("#{} {}{how}", c.sequence, c.event_type),
        );
        for change in &c.changes {
            line(out, "changed: ", &read::change_line(change));
        }
    }
    if !e.corrected_by.is_empty() {
        let by: Vec<String> = e.corrected_by.iter().map(|s| format!("#{s}")).collect();
        line(out, "corrected later by: ", &by.join(", "));
    }
    if let Some(facts) = &e.decision {
        decision(out, e.occurred_on, facts);
    }
}

fn decision(out: &mut String, on: ClinicalDate, facts: &DecisionFacts) {
    let line = |out: &mut String, first: &str, text: &str| {
        out.push_str(&wrapped(
            &format!("{INDENT}  {first}"),
            &format!("{MORE}  "),
            text,
        ));
    };
    out.push_str(&wrapped(
        &format!("{INDENT}decision: "),
        MORE,
        &format!(
            "{}; on record when it was recorded: entries #1 to #{}",
            facts.kind.as_str(),
            facts.entries_on_record
        ),
    ));
    match &facts.last_meeting {
        Some(m) => {
            let needs: Vec<String> = m
                .needs
                .iter()
                .map(|n| format!("{} {}", n.domain, n.level))
                .collect();
            line(
                out,
                "needs: ",
                &format!(
                    "at meeting {} (#{}, {}): {}",
                    m.meeting_number,
                    m.sequence,
                    m.occurred_on,
                    listed(&needs)
                ),
            );
        }
        None => line(out, "needs: ", "no assessment meeting on record"),
    }
    let referrals: Vec<String> = facts
        .open_referrals
        .iter()
        .map(|r| {
            let mut s = format!("#{} {} (made {}", r.sequence, r.resource, r.made_on);
            if let Some(latest) = r.latest {
                let _ = write!(s, ", latest: {latest}");
            }
            s.push(')');
            s
        })
        .collect();
    line(out, "open referrals: ", &listed(&referrals));
    let gaps: Vec<String> = facts.open_gaps.iter().map(gap).collect();
    line(out, &format!("open gaps on {on}: "), &listed(&gaps));
}

fn gap(g: &Gap) -> String {
    let what = match &g.about {
        Some(about) => format!("{} ({})", g.rule.describe(), about.what),
        None => g.rule.describe().to_string(),
    };
    format!("{what}, due {}, {} overdue", g.due_on, days(g.days_overdue))
}
