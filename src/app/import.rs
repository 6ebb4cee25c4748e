//! Recording many commands at once: `lifecourse import` and the demo cohort. Each command gets
//! the checks and the answer `record` would give it (who may record what in which centre's file,
//! the file's rules, retries by idempotency key), decided in memory by batches of files and
//! stored with few writes (`Store::record_batch`).

use std::collections::HashMap;

use lifecourse_events::*;

use super::access::{self, Action, Denial, EntryKind, Scope};
use super::centres::{stored_zone, today_in};
use super::commands::{other_centre, recording_role};
use super::{App, AppError, CommandInput, Principal};
use crate::domain::{ChildFile, ChildFileCommand, ClinicalCalendar};
use crate::recording::{BatchError, CommandRequest, Recorded};
use crate::store::StoreError;

/// Today in every centre, as the rules judge it (`App::calendar_of`), read once per batch.
struct Calendars {
    default: ClinicalCalendar,
    by_centre: HashMap<String, ClinicalCalendar>,
}

impl Calendars {
    fn of(&self, centre: &CentreId) -> ClinicalCalendar {
        self.by_centre
            .get(centre.as_str())
            .copied()
            .unwrap_or(self.default)
    }
}

/// Who records `request` in `file` as decided so far, checked as `record` checks it, and the
/// calendar of the file's centre.
fn admit(
    principal: &Principal,
    calendars: &Calendars,
    request: &mut CommandRequest,
    file: &ChildFile,
) -> Result<ClinicalCalendar, AppError> {
    let role = recording_role(principal)?;
    let child = request.child_id;
    let centre = match &request.command {
        ChildFileCommand::OpenFile(opened) => {
            if !principal.works_for(&opened.centre) {
                return Err(other_centre(principal, opened.centre.clone()));
            }
            opened.centre.clone()
        }
        // Existence must not leak: another centre's file answers as no file.
        _ => match file.state().centre.clone() {
            Some(centre) if principal.works_for(&centre) => centre,
            _ => return Err(AppError::UnknownChild(child)),
        },
    };
    access::decide(
        principal,
        Action::Record(EntryKind::of(&request.command)),
        Scope::File(&centre),
        None,
    )
    .map_err(AppError::Denied)?;
    request.recorded_by = Recorder {
        person: principal.person.clone(),
        role,
        centre: centre.clone(),
    };
    Ok(calendars.of(&centre))
}

impl App {
    /// Records `inputs` (commands as `record` takes them, each with its idempotency key) on
    /// behalf of `principal`, in batches of files: one answer per input, in order. A refused
    /// command answers with its error and the others go on; a failure of the store stops the
    /// call (what was stored before it stays stored, and answers as a retry when sent again).
    pub async fn import(
        &self,
        principal: &Principal,
        inputs: Vec<CommandInput>,
    ) -> Result<Vec<Result<Recorded, AppError>>, AppError> {
        let role = recording_role(principal)?;
        let own_centre = principal
            .centres
            .first()
            .cloned()
            .ok_or(AppError::Denied(Denial::OutsideCentres))?;
        // An input whose envelope is wrong (no child for a command other than an opening) is
        // answered by its error; the others go to the batch, in order.
        let mut answers: Vec<Option<Result<Recorded, AppError>>> = Vec::with_capacity(inputs.len());
        let mut items = Vec::with_capacity(inputs.len());
        for input in inputs {
            match input.envelope() {
                Ok(envelope) => {
                    // Who records is settled for each command by `admit`, on the file as decided.
                    let placeholder = Recorder {
                        person: principal.person.clone(),
                        role,
                        centre: own_centre.clone(),
                    };
                    items.push((principal.clone(), input.into_request(envelope, placeholder)));
                    answers.push(None);
                }
                Err(invalid) => answers.push(Some(Err(invalid.into()))),
            }
        }
        let mut recorded = self.record_batch(items).await?.into_iter();
        Ok(answers
            .into_iter()
            .map(|answer| match answer {
                Some(refused) => refused,
                None => recorded.next().unwrap_or_else(|| {
                    Err(AppError::Store(StoreError::Batch(
                        "the batch gave fewer answers than it was given commands".into(),
                    )))
                }),
            })
            .collect())
    }

    /// Records `items`, each on behalf of its principal, through `Store::record_batch`; what a
    /// batch could not store (a file written meanwhile by someone else) is recorded one command
    /// at a time, as `record` would.
    pub(crate) async fn record_batch(
        &self,
        items: Vec<(Principal, CommandRequest)>,
    ) -> Result<Vec<Result<Recorded, AppError>>, AppError> {
        if self.acting().is_some_and(|a| a.break_glass.is_some()) {
            return Err(AppError::Denied(Denial::BreakGlass(
                "opens a file for reading (history, plan, trajectory), never for a list or a write",
            )));
        }
        let calendars = self.calendars().await?;
        let (principals, requests): (Vec<Principal>, Vec<CommandRequest>) =
            items.into_iter().unzip();
        let outcome = self
            .store
            .record_batch(requests, |i, request, file| {
                admit(&principals[i], &calendars, request, file)
            })
            .await
            .map_err(|e| AppError::Store(StoreError::Batch(Box::new(e))))?;
        if let Some(stopped) = &outcome.stopped {
            tracing::info!(%stopped, "the rest of the batch goes one command at a time");
        }
        let mut answers = Vec::with_capacity(outcome.results.len());
        for ((result, request), principal) in outcome
            .results
            .into_iter()
            .zip(outcome.requests)
            .zip(&principals)
        {
            let child = request.child_id;
            let answer = match result {
                Some(Ok(recorded)) => Ok(recorded),
                Some(Err(BatchError::Record(e))) => Err(super::commands::recording_error(child, e)),
                Some(Err(BatchError::Denied(e))) => Err(e),
                None => {
                    let one = self.record_one(principal, request).await;
                    if let Err(AppError::Store(_)) = &one {
                        return one.map(|r| vec![Ok(r)]);
                    }
                    one
                }
            };
            answers.push(answer);
        }
        Ok(answers)
    }

    /// One command of a batch the batch could not store, the way `record` records it: who records
    /// and the file's centre from the store as it is now, today in that centre.
    async fn record_one(
        &self,
        principal: &Principal,
        mut request: CommandRequest,
    ) -> Result<Recorded, AppError> {
        request.recorded_by = self
            .recorder(principal, request.child_id, &request.command)
            .await?;
        let calendar = self.calendar_of(&request.recorded_by.centre).await?;
        self.store_request(calendar, request).await
    }

    /// Today in every centre with a zone of its own, and in the default zone.
    async fn calendars(&self) -> Result<Calendars, AppError> {
        let default = ClinicalCalendar {
            today: self.today(None).await?,
        };
        let by_centre = self
            .time_zones()
            .await?
            .into_iter()
            .map(|(centre, zone)| {
                let today = today_in(stored_zone(Some(&zone)));
                (centre, ClinicalCalendar { today })
            })
            .collect();
        Ok(Calendars { default, by_centre })
    }
}
