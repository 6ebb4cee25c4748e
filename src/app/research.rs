//! Research exports and cohort measures: every file as it was recorded at the known-at moment,
//! read in chunks, for the pure tables of `lifecourse_projections::research`. Which children are
//! exported (research consent in force on the as-of date) is decided there; here, who may ask
//! (`Action::ExportResearch`), which centres' files they get, and where the cut in the store is.

use chrono::{DateTime, Utc};
use lifecourse_events::*;
use lifecourse_projections::research::{cohort_measures, Measure};
use lifecourse_projections::ChildHistory;

use super::access::{self, Action, Scope};
use super::{App, AppError, InvalidInput};
use crate::store::Cursor;

/// A cursor after every committed event (as `Store::histories` reads with no bound).
const EVERYTHING: Cursor = Cursor {
    era: i64::MAX,
    transaction_id: i64::MAX as u64,
    position: i64::MAX,
};

/// How many files are read from the store at a time.
const CHUNK: usize = 250;

/// What an export or cohort is of: what had happened by `as_of`, as recorded at `known_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResearchCut {
    pub as_of: ClinicalDate,
    pub known_at: DateTime<Utc>,
}

/// The files as recorded at the known-at moment, and where that moment cuts the store.
#[derive(Clone, Debug)]
pub struct ResearchHistories {
    pub cut: ResearchCut,
    pub histories: Vec<ChildHistory>,
    /// The highest position of an event recorded at or before the known-at moment (0: none).
    pub position_cut: i64,
    /// How many events were recorded by then, in every file read.
    pub events: u64,
}

/// The default known-at moment of an as-of date: the end of that day (UTC), so an export of a
/// date stays the same whatever is recorded, withdrawn or corrected afterwards.
pub fn end_of(as_of: ClinicalDate) -> DateTime<Utc> {
    as_of
        .date()
        .and_hms_milli_opt(23, 59, 59, 999)
        .expect("a valid time of day")
        .and_utc()
}

impl App {
    /// Checks the as-of date (not after today) and the known-at moment (not in the future: a
    /// moment still to come would let a later run see more); `known_at` defaults to the end of
    /// the as-of date.
    pub async fn research_cut(
        &self,
        as_of: ClinicalDate,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<ResearchCut, AppError> {
        let as_of = super::check_date("--as-of", as_of)?;
        let today = self.today(None).await?;
        if as_of > today {
            return Err(InvalidInput::AsOfInFuture { as_of, today }.into());
        }
        let known_at = known_at.unwrap_or_else(|| end_of(as_of));
        if known_at > Utc::now() {
            return Err(InvalidInput::KnownAtInFuture {
                known_at: known_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            }
            .into());
        }
        Ok(ResearchCut { as_of, known_at })
    }

    /// Every file as recorded at `cut.known_at`, of the acting researcher's centres (on the as-of
    /// date) or of every centre when no one is acting; `progress(read, of)` after each chunk.
    pub async fn research_histories(
        &self,
        cut: ResearchCut,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<ResearchHistories, AppError> {
        let centres = match self.acting() {
            None => None,
            Some(acting) => {
                let principal = &acting.principal;
                if principal.centres.is_empty() {
                    return Err(InvalidInput::CentreNeeded(principal.person.to_string()).into());
                }
                for centre in &principal.centres {
                    access::decide(
                        principal,
                        Action::ExportResearch,
                        Scope::Centre(centre),
                        None,
                    )
                    .map_err(AppError::Denied)?;
                }
                Some(principal.centres.clone())
            }
        };
        // Every committed event, then only those recorded by the known-at moment. Not the runner's
        // horizon: a transaction in flight elsewhere must not hide events committed long before,
        // or an export would change when made again. (A command still being written when the
        // export runs, stamped before the known-at moment, is missed: the moment must be past by
        // more than a command takes, which the default, the end of an earlier day, always is.)
        let children = self.store.children_upto(EVERYTHING).await?;
        let mut out = ResearchHistories {
            cut,
            histories: Vec::with_capacity(children.len()),
            position_cut: 0,
            events: 0,
        };
        let mut read = 0;
        for chunk in children.chunks(CHUNK) {
            for events in self.store.histories(chunk, None).await?.into_values() {
                let history = ChildHistory::from_events(events).known_at(cut.known_at);
                if let Some(last) = history.events().iter().map(|e| e.position).max() {
                    out.position_cut = out.position_cut.max(last);
                }
                out.events += history.events().len() as u64;
                let ours = match &centres {
                    None => true,
                    Some(centres) => history
                        .lifecycle(Some(cut.as_of))
                        .centre
                        .is_some_and(|c| centres.contains(&c)),
                };
                if ours && !history.is_empty() {
                    out.histories.push(history);
                }
            }
            read += chunk.len();
            progress(read, children.len());
        }
        Ok(out)
    }

    /// The cohort measures of the consenting children (`research_histories`).
    pub async fn cohort(
        &self,
        cut: ResearchCut,
    ) -> Result<(ResearchHistories, Vec<Measure>), AppError> {
        let data = self.research_histories(cut, |_, _| {}).await?;
        let measures = cohort_measures(&data.histories, cut.as_of);
        Ok((data, measures))
    }
}
