//! The `ChildFile` aggregate: a child's file as a cqrs-es aggregate. Commands are validated against
//! the file's lifecycle (`rules`) and become events; events fold into the same [`Lifecycle`] that
//! every read model uses, in the same clinical order. Everything here is pure: the only outside
//! fact a rule needs, today's date, comes in as `ClinicalCalendar`.

mod causation;
mod command;
mod error;
mod rules;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use lifecourse_events::*;
use serde::{Deserialize, Serialize};

pub use causation::rests_on;
pub use command::*;
pub use error::ChildFileError;
pub use lifecourse_projections::lifecycle::{Lifecycle, Stage};
pub use rules::label;

/// The aggregate's one service: what day it is where the centre is, so that no entry is dated in
/// the future.
#[derive(Clone, Copy, Debug)]
pub struct ClinicalCalendar {
    pub today: ClinicalDate,
}

/// A `ChildEvent` as cqrs-es sees it. The catalogue crate stays free of cqrs-es (and so of tokio);
/// this wrapper adds the `DomainEvent` impl and is stored exactly like the event it wraps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChildFileEvent(pub ChildEvent);

impl DomainEvent for ChildFileEvent {
    fn event_type(&self) -> String {
        self.0.event_type().to_string()
    }

    fn event_version(&self) -> String {
        self.0.schema_version().to_string()
    }
}

/// A child's file: its entries as recorded, and what they amount to with corrections applied.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChildFile {
    entries: Vec<ChildEvent>,
    state: Lifecycle,
}

impl Aggregate for ChildFile {
    const TYPE: &'static str = "ChildFile";
    type Command = ChildFileCommand;
    type Event = ChildFileEvent;
    type Error = ChildFileError;
    type Services = ClinicalCalendar;

    async fn handle(
        &mut self,
        command: Self::Command,
        calendar: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = self.decide(command, calendar.today)?;
        sink.write(ChildFileEvent(event), self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.record(event.0);
    }
}

impl ChildFile {
    /// Rebuilds a file from its entries, in sequence order.
    pub fn from_entries(entries: impl IntoIterator<Item = ChildEvent>) -> Self {
        let mut file = Self::default();
        entries.into_iter().for_each(|e| file.record(e));
        file
    }

    /// The file's lifecycle: its entries as they now count, folded in clinical order.
    pub fn state(&self) -> &Lifecycle {
        &self.state
    }

    /// The entries as recorded (entry `i` has sequence `i + 1`).
    pub fn entries(&self) -> &[ChildEvent] {
        &self.entries
    }

    /// The sequence number of the last entry (0 for an empty file).
    pub fn version(&self) -> u64 {
        self.entries.len() as u64
    }

    fn record(&mut self, event: ChildEvent) {
        // An entry dated on or after every other one goes last in clinical order: fold it on.
        // A back-dated entry or a correction changes the order or the facts: fold again.
        let goes_last = !matches!(event, ChildEvent::EntryCorrected(_))
            && self.state.latest_on <= Some(event.occurred_on());
        if goes_last {
            self.state.apply(&event);
        }
        self.entries.push(event);
        if !goes_last {
            self.state = Lifecycle::of(effective_entries(&self.entries));
        }
    }

    /// Turns a command into the event it records, or says why the file refuses it.
    pub fn decide(
        &self,
        command: ChildFileCommand,
        today: ClinicalDate,
    ) -> Result<ChildEvent, ChildFileError> {
        use ChildFileCommand as C;
        let s = &self.state;
        let event = match command {
            C::OpenFile(e) => ChildEvent::ChildFileOpened(e),
            C::CompleteInitialAssessment(e) => ChildEvent::InitialAssessmentCompleted(e),
            C::HoldAssessmentMeeting(m) => {
                ChildEvent::AssessmentMeetingHeld(AssessmentMeetingHeld {
                    occurred_on: m.occurred_on,
                    meeting_number: s.meetings + 1,
                    kind: if s.meetings == 0 {
                        MeetingKind::Initial
                    } else {
                        MeetingKind::Reassessment
                    },
                    participants: m.participants,
                    child_took_part: m.child_took_part,
                    child_voice: m.child_voice,
                    needs: m.needs,
                    strengths: m.strengths,
                    hypotheses: m.hypotheses,
                })
            }
            C::AdoptActionPlan(p) => ChildEvent::ActionPlanAdopted(self.plan_version(p)),
            C::ReviseActionPlan(p) => ChildEvent::ActionPlanRevised(self.plan_version(p)),
            C::RecordGoalProgress(e) => ChildEvent::GoalProgressRecorded(e),
            C::StartService(e) => ChildEvent::ServiceStarted(e),
            C::EndService(e) => ChildEvent::ServiceEnded(e),
            C::MakeReferral(e) => ChildEvent::ReferralMade(e),
            C::RecordReferralOutcome(e) => ChildEvent::ReferralOutcomeRecorded(e),
            C::OpenLegalIntervention(e) => ChildEvent::LegalInterventionOpened(e),
            C::ConcludeLegalIntervention(e) => ChildEvent::LegalInterventionConcluded(e),
            C::RaiseRightsConcern(e) => ChildEvent::RightsConcernRaised(e),
            C::ResolveRightsConcern(e) => ChildEvent::RightsConcernResolved(e),
            C::RecordFamilyContact(e) => ChildEvent::FamilyContactRecorded(e),
            C::AddCircleMember(e) => ChildEvent::CircleMemberAdded(e),
            C::RemoveCircleMember(e) => ChildEvent::CircleMemberLeft(e),
            C::RecordScreening(e) => ChildEvent::DevelopmentalScreeningRecorded(e),
            C::GiveConsent(e) => ChildEvent::ConsentGiven(e),
            C::WithdrawConsent(e) => ChildEvent::ConsentWithdrawn(e),
            C::CorrectEntry(c) => return self.decide_correction(c, today),
            C::TransferFile(t) => ChildEvent::FileTransferred(FileTransferred {
                occurred_on: t.occurred_on,
                from_centre: s.centre.clone().ok_or(ChildFileError::NoFile)?,
                to_centre: t.to_centre,
                note: t.note,
            }),
            C::CloseFile(e) => ChildEvent::FileClosed(e),
            C::ReopenFile(e) => ChildEvent::FileReopened(e),
            C::EraseIdentity(e) => ChildEvent::IdentityErased(e),
        };
        match rules::admit(s, &event, today) {
            // Documentation after closure: an entry dated before the closure (a late outcome, a
            // discharge note) is recorded without reopening the file, as the file stood then.
            Err(ChildFileError::FileIsClosed { closed_on, .. })
                if event.occurred_on() < closed_on && !Lifecycle::is_milestone(&event) =>
            {
                self.admit_late(&event, today)?
            }
            admitted => admitted?,
        }
        Ok(event)
    }

    /// Admits an entry dated back into the file's last period of care after the file closed:
    /// it must hold against the file as it stood on its date (the entries before it in clinical
    /// order), and every entry after it in clinical order — the closure included — must still
    /// hold with it in place.
    fn admit_late(&self, event: &ChildEvent, today: ClinicalDate) -> Result<(), ChildFileError> {
        let mut candidate = self.entries.clone();
        candidate.push(event.clone());
        let new_sequence = candidate.len() as u64;
        let ordered =
            lifecourse_projections::lifecycle::clinical_order(effective_entries(&candidate));
        let at = ordered
            .iter()
            .position(|(sequence, _)| *sequence == new_sequence)
            .unwrap_or(ordered.len());
        let mut state = Lifecycle::of(ordered[..at].iter().copied());
        for &(sequence, entry) in &ordered[at..] {
            rules::admit(&state, entry, today).map_err(|problem| {
                if sequence == new_sequence {
                    problem
                } else {
                    ChildFileError::LateEntryBreaksHistory {
                        sequence,
                        event_type: entry.event_type(),
                        problem: Box::new(problem),
                    }
                }
            })?;
            state.apply(entry);
        }
        Ok(())
    }

    fn plan_version(&self, p: PlanDecision) -> ActionPlanVersion {
        ActionPlanVersion {
            occurred_on: p.occurred_on,
            plan_version: self.state.plan_versions + 1,
            meeting_number: self.state.meetings,
            goals: p.goals,
            next_reassessment_on: p.next_reassessment_on,
            note: p.note,
        }
    }

    fn decide_correction(
        &self,
        c: CorrectEntry,
        today: ClinicalDate,
    ) -> Result<ChildEvent, ChildFileError> {
        if self.entries.is_empty() {
            return Err(ChildFileError::NoFile);
        }
        if c.reason.expose().trim().is_empty() {
            return Err(ChildFileError::CorrectionWithoutReason);
        }
        let sequence = c.corrects_sequence;
        let target = sequence
            .checked_sub(1)
            .and_then(|i| self.entries.get(i as usize))
            .ok_or(ChildFileError::UnknownEntry {
                sequence,
                last: self.version(),
            })?;
        if let ChildEvent::EntryCorrected(earlier) = target {
            return Err(ChildFileError::CorrectionOfCorrection {
                sequence,
                target: earlier.corrects_sequence,
            });
        }
        let as_it_stands = effective_entries(&self.entries)
            .into_iter()
            .find(|(s, _)| *s == sequence)
            .map(|(_, e)| e);
        let correction = match c.correction {
            CorrectionRequest::EnteredInError
                if matches!(target, ChildEvent::ChildFileOpened(_)) =>
            {
                return Err(ChildFileError::OpeningCannotBeVoided)
            }
            CorrectionRequest::EnteredInError if as_it_stands.is_none() => {
                return Err(ChildFileError::CorrectionChangesNothing { sequence })
            }
            CorrectionRequest::EnteredInError => Correction::EnteredInError,
            CorrectionRequest::ReplacedBy(replacement) => {
                if replacement.event_type() != target.event_type() {
                    return Err(ChildFileError::WrongCorrectionType {
                        sequence,
                        actual: target.event_type().to_string(),
                        given: replacement.event_type().to_string(),
                    });
                }
                if as_it_stands == Some(replacement.as_ref()) {
                    return Err(ChildFileError::CorrectionChangesNothing { sequence });
                }
                Correction::Replaced {
                    schema_version: replacement.schema_version().to_string(),
                    replacement,
                }
            }
        };
        let event = ChildEvent::EntryCorrected(EntryCorrected {
            occurred_on: c.occurred_on,
            corrects_sequence: sequence,
            corrected_event_type: target.event_type().to_string(),
            reason: c.reason,
            correction,
        });
        rules::admit(&self.state, &event, today)?;
        self.recheck_with(&event, sequence, today)?;
        Ok(event)
    }

    /// Checks that the file's entries, as they now count, would also be admitted one by one in
    /// clinical order (by date, then sequence): the rules keep record order and clinical order
    /// telling the same story, and this says so of a whole file. Returns the first entry (by
    /// sequence) that would be refused, and why.
    pub fn check_clinical_order(&self, today: ClinicalDate) -> Result<(), (u64, ChildFileError)> {
        let mut state = Lifecycle::default();
        for (sequence, entry) in
            lifecourse_projections::lifecycle::clinical_order(effective_entries(&self.entries))
        {
            rules::admit(&state, entry, today).map_err(|problem| (sequence, problem))?;
            state.apply(entry);
        }
        Ok(())
    }

    /// Re-admits every entry from the corrected one onwards as the file would stand after the
    /// correction, so a correction cannot leave a later entry without its grounds (a plan
    /// without its meeting, an outcome without its referral).
    fn recheck_with(
        &self,
        correction: &ChildEvent,
        from_sequence: u64,
        today: ClinicalDate,
    ) -> Result<(), ChildFileError> {
        let mut candidate = self.entries.clone();
        candidate.push(correction.clone());
        let effective = effective_entries(&candidate);
        for (i, &(sequence, entry)) in effective.iter().enumerate() {
            if sequence >= from_sequence {
                // Each entry is checked against the file as it stood when it was recorded:
                // the entries recorded before it, as corrected, in clinical order.
                let state = Lifecycle::of(effective[..i].iter().copied());
                rules::admit(&state, entry, today).map_err(|problem| {
                    ChildFileError::CorrectionBreaksHistory {
                        sequence,
                        event_type: entry.event_type(),
                        problem: Box::new(problem),
                    }
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
