//! The queries: typed answers from the read models (or, for another moment in record time, from
//! the events), each with how current it is. Nothing here writes.

use chrono::{DateTime, Utc};
use lifecourse_events::*;
use lifecourse_projections::{
    expectations, gaps_on, indicators, ChildHistory, CurrentPlan, Expectation, FollowUpRule,
    FollowUpRules, Gap, Indicators, Trajectory,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::access::{Action, Grant};
use super::{Answer, App, AppError, Freshness, InvalidInput};
use crate::runner::Projection;
use crate::store::{Cursor, GapQuery, ViewRow};

/// Which part of a long answer: `limit` items after skipping `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub offset: usize,
    pub limit: Option<usize>,
}

impl Page {
    pub const ALL: Page = Page {
        offset: 0,
        limit: None,
    };
}

/// A period of clinical time, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: ClinicalDate,
    pub to: ClinicalDate,
}

impl Period {
    /// `from..=to`, checked: both in range and in order.
    pub fn new(from: ClinicalDate, to: ClinicalDate) -> Result<Self, InvalidInput> {
        let from = super::check_date("--from", from)?;
        let to = super::check_date("--to", to)?;
        if from > to {
            return Err(InvalidInput::PeriodReversed { from, to });
        }
        Ok(Self { from, to })
    }

    /// The year ending on `to` (365 days).
    pub fn year_to(to: ClinicalDate) -> Result<Self, InvalidInput> {
        let to = super::check_date("--to", to)?;
        Self::new(to.plus_days(-364), to)
    }
}

/// One page of a worklist, and how many gaps there are in all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GapsAnswer {
    /// The centre whose worklist this is (for a person of one centre, theirs when none was
    /// named); `None` for every centre.
    pub centre: Option<CentreId>,
    pub total: usize,
    pub gaps: Vec<Gap>,
}

fn parse_view<T: DeserializeOwned>(row: &ViewRow) -> Result<T, AppError> {
    serde_json::from_str(&row.view).map_err(AppError::UnreadableView)
}

impl App {
    /// How current `projection` is: its checkpoint, and the committed events its rows do not
    /// reflect yet.
    pub async fn freshness(&self, projection: Projection) -> Result<Freshness, AppError> {
        let checkpoint = self.store.checkpoint(projection.name()).await?;
        let behind = self
            .store
            .events_not_in(projection.table(), checkpoint.cursor)
            .await?;
        Ok(Freshness {
            reflects: checkpoint.cursor,
            behind,
        })
    }

    /// An answer folded from the events themselves: current up to the horizon.
    pub(super) async fn events_freshness(&self) -> Result<Freshness, AppError> {
        let horizon = self.store.horizon().await?;
        Ok(Freshness {
            reflects: horizon,
            behind: self.store.events_since(horizon).await?,
        })
    }

    /// The read model row of `child`, or why there is none.
    async fn row(&self, projection: Projection, child: ChildId) -> Result<ViewRow, AppError> {
        match self.store.view_row(projection.table(), child).await? {
            Some(row) => Ok(row),
            None if self.store.history(child).await?.is_empty() => {
                Err(AppError::UnknownChild(child))
            }
            None => Err(AppError::NotProjectedYet {
                child,
                behind: self.freshness(projection).await?.behind,
            }),
        }
    }

    async fn child_history(
        &self,
        child: ChildId,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<ChildHistory, AppError> {
        let history = ChildHistory::from_events(self.store.history(child).await?);
        if history.is_empty() {
            return Err(AppError::UnknownChild(child));
        }
        Ok(match known_at {
            Some(at) => history.known_at(at),
            None => history,
        })
    }

    /// A child's entries in sequence order, with their envelopes.
    /// A volunteer sees only the entries they recorded themselves (the access policy).
    pub async fn history(&self, child: ChildId) -> Result<Answer<Vec<StoredEvent>>, AppError> {
        let access = self.guard_file(Action::ReadHistory, child).await?;
        let freshness = self.events_freshness().await?;
        let mut events = self.store.history(child).await?;
        if events.is_empty() {
            return Err(AppError::UnknownChild(child));
        }
        if let (Some(Grant::OwnEntriesOnly), Some(acting)) = (access.grant, self.acting()) {
            events.retain(|e| e.metadata.recorded_by.person == acting.principal.person);
        }
        self.log_reads(Action::ReadHistory, &[(child, access.centre)], access.grant)
            .await?;
        Ok(Answer {
            freshness,
            value: events,
        })
    }

    /// A child's current plan; as of a date or as recorded at a moment, folded from the events.
    pub async fn plan(
        &self,
        child: ChildId,
        as_of: Option<ClinicalDate>,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Answer<CurrentPlan>, AppError> {
        self.child_view(
            Action::ReadPlan,
            Projection::ActionPlan,
            child,
            known_at,
            as_of,
            |h, rules| CurrentPlan::from_history(h, rules, as_of),
        )
        .await
    }

    /// A child's trajectory; as of a date or as recorded at a moment, folded from the events.
    pub async fn trajectory(
        &self,
        child: ChildId,
        as_of: Option<ClinicalDate>,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Answer<Trajectory>, AppError> {
        self.child_view(
            Action::ReadTrajectory,
            Projection::Trajectory,
            child,
            known_at,
            as_of,
            |h, _| Trajectory::from_history(h, as_of),
        )
        .await
    }

    /// One child's view: the stored row of `projection` when the question is "now", otherwise
    /// `fold` over the events (as of a date, or as recorded at a moment). Guarded and logged.
    async fn child_view<T: DeserializeOwned>(
        &self,
        action: Action,
        projection: Projection,
        child: ChildId,
        known_at: Option<DateTime<Utc>>,
        as_of: Option<ClinicalDate>,
        fold: impl FnOnce(&ChildHistory, &FollowUpRules) -> T,
    ) -> Result<Answer<T>, AppError> {
        let access = self.guard_file(action, child).await?;
        let (freshness, value) = if as_of.is_none() && known_at.is_none() {
            let freshness = self.freshness(projection).await?;
            let row = self.row(projection, child).await?;
            (freshness, parse_view(&row)?)
        } else {
            let freshness = self.events_freshness().await?;
            let history = self.child_history(child, known_at).await?;
            if history.is_empty() {
                return Err(AppError::NoFileThen {
                    child,
                    when: known_at.map_or_else(String::new, |at| {
                        format!("as recorded at {}", at.format("%Y-%m-%d %H:%M:%SZ"))
                    }),
                    opened_on: None,
                });
            }
            if let Some(as_of) = as_of {
                let opened_on = history.lifecycle(None).opened_on;
                if opened_on.is_none_or(|opened| opened > as_of) {
                    return Err(AppError::NoFileThen {
                        child,
                        when: format!("on {as_of}"),
                        opened_on,
                    });
                }
            }
            let rules = self.follow_up_rules().await?;
            (freshness, fold(&history, &rules))
        };
        self.log_reads(action, &[(child, access.centre)], access.grant)
            .await?;
        Ok(Answer { freshness, value })
    }

    /// The follow-up worklist on `as_of`, most overdue first, one page of it. From the read
    /// model, the centre filter, the date filter and the paging run in SQL; with `known_at` the
    /// worklist is judged from the record as it stood then (folded from the events).
    pub async fn gaps(
        &self,
        centre: Option<&CentreId>,
        as_of: ClinicalDate,
        known_at: Option<DateTime<Utc>>,
        page: Page,
    ) -> Result<Answer<GapsAnswer>, AppError> {
        let as_of = super::check_date("--as-of", as_of)?;
        let centre = self.guard_centre(Action::ReadWorklist, centre)?;
        let answer = self
            .gaps_unlogged(centre.as_ref(), as_of, known_at, page)
            .await?;
        let mut children: Vec<(ChildId, Option<CentreId>)> = answer
            .value
            .gaps
            .iter()
            .map(|g| (g.child_id, Some(g.centre.clone())))
            .collect();
        children.sort();
        children.dedup();
        self.log_reads(Action::ReadWorklist, &children, None)
            .await?;
        Ok(answer)
    }

    async fn gaps_unlogged(
        &self,
        centre: Option<&CentreId>,
        as_of: ClinicalDate,
        known_at: Option<DateTime<Utc>>,
        page: Page,
    ) -> Result<Answer<GapsAnswer>, AppError> {
        if let Some(at) = known_at {
            let (freshness, all) = self.expectations_known_at(at).await?;
            let gaps = gaps_on(
                all.iter().filter(|e| centre.is_none_or(|c| *c == e.centre)),
                as_of,
            );
            let total = gaps.len();
            let gaps = gaps
                .into_iter()
                .skip(page.offset)
                .take(page.limit.unwrap_or(usize::MAX))
                .collect();
            return Ok(Answer {
                freshness,
                value: GapsAnswer {
                    centre: centre.cloned(),
                    total,
                    gaps,
                },
            });
        }
        let freshness = self.freshness(Projection::FollowUp).await?;
        let rule_order: Vec<&str> = FollowUpRule::ALL.iter().map(|r| r.as_str()).collect();
        let (total, page_rows) = self
            .store
            .follow_up_gaps(
                Projection::FollowUp.table(),
                &GapQuery {
                    as_of,
                    centre,
                    offset: page.offset,
                    limit: page.limit,
                    rule_order: &rule_order,
                },
            )
            .await?;
        let expectations = page_rows
            .iter()
            .map(|json| serde_json::from_str::<Expectation>(json))
            .collect::<Result<Vec<_>, _>>()
            .map_err(AppError::UnreadableView)?;
        // The page is already in the worklist's order; the fold turns each into its gap.
        let gaps = gaps_on(&expectations, as_of);
        Ok(Answer {
            freshness,
            value: GapsAnswer {
                centre: centre.cloned(),
                total: total as usize,
                gaps,
            },
        })
    }

    /// Centre indicators over a period.
    pub async fn indicators(
        &self,
        centre: Option<&CentreId>,
        period: Period,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Answer<Indicators>, AppError> {
        let centre = self.guard_centre(Action::ReadIndicators, centre)?;
        let centre = centre.as_ref();
        let rules = self.follow_up_rules().await?;
        let (freshness, trajectories, expectations) = match known_at {
            None => {
                let a = self.freshness(Projection::FollowUp).await?;
                let b = self.freshness(Projection::Trajectory).await?;
                let freshness = if a.behind >= b.behind { a } else { b };
                let expectations = self.stored_expectations(centre).await?;
                let trajectories = self
                    .store
                    .view_rows(Projection::Trajectory.table(), None)
                    .await?
                    .iter()
                    .map(parse_view)
                    .collect::<Result<Vec<Trajectory>, _>>()?;
                (freshness, trajectories, expectations)
            }
            Some(at) => {
                let freshness = self.events_freshness().await?;
                let histories: Vec<ChildHistory> = self
                    .all_histories(freshness.reflects)
                    .await?
                    .into_iter()
                    .map(|h| h.known_at(at))
                    .collect();
                let trajectories = histories
                    .iter()
                    .map(|h| Trajectory::from_history(h, None))
                    .collect();
                let expectations = histories
                    .iter()
                    .flat_map(|h| expectations(h, &rules))
                    .collect();
                (freshness, trajectories, expectations)
            }
        };
        Ok(Answer {
            freshness,
            value: indicators(&trajectories, &expectations, centre, period.from, period.to),
        })
    }

    /// Every expectation as the record stood at `at`, folded from the events.
    async fn expectations_known_at(
        &self,
        at: DateTime<Utc>,
    ) -> Result<(Freshness, Vec<Expectation>), AppError> {
        let freshness = self.events_freshness().await?;
        let rules = self.follow_up_rules().await?;
        let all = self
            .all_histories(freshness.reflects)
            .await?
            .into_iter()
            .flat_map(|h| expectations(&h.known_at(at), &rules))
            .collect();
        Ok((freshness, all))
    }

    /// The stored expectations of the children with any for `centre` (all when `None`).
    async fn stored_expectations(
        &self,
        centre: Option<&CentreId>,
    ) -> Result<Vec<Expectation>, AppError> {
        let mut all = Vec::new();
        for row in self
            .store
            .follow_up_rows(Projection::FollowUp.table(), centre)
            .await?
        {
            let mut expectations: Vec<Expectation> = parse_view(&row)?;
            all.append(&mut expectations);
        }
        Ok(all)
    }

    async fn all_histories(&self, upto: Cursor) -> Result<Vec<ChildHistory>, AppError> {
        let children = self.store.children_upto(upto).await?;
        let mut histories = Vec::with_capacity(children.len());
        for chunk in children.chunks(250) {
            for events in self.store.histories(chunk, Some(upto)).await?.into_values() {
                histories.push(ChildHistory::from_events(events));
            }
        }
        Ok(histories)
    }
}
