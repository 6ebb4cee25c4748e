//! `lifecourse record`: one command as JSON, from a file or standard input.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;

use super::{json, Format};
use crate::app::{App, AppError, CommandInput, InvalidInput, Principal};
use crate::recording::Recorded;

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// JSON file holding the command; "-" or nothing reads standard input
    file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub async fn run(app: &App, principal: &Principal, args: RecordArgs) -> Result<(), AppError> {
    let text = read_input(args.file.as_ref())?;
    let input = CommandInput::parse(&text)?;
    let recorded = app.record(principal, input).await?;
    // One user on the embedded store sees what they just recorded. The command is stored by
    // now: if the read models cannot follow (a full disk, say), that is not the command failing,
    // and saying so by an exit code would have it sent again.
    let views_behind = app.catch_up_if_embedded().await.err();
    match args.format {
        Format::Json => out!("{}", json(&recorded)?),
        Format::Text => print_text(&recorded),
    }
    if let Some(error) = views_behind {
        err!("{}", views_behind_warning(&recorded, &error));
    }
    Ok(())
}

/// What `record` says when the command is stored but the read models could not catch up after
/// it (README.md, "Exit codes").
fn views_behind_warning(recorded: &Recorded, error: &AppError) -> String {
    let entries: Vec<String> = recorded
        .entries
        .iter()
        .map(|e| format!("#{}", e.sequence))
        .collect();
    let noun = if entries.len() == 1 {
        "entry"
    } else {
        "entries"
    };
    format!(
        "warning: the command is stored ({noun} {} in child {}'s file, key {}; sending it again \
         stores nothing new). The read models could not be brought up to date after it \
         ({error}); `plan`, `trajectory`, `gaps` and `indicators` do not show it until they \
         catch up, at the next command recorded here, `lifecourse project` or `lifecourse serve`",
        entries.join(", "),
        recorded.child_id,
        recorded.idempotency_key
    )
}

fn read_input(file: Option<&PathBuf>) -> Result<String, InvalidInput> {
    match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => std::fs::read_to_string(path).map_err(|err| InvalidInput::Unreadable {
            what: format!("the command file {}", path.display()),
            message: err.to_string(),
        }),
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|err| InvalidInput::Unreadable {
                    what: "standard input".into(),
                    message: err.to_string(),
                })?;
            Ok(text)
        }
    }
}

fn print_text(recorded: &Recorded) {
    let verb = if recorded.replayed {
        "already recorded (same idempotency key): nothing new stored;"
    } else {
        "recorded"
    };
    for entry in &recorded.entries {
        out!(
            "{verb} entry #{} {} in child {}'s file (key {})",
            entry.sequence,
            entry.event_type,
            recorded.child_id,
            recorded.idempotency_key
        );
    }
}
