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
    // One user on the embedded store sees what they just recorded.
    app.catch_up_if_embedded().await?;
    match args.format {
        Format::Json => out!("{}", json(&recorded)?),
        Format::Text => print_text(&recorded),
    }
    Ok(())
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
