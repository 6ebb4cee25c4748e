//! `lifecourse erase`: erasing a child's identifying data for good.

use clap::Args;
use lifecourse_events::{ChildId, ErasureReason};

use super::{json, Format};
use crate::app::{App, AppError, InvalidInput, Principal};

fn reason(text: &str) -> Result<ErasureReason, String> {
    ErasureReason::ALL
        .iter()
        .copied()
        .find(|r| r.as_str() == text.replace('-', "_"))
        .ok_or_else(|| {
            let words: Vec<&str> = ErasureReason::ALL.iter().map(|r| r.as_str()).collect();
            format!("expected one of: {}", words.join(", "))
        })
}

#[derive(Args, Debug)]
#[command(
    long_about = "Records that the child's identifying data is erased, then destroys the key that \
opens it. Names, birth date, address, phone, free-text notes and the names of organisations and \
providers then read as \"(erased)\" in every view, page and export, for good; dates, codes and \
outcomes stay, for statistics, and `lifecourse verify` still verifies the file. Nothing more can \
be recorded in the file. Done by the centre's coordinator (--as). Entries stored before \
identifying fields were sealed keep their plain text in the database, hidden from every reader.",
    after_help = "Exit codes: 0 erased (or already erased); 2 unknown child, or --yes missing; 3 \
not a coordinator of the file's centre, or refused by the file's rules."
)]
pub struct EraseArgs {
    /// The child's id (a UUID)
    child_id: ChildId,
    /// Why: request_of_the_person, retention_period_ended, court_order or recorded_in_error
    #[arg(long, value_parser = reason)]
    reason: ErasureReason,
    /// Confirms that this cannot be undone
    #[arg(long)]
    yes: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub async fn run(app: &App, principal: &Principal, args: EraseArgs) -> Result<(), AppError> {
    if !args.yes {
        return Err(InvalidInput::Unconfirmed {
            what: "erasing a child's identifying data cannot be undone",
        }
        .into());
    }
    let erasure = app.erase(principal, args.child_id, args.reason).await?;
    match args.format {
        Format::Json => out!("{}", json(&erasure)?),
        Format::Text => {
            let entry = erasure.recorded.entries.first().map_or(0, |e| e.sequence);
            if erasure.recorded.replayed && !erasure.key_destroyed {
                out!(
                    "child {}'s identifying data was already erased (entry #{entry})",
                    erasure.child_id
                );
            } else {
                out!(
                    "child {}'s identifying data is erased (entry #{entry}); its key is destroyed",
                    erasure.child_id
                );
            }
        }
    }
    Ok(())
}
