//! `lifecourse record`: one command as JSON, from a file or standard input.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use lifecourse_events::*;
use serde::Deserialize;
use uuid::Uuid;

use super::{local_today, Failure, Format};
use crate::domain::{ChildFileCommand, ClinicalCalendar};
use crate::recording::{CommandRequest, Recorded};
use crate::store::Store;

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// JSON file holding the command; "-" or nothing reads standard input
    file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The JSON a user sends: the command and who records it (README.md, "Recording a command").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandInput {
    /// Required except for `open_file`, where it defaults to an id derived from the key.
    #[serde(default)]
    pub child_id: Option<ChildId>,
    /// Strongly advised: a retry with the same key is stored once.
    #[serde(default)]
    pub idempotency_key: Option<IdempotencyKey>,
    pub recorded_by: Recorder,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<Uuid>,
    #[serde(default)]
    pub causation_id: Option<Uuid>,
    pub command: ChildFileCommand,
}

impl CommandInput {
    /// Parses the JSON text of a command, with an error that says where and what is wrong.
    pub fn parse(text: &str) -> Result<Self, Failure> {
        serde_json::from_str(text).map_err(|err| {
            Failure::Input(format!(
                "the command is not valid: {err}. Expected a JSON object with \"recorded_by\" \
                 {{\"person\", \"role\", \"centre\"}}, \"command\" {{\"type\": ..., fields}}, and \
                 \"child_id\" and \"idempotency_key\"; see README.md, \"Recording a command\""
            ))
        })
    }

    pub fn into_request(self) -> Result<CommandRequest, Failure> {
        let key = match self.idempotency_key {
            Some(key) => key,
            None => {
                tracing::warn!(
                    "no idempotency_key given: a retry of this command would be recorded again"
                );
                IdempotencyKey::new_random()
            }
        };
        let child_id = match (self.child_id, &self.command) {
            (Some(id), _) => id,
            (None, ChildFileCommand::OpenFile(_)) => ChildId::derived_from_key(&key),
            (None, command) => {
                return Err(Failure::Input(format!(
                    "\"child_id\" is required for {}: name the child whose file this is",
                    command.name()
                )))
            }
        };
        Ok(CommandRequest {
            child_id,
            idempotency_key: key,
            recorded_by: self.recorded_by,
            reason: self.reason.map(Identifying::new),
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            command: self.command,
        })
    }
}

pub async fn run(store: &Store, args: RecordArgs) -> Result<(), Failure> {
    let text = read_input(args.file.as_ref())?;
    let request = CommandInput::parse(&text)?.into_request()?;
    let calendar = ClinicalCalendar {
        today: local_today(),
    };
    let recorded = store.record(calendar, request).await?;
    match args.format {
        Format::Json => out!(
            "{}",
            serde_json::to_string_pretty(&recorded).expect("results always serialise")
        ),
        Format::Text => print_text(&recorded),
    }
    Ok(())
}

fn read_input(file: Option<&PathBuf>) -> Result<String, Failure> {
    match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => std::fs::read_to_string(path).map_err(|err| {
            Failure::Input(format!(
                "cannot read the command file {}: {err}",
                path.display()
            ))
        }),
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|err| Failure::Input(format!("cannot read standard input: {err}")))?;
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
