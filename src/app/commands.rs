//! Recording: the envelope rules (keys, the child id of an opening, who records) and the access
//! check, around `Store::record`; and the demo cohort, recorded by its own synthetic staff.

use std::collections::BTreeMap;

use lifecourse_events::*;
use lifecourse_projections::ChildHistory;
use serde::Deserialize;
use uuid::Uuid;

use super::access::{self, Action, EntryKind, Scope};
use super::{App, AppError, Channel, InvalidInput, NewStaff, Principal, Role};
use crate::cohort::{self, CohortSpec};
use crate::domain::{ChildFileCommand, ChildFileError, ClinicalCalendar};
use crate::recording::{CommandRequest, RecordError, Recorded};

/// The JSON a user sends (README.md, "Recording a command"): the command and its envelope,
/// without who records it, which is the person acting.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandInput {
    /// Required except for `open_file`, where it defaults to an id derived from the key.
    #[serde(default)]
    pub child_id: Option<ChildId>,
    /// Strongly advised: a retry with the same key is stored once.
    #[serde(default)]
    pub idempotency_key: Option<IdempotencyKey>,
    /// Refused when present: accepted here only to say so plainly.
    #[serde(default)]
    recorded_by: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<Uuid>,
    #[serde(default)]
    pub causation_id: Option<Uuid>,
    pub command: ChildFileCommand,
}

/// The limits on a command (README.md, "Limits"): its whole JSON text, a short text (a name, an
/// address, a phone, an organisation), a free text (a note, a reason, a child's words), and a list.
pub const MAX_COMMAND_BYTES: usize = 256 * 1024;
pub const MAX_SHORT_TEXT: usize = 200;
pub const MAX_FREE_TEXT: usize = 10_000;
pub const MAX_LIST: usize = 200;

/// Fields whose text is short: names and the like.
const SHORT_FIELDS: &[&str] = &[
    "given_name",
    "family_name",
    "name",
    "address",
    "phone",
    "source_detail",
    "to",
    "provider_name",
    "organisation",
];

impl CommandInput {
    /// Parses the JSON text of a command, with an error that says where and what is wrong and
    /// never repeats the text itself. A UTF-8 byte order mark at the start is ignored.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.len() > MAX_COMMAND_BYTES {
            return Err(InvalidInput::CommandTooLarge {
                bytes: text.len(),
                max: MAX_COMMAND_BYTES,
            });
        }
        let input: Self = lifecourse_events::identifying::plain_only(|| serde_json::from_str(text))
            .map_err(InvalidInput::CommandJson)?;
        if input.recorded_by.is_some() {
            return Err(InvalidInput::RecordedByInBody);
        }
        if matches!(input.command, ChildFileCommand::EraseIdentity(_)) {
            return Err(InvalidInput::EraseNotACommand);
        }
        // A second, untyped read to walk every text: the typed parse above is the one whose
        // errors carry a line and column, so it goes first.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(InvalidInput::CommandJson)?;
        check_texts(&value, &mut String::new())?;
        Ok(input)
    }

    /// The request, once its envelope and who records it are known.
    pub(super) fn into_request(
        self,
        (child_id, idempotency_key): (ChildId, IdempotencyKey),
        recorded_by: Recorder,
    ) -> CommandRequest {
        CommandRequest {
            child_id,
            idempotency_key,
            recorded_by,
            reason: self.reason.map(Identifying::new),
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            command: self.command,
            expected_version: None,
        }
    }

    /// The envelope rules: the child (derived from the key for an opening, so a retried opening
    /// lands on the same child) and the key (a fresh one when none is given).
    pub fn envelope(&self) -> Result<(ChildId, IdempotencyKey), InvalidInput> {
        let key = match &self.idempotency_key {
            Some(key) => key.clone(),
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
            (None, command) => return Err(InvalidInput::MissingChildId(command.name())),
        };
        Ok((child_id, key))
    }
}

/// What `demo` did.
#[derive(Clone, Debug)]
pub struct DemoReport {
    /// The cohort's commands, as planned.
    pub commands: usize,
    pub stored: usize,
    pub replayed: usize,
    pub by_type: BTreeMap<String, usize>,
    /// The files by stage, as the cohort planned them.
    pub stages: BTreeMap<&'static str, usize>,
    /// The child whose history shows the most kinds of entry.
    pub example: Option<ChildId>,
    /// The synthetic staff registered for the cohort (already there on a re-run).
    pub staff: Vec<PersonId>,
}

/// Children of the demo cohort planned and recorded together: their commands are decided in
/// memory and stored in a few batched writes.
pub const DEMO_CHUNK: usize = 500;

impl App {
    /// Records one command given as JSON, on behalf of `principal`.
    pub async fn record(
        &self,
        principal: &Principal,
        input: CommandInput,
    ) -> Result<Recorded, AppError> {
        self.record_expecting(principal, input, None).await
    }

    /// Records one command given as JSON, on behalf of `principal`, when the file is at version
    /// `expected` (its last sequence number; `If-Match` over HTTP). A file outside the
    /// principal's centres is answered like an unknown child: its existence does not leak.
    pub async fn record_expecting(
        &self,
        principal: &Principal,
        input: CommandInput,
        expected: Option<u64>,
    ) -> Result<Recorded, AppError> {
        // Once: without a key, a fresh one is made (and an opening's child derived from it).
        let envelope = input.envelope()?;
        // The file's centre, once the guard has loaded the file to decide (none for an opening).
        let centre = if !matches!(input.command, ChildFileCommand::OpenFile(_)) {
            let action = Action::Record(EntryKind::of(&input.command));
            let acting = self
                .acting_as(principal.clone(), self.channel())
                .with_break_glass(self.acting().and_then(|a| a.break_glass.clone()));
            let file = acting.guard_file(action, envelope.0).await?;
            if let (Some(expected), Some(actual)) = (expected, file.version) {
                if expected != actual {
                    return Err(AppError::VersionMismatch {
                        child: envelope.0,
                        expected,
                        actual,
                    });
                }
            }
            file.centre
        } else if self.acting().is_some_and(|a| a.break_glass.is_some()) {
            return Err(AppError::Denied(access::Denial::BreakGlass(
                "opens a file for reading (history, plan, trajectory), never for a list or a write",
            )));
        } else if let Some(expected) = expected.filter(|v| *v != 0) {
            // The policy answers first: a version says nothing to someone who may not open.
            self.recorder(principal, envelope.0, &input.command).await?;
            return Err(AppError::VersionMismatch {
                child: envelope.0,
                expected,
                actual: 0,
            });
        } else {
            None
        };
        let recorder = match centre {
            Some(centre) => recorder_in(principal, envelope.0, centre, &input.command)?,
            None => self.recorder(principal, envelope.0, &input.command).await?,
        };
        // Today is the file's centre's today, wherever the command comes from.
        let calendar = self.calendar_of(&recorder.centre).await?;
        let mut request = input.into_request(envelope, recorder);
        request.expected_version = expected;
        self.store_request(calendar, request).await
    }

    /// Records a request on behalf of `principal`, whatever recorder it names.
    pub async fn record_request(
        &self,
        principal: &Principal,
        calendar: ClinicalCalendar,
        mut request: CommandRequest,
    ) -> Result<Recorded, AppError> {
        request.recorded_by = self
            .recorder(principal, request.child_id, &request.command)
            .await?;
        self.store_request(calendar, request).await
    }

    /// Who records: the principal, in their role, for the file's centre, which must be one of
    /// theirs (for an opening, the centre it opens the file in).
    pub(super) async fn recorder(
        &self,
        principal: &Principal,
        child: ChildId,
        command: &ChildFileCommand,
    ) -> Result<Recorder, AppError> {
        // Before the file is loaded: someone who records nothing learns nothing of the file.
        recording_role(principal)?;
        let centre = match command {
            ChildFileCommand::OpenFile(opened) => opened.centre.clone(),
            _ => ChildHistory::from_events(self.store.history(child).await?)
                .centre()
                .ok_or(AppError::UnknownChild(child))?,
        };
        recorder_in(principal, child, centre, command)
    }

    #[tracing::instrument(name = "command", skip_all, fields(child = %request.child_id, command = request.command.name(), centre = %request.recorded_by.centre))]
    pub(super) async fn store_request(
        &self,
        calendar: ClinicalCalendar,
        request: CommandRequest,
    ) -> Result<Recorded, AppError> {
        let child = request.child_id;
        self.store
            .record(calendar, request)
            .await
            .map_err(|err| recording_error(child, err))
    }

    /// Records the synthetic cohort of `spec`. Its staff (`demo-sw1@centre-sud`,
    /// `demo-md1@centre-sud`...) are registered in the staff register, working for every centre
    /// of the cohort, and each command is recorded as the member of staff the generator chose.
    /// The cohort is planned and recorded `DEMO_CHUNK` children at a time (each part in date
    /// order), through the batched path of `import`: the same checks and rules as `record`.
    /// `progress` is told how many commands were just answered.
    pub async fn demo(
        &self,
        spec: &CohortSpec,
        mut progress: impl FnMut(usize),
    ) -> Result<DemoReport, AppError> {
        let centres: Vec<CentreId> = std::iter::once(spec.centre.clone())
            .chain(spec.other_centres.iter().cloned())
            .collect();
        let mut principals: BTreeMap<PersonId, Principal> = BTreeMap::new();
        let mut report = DemoReport {
            commands: 0,
            stored: 0,
            replayed: 0,
            by_type: BTreeMap::new(),
            stages: BTreeMap::new(),
            example: None,
            staff: Vec::new(),
        };
        let mut best: Option<(usize, std::cmp::Reverse<usize>)> = None;
        let mut first = 0;
        while first < spec.children {
            let range = first..(first + DEMO_CHUNK).min(spec.children);
            first = range.end;
            let part = cohort::plan_children(spec, range)?;
            for child in &part.children {
                *report
                    .stages
                    .entry(child.file.state().stage.label())
                    .or_default() += 1;
                let kinds: std::collections::BTreeSet<_> = child
                    .file
                    .entries()
                    .iter()
                    .map(|e| e.event_type())
                    .collect();
                let rank = (kinds.len(), std::cmp::Reverse(child.file.entries().len()));
                if best.is_none_or(|b| rank > b) {
                    best = Some(rank);
                    report.example = Some(child.child_id);
                }
            }
            let mut items = Vec::with_capacity(part.requests.len());
            for request in part.requests {
                let principal = match principals.get(&request.recorded_by.person) {
                    Some(p) => p.clone(),
                    None => {
                        let p = self.demo_staff(&request.recorded_by, &centres).await?;
                        principals.insert(request.recorded_by.person.clone(), p.clone());
                        p
                    }
                };
                items.push((principal, request));
            }
            report.commands += items.len();
            let answered = items.len();
            for answer in self.record_batch(items).await? {
                let recorded = answer?;
                for entry in &recorded.entries {
                    *report.by_type.entry(entry.event_type.clone()).or_default() += 1;
                }
                if recorded.replayed {
                    report.replayed += recorded.entries.len();
                } else {
                    report.stored += recorded.entries.len();
                }
            }
            progress(answered);
        }
        report.staff = principals.into_values().map(|p| p.person).collect();
        Ok(report)
    }

    /// The demo's member of staff for the generator's `recorder` (sw1@centre-sud becomes
    /// demo-sw1@centre-sud: synthetic staff never take the name, or the centres, of a real member
    /// of the register), registered for `centres`.
    async fn demo_staff(
        &self,
        recorder: &Recorder,
        centres: &[CentreId],
    ) -> Result<Principal, AppError> {
        let person = PersonId::parse(format!("demo-{}", recorder.person)).map_err(|e| {
            InvalidInput::Unreadable {
                what: format!("the demo's person id for {}", recorder.person),
                message: e.to_string(),
            }
        })?;
        self.add_staff(NewStaff {
            person: person.clone(),
            display_name: format!("{} (demo)", recorder.role),
            role: Role::Staff(recorder.role),
            centres: centres.to_vec(),
        })
        .await?;
        self.principal(&person).await
    }
}

/// Who records `command` in `child`'s file, whose centre is `centre`: the principal, in their
/// role, if the centre is one of theirs and the role records this kind of entry.
fn recorder_in(
    principal: &Principal,
    child: ChildId,
    centre: CentreId,
    command: &ChildFileCommand,
) -> Result<Recorder, AppError> {
    let role = recording_role(principal)?;
    if !principal.works_for(&centre) {
        tracing::info!(%child, %centre, person = %principal.person, "refused: another centre's file");
        return Err(other_centre(principal, centre));
    }
    // The role must record this kind of entry (app/access.rs).
    access::decide(
        principal,
        Action::Record(EntryKind::of(command)),
        Scope::File(&centre),
        None,
    )?;
    Ok(Recorder {
        person: principal.person.clone(),
        role,
        centre,
    })
}

/// The role `principal` records in, or why they cannot record.
pub(super) fn recording_role(principal: &Principal) -> Result<StaffRole, AppError> {
    principal
        .role
        .recording_role()
        .ok_or_else(|| AppError::RoleCannotRecord {
            person: principal.person.clone(),
            role: principal.role.to_string(),
        })
}

/// The refusal of a recording for `centre`, which is not one of `principal`'s centres.
pub(super) fn other_centre(principal: &Principal, centre: CentreId) -> AppError {
    AppError::OtherCentre {
        person: principal.person.clone(),
        centres: principal
            .centres
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        centre,
    }
}

pub(super) fn recording_error(child: ChildId, err: RecordError) -> AppError {
    match err {
        RecordError::Rejected(ChildFileError::NoFile) => AppError::UnknownChild(child),
        RecordError::Rejected(error) => {
            tracing::info!(%child, rule = error.rule(), "refused by the file's rules");
            AppError::Refused { child, error }
        }
        RecordError::Conflict { child_id } => AppError::Conflict { child: child_id },
        RecordError::VersionMismatch {
            child_id,
            expected,
            actual,
        } => AppError::VersionMismatch {
            child: child_id,
            expected,
            actual,
        },
        RecordError::KeyReused { key, child_id } => AppError::KeyReused {
            key,
            child: child_id,
        },
        RecordError::Storage(source) => {
            AppError::Store(crate::store::StoreError::Record { child, source })
        }
    }
}

/// Every text of a command is free of control characters (other than newline and tab) and within
/// its length; every list within its length. `path` names the field for the message (the value
/// itself is never repeated: it may identify a child).
fn check_texts(value: &serde_json::Value, path: &mut String) -> Result<(), InvalidInput> {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            if text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                return Err(InvalidInput::ControlCharacter {
                    field: path.clone(),
                });
            }
            let field = path.rsplit('.').next().unwrap_or_default();
            let max = if SHORT_FIELDS.contains(&field) {
                MAX_SHORT_TEXT
            } else {
                MAX_FREE_TEXT
            };
            let chars = text.chars().count();
            if chars > max {
                return Err(InvalidInput::TextTooLong {
                    field: path.clone(),
                    chars,
                    max,
                });
            }
        }
        Value::Array(items) => {
            if items.len() > MAX_LIST {
                return Err(InvalidInput::ListTooLong {
                    field: path.clone(),
                    items: items.len(),
                    max: MAX_LIST,
                });
            }
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_texts(item, path)?;
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                check_texts(item, path)?;
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

impl App {
    /// The channel of whoever is acting (the command line when no one is).
    pub(super) fn channel(&self) -> Channel {
        self.acting().map_or(Channel::Cli, |a| a.channel)
    }
}
