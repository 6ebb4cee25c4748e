//! The projection runner: keeps the read models of `lifecourse-projections` in the store, one
//! table per projection, one row per child.
//!
//! Guarantees, per projection:
//! - **Commit order without skips.** Events are read after the projection's checkpoint in commit
//!   order; on PostgreSQL only below `pg_snapshot_xmin(pg_current_snapshot())`, ordered and
//!   checkpointed by `(transaction_id, position)`, so a transaction still in flight is waited for,
//!   never stepped over.
//! - **Exactly once.** A batch's view rows and the checkpoint move are one transaction; the move is
//!   a compare-and-set from the checkpoint the batch was read after, so two runners cannot apply
//!   the same batch, and a crash mid-batch leaves the previous state whole. Each row also counts
//!   the events applied to it and checks they continue its last sequence.
//! - **Idempotent views.** A row is the pure fold of the child's events `1..=last_sequence`, so
//!   writing it again gives the same row.
//!
//! Nothing here relies on cqrs-es's post-commit query dispatch, which a crash can lose.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use lifecourse_events::*;
use lifecourse_projections::{expectations, ChildHistory, CurrentPlan, FollowUpRules, Trajectory};
use serde::Serialize;

use crate::store::{BatchEvent, Fingerprint, Store, StoreError, ViewRow, ViewTx};

/// The read models the runner keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Projection {
    /// The current action plan of each child (`lifecourse plan`).
    #[value(name = "action_plan")]
    ActionPlan,
    /// The longitudinal trajectory of each child (`lifecourse trajectory`).
    #[value(name = "trajectory")]
    Trajectory,
    /// The follow-up expectations of each child (`lifecourse gaps`, `lifecourse indicators`).
    #[value(name = "follow_up")]
    FollowUp,
}

impl Projection {
    pub const ALL: [Projection; 3] = [Self::ActionPlan, Self::Trajectory, Self::FollowUp];

    pub fn name(self) -> &'static str {
        match self {
            Self::ActionPlan => "action_plan",
            Self::Trajectory => "trajectory",
            Self::FollowUp => "follow_up",
        }
    }

    pub fn table(self) -> &'static str {
        match self {
            Self::ActionPlan => "proj_action_plan",
            Self::Trajectory => "proj_trajectory",
            Self::FollowUp => "proj_follow_up",
        }
    }

    /// The version of this projection's fold. Bump it in the release that changes what the fold
    /// computes (in `lifecourse-projections` or here): the stored rows are then rebuilt rather
    /// than mixed with rows of the new code.
    pub fn code_version(self) -> u32 {
        match self {
            Self::ActionPlan => 2,
            Self::Trajectory => 2,
            Self::FollowUp => 2,
        }
    }

    /// What the views depend on besides the events; a change means they must be rebuilt.
    pub fn config(self, rules: &FollowUpRules) -> Fingerprint {
        match self {
            Self::Trajectory => Fingerprint::new(self.code_version(), None),
            Self::ActionPlan | Self::FollowUp => Fingerprint::new(self.code_version(), Some(rules)),
        }
    }

    /// The view of one child, as stored: the pure fold of its history.
    pub fn view(self, history: &ChildHistory, rules: &FollowUpRules) -> String {
        fn json(v: &impl Serialize) -> String {
            serde_json::to_string(v).expect("views always serialise")
        }
        match self {
            Self::ActionPlan => json(&CurrentPlan::from_history(history, rules, None)),
            Self::Trajectory => json(&Trajectory::from_history(history, None)),
            Self::FollowUp => json(&expectations(history, rules)),
        }
    }

    fn row(
        self,
        history: &ChildHistory,
        centre: Option<CentreId>,
        applied_events: u64,
        rules: &FollowUpRules,
    ) -> ViewRow {
        ViewRow {
            child_id: history.child_id().expect("a history with events"),
            centre,
            applied_events,
            last_sequence: history.last_sequence(),
            view: self.view(history, rules),
        }
    }
}

impl std::fmt::Display for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("projection {projection} would apply events of child {child} out of order: it has applied up to #{last}, and the next events read were {got:?}; the store's commit order is broken")]
    OutOfOrder {
        projection: Projection,
        child: ChildId,
        last: u64,
        got: Vec<u64>,
    },
    #[error("projection {projection}: child {child} should have {expected} events, the store returned {found}")]
    MissingEvents {
        projection: Projection,
        child: ChildId,
        expected: u64,
        found: u64,
    },
}

/// What one batch did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Applied(usize),
    /// Nothing new below the horizon.
    CaughtUp,
    /// Another runner moved the checkpoint first; nothing was written.
    Moved,
    /// The stored views were computed with other thresholds; nothing was written. `catch_up`
    /// rebuilds them with this runner's.
    Stale,
}

/// What a rebuild did.
#[derive(Clone, Copy, Debug)]
pub struct RebuildReport {
    pub events: u64,
    pub children: u64,
    pub elapsed: Duration,
}

impl RebuildReport {
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Children a rebuild reads, folds and writes together.
const REBUILD_CHUNK: usize = 250;

/// The result of a task of the runner's own; a panic in it is resumed here.
fn joined<T>(
    result: Result<Result<T, StoreError>, tokio::task::JoinError>,
) -> Result<T, StoreError> {
    match result {
        Ok(result) => result,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => Err(StoreError::Database(sqlx::Error::Io(
            std::io::Error::other(join),
        ))),
    }
}

/// The largest batch the runner applies in one transaction (`project --batch-size`).
pub const MAX_BATCH_SIZE: usize = 100_000;

pub struct Runner<'s> {
    store: &'s Store,
    rules: FollowUpRules,
    batch_size: usize,
}

impl<'s> Runner<'s> {
    pub fn new(store: &'s Store, rules: FollowUpRules) -> Self {
        Self {
            store,
            rules,
            batch_size: 1000,
        }
    }

    /// Events applied per transaction, between 1 and `MAX_BATCH_SIZE` (a larger number is taken
    /// as the maximum: a batch's rows are held in memory and written in one transaction).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.clamp(1, MAX_BATCH_SIZE);
        self
    }

    pub fn rules(&self) -> &FollowUpRules {
        &self.rules
    }

    /// Brings every projection up to the horizon; returns how many events were applied, summed
    /// over the projections. A
    /// projection that was never run, or whose thresholds changed, is rebuilt instead.
    #[tracing::instrument(name = "catch_up", skip_all)]
    pub async fn catch_up(&self) -> Result<u64, RunnerError> {
        let mut applied = 0;
        let mut to_rebuild = Vec::new();
        self.store.drop_abandoned_scratch().await?;
        for projection in Projection::ALL {
            let checkpoint = self.store.checkpoint(projection.name()).await?;
            // Never built: no fingerprint yet (even where every event so far lies beyond the
            // horizon, the rebuild records the fingerprint the early rows are then written with).
            let fresh = checkpoint.config.is_none();
            let stale = !fresh && checkpoint.config != Some(projection.config(&self.rules));
            if stale {
                tracing::warn!(%projection, "fold code version or follow-up thresholds changed: rebuilding");
            }
            if stale || fresh {
                to_rebuild.push(projection);
            }
        }
        if !to_rebuild.is_empty() {
            // One pass over the histories serves every projection that needs it.
            applied += self.rebuild(&to_rebuild, |_| {}).await?.events * to_rebuild.len() as u64;
        }
        for projection in Projection::ALL {
            loop {
                match self.step(projection).await? {
                    Step::Applied(n) => applied += n as u64,
                    Step::Moved => continue,
                    Step::Stale => {
                        applied += self.rebuild(&[projection], |_| {}).await?.events;
                        break;
                    }
                    Step::CaughtUp => break,
                }
            }
            applied += self.apply_beyond_horizon(projection).await?;
        }
        Ok(applied)
    }

    /// Brings the rows of children with committed events beyond the horizon up to those events,
    /// without moving the checkpoint. On PostgreSQL the horizon stops at the oldest transaction
    /// still in flight anywhere on the server (another database's long transaction too); waiting
    /// for it would leave reads silently behind. Every child with events after the checkpoint is
    /// looked at, not only those above the horizon now: the horizon may have passed an event
    /// between the last batch's read and this query, and that event would otherwise wait for
    /// the next catch-up. A row is the fold of its child's events
    /// `1..=n` and a child's events commit in sequence order, so writing it early is safe; when
    /// the checkpoint later reaches those events, `apply` skips what the row already has.
    /// Nothing is written unless the stored views were computed with this runner's
    /// fingerprint, so rows of two fingerprints never mix.
    async fn apply_beyond_horizon(&self, projection: Projection) -> Result<u64, RunnerError> {
        let checkpoint = self.store.checkpoint(projection.name()).await?;
        let children = self.store.children_after(checkpoint.cursor).await?;
        if children.is_empty() {
            return Ok(0);
        }
        let histories = self.store.histories(&children, None).await?;
        let mut tx = self.store.begin_views().await?;
        tx.lock(projection.name()).await?;
        let now = tx.checkpoint(projection.name()).await?;
        if now.config != Some(projection.config(&self.rules)) {
            // Not built yet, or built with other thresholds or fold code: a rebuild decides.
            return Ok(0);
        }
        let applied = self
            .bring_up_to_date(&mut tx, projection, projection.table(), histories)
            .await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// Writes the rows of `histories`' children in `table` that are behind their child's
    /// history (each row the fold of the whole history, its count raised by the events it
    /// lacked); returns how many events that applied.
    async fn bring_up_to_date(
        &self,
        tx: &mut ViewTx<'_>,
        projection: Projection,
        table: &str,
        histories: BTreeMap<ChildId, Vec<StoredEvent>>,
    ) -> Result<u64, RunnerError> {
        let children: Vec<ChildId> = histories.keys().copied().collect();
        let counters = tx.counters(table, &children).await?;
        let mut rows = Vec::new();
        let mut applied = 0;
        for (child, events) in histories {
            let (count, last) = counters.get(&child).copied().unwrap_or((0, 0));
            let n = events.len() as u64;
            if n > last {
                let history = ChildHistory::from_events(events);
                rows.push(projection.row(
                    &history,
                    history.centre(),
                    count + (n - last),
                    &self.rules,
                ));
                applied += n - last;
            }
        }
        tx.upsert(table, &rows).await?;
        tracing::debug!(children = rows.len(), %projection, "applied events beyond the horizon");
        Ok(applied)
    }

    /// Applies one batch to one projection.
    #[tracing::instrument(name = "batch", skip(self), fields(%projection))]
    pub async fn step(&self, projection: Projection) -> Result<Step, RunnerError> {
        let checkpoint = self.store.checkpoint(projection.name()).await?;
        let batch = self
            .store
            .events_after(checkpoint.cursor, self.batch_size)
            .await?;
        let Some(last) = batch.last().map(|e| e.cursor) else {
            return Ok(Step::CaughtUp);
        };
        let histories = self.store.histories(&children_of(&batch), None).await?;
        let mut tx = self.store.begin_views().await?;
        tx.lock(projection.name()).await?;
        let config = projection.config(&self.rules);
        if !tx
            .advance(projection.name(), checkpoint.cursor, last, &config)
            .await?
        {
            drop(tx);
            let now = self.store.checkpoint(projection.name()).await?;
            if now.config.as_ref().is_some_and(|c| *c != config) {
                tracing::warn!(
                    "the stored views were computed with another fold version or other thresholds"
                );
                return Ok(Step::Stale);
            }
            tracing::debug!("checkpoint moved by another runner");
            return Ok(Step::Moved);
        }
        let applied = self
            .apply(&mut tx, projection, projection.table(), &batch, &histories)
            .await?;
        tx.commit().await?;
        tracing::debug!(events = batch.len(), "applied");
        Ok(Step::Applied(applied as usize))
    }

    /// Writes the rows of the children a batch touches: each continues exactly where its row
    /// left off (events it already has are skipped; a gap is refused). Returns how many events
    /// it applied.
    async fn apply(
        &self,
        tx: &mut ViewTx<'_>,
        projection: Projection,
        table: &str,
        batch: &[BatchEvent],
        histories: &BTreeMap<ChildId, Vec<StoredEvent>>,
    ) -> Result<u64, RunnerError> {
        let mut applied_now = 0;
        let mut sequences: BTreeMap<ChildId, Vec<u64>> = BTreeMap::new();
        for event in batch {
            sequences
                .entry(event.child_id)
                .or_default()
                .push(event.sequence);
        }
        let children: Vec<ChildId> = sequences.keys().copied().collect();
        let counters = tx.counters(table, &children).await?;
        let mut rows = Vec::with_capacity(children.len());
        for (child, got) in sequences {
            let (applied, last) = counters.get(&child).copied().unwrap_or((0, 0));
            // Events the row already has were applied early (`apply_beyond_horizon`).
            let got: Vec<u64> = got.into_iter().filter(|s| *s > last).collect();
            if got.is_empty() {
                continue;
            }
            let n = got.len() as u64;
            applied_now += n;
            if got != (last + 1..=last + n).collect::<Vec<_>>() {
                return Err(RunnerError::OutOfOrder {
                    projection,
                    child,
                    last,
                    got,
                });
            }
            let events: Vec<StoredEvent> = histories
                .get(&child)
                .map(|h| {
                    h.iter()
                        .take_while(|e| e.sequence <= last + n)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            if events.len() as u64 != last + n {
                return Err(RunnerError::MissingEvents {
                    projection,
                    child,
                    expected: last + n,
                    found: events.len() as u64,
                });
            }
            let history = ChildHistory::from_events(events);
            rows.push(projection.row(&history, history.centre(), applied + n, &self.rules));
        }
        tx.upsert(table, &rows).await?;
        Ok(applied_now)
    }

    /// Replays `projections` from the first event into fresh tables, then swaps them in; readers
    /// see the old tables until then. `progress` is told how many events each step covered.
    #[tracing::instrument(name = "rebuild", skip_all)]
    pub async fn rebuild(
        &self,
        projections: &[Projection],
        mut progress: impl FnMut(u64),
    ) -> Result<RebuildReport, RunnerError> {
        let started = Instant::now();
        // A killed rebuild's tables hold copies of identifying data: never leave them behind.
        self.store.drop_abandoned_scratch().await?;
        let horizon = self.store.horizon().await?;
        let mut claims = Vec::new();
        let mut scratch = Vec::new();
        for p in projections {
            let table = self.store.create_scratch(p.table()).await?;
            scratch.push((*p, table.name.clone()));
            claims.push(table);
        }
        // Everything below the horizon, child by child: each history read and folded once. Three
        // stages overlap: the next chunk's histories are read while this one is folded, and the
        // folded rows are written by a task of their own while the next chunk is folded.
        let children = self.store.children_upto(horizon).await?;
        let chunks: Vec<Vec<ChildId>> = children
            .chunks(REBUILD_CHUNK)
            .map(<[ChildId]>::to_vec)
            .collect();
        let read = |chunk: Vec<ChildId>| {
            let store = self.store.clone();
            tokio::spawn(async move { store.histories(&chunk, Some(horizon)).await })
        };
        let (to_writer, mut written) = tokio::sync::mpsc::channel::<Vec<Vec<ViewRow>>>(2);
        let writer = {
            let store = self.store.clone();
            let tables: Vec<String> = scratch.iter().map(|(_, t)| t.clone()).collect();
            tokio::spawn(async move {
                while let Some(rows) = written.recv().await {
                    let mut tx = store.begin_views().await?;
                    for (table, rows) in tables.iter().zip(&rows) {
                        tx.upsert(table, rows).await?;
                    }
                    tx.commit().await?;
                }
                Ok::<_, StoreError>(())
            })
        };
        let mut events = 0u64;
        let mut next = chunks.first().cloned().map(read);
        for i in 0..chunks.len() {
            let Some(reading) = next.take() else { break };
            let histories = joined(reading.await)?;
            next = chunks.get(i + 1).cloned().map(read);
            let mut rows: Vec<Vec<ViewRow>> =
                vec![Vec::with_capacity(REBUILD_CHUNK); scratch.len()];
            let mut n = 0u64;
            for history in histories.into_values() {
                n += history.len() as u64;
                let history = ChildHistory::from_events(history);
                let centre = history.centre();
                for ((p, _), rows) in scratch.iter().zip(rows.iter_mut()) {
                    rows.push(p.row(
                        &history,
                        centre.clone(),
                        history.last_sequence(),
                        &self.rules,
                    ));
                }
            }
            if to_writer.send(rows).await.is_err() {
                // The writer stopped on an error: it says which below.
                break;
            }
            events += n;
            progress(n);
        }
        drop(to_writer);
        joined(writer.await)?;
        // What was committed meanwhile, batch by batch.
        let mut cursor = horizon;
        loop {
            let batch = self.store.events_after(cursor, self.batch_size).await?;
            let Some(last) = batch.last().map(|e| e.cursor) else {
                break;
            };
            let histories = self.store.histories(&children_of(&batch), None).await?;
            let mut tx = self.store.begin_views().await?;
            for (p, table) in &scratch {
                self.apply(&mut tx, *p, table, &batch, &histories).await?;
            }
            tx.commit().await?;
            cursor = last;
            events += batch.len() as u64;
            progress(batch.len() as u64);
        }
        // What is committed beyond the horizon (behind a transaction in flight anywhere on the
        // server): rows brought up to it, as `catch_up` does, so a rebuild is never behind.
        let beyond = self.store.children_after(cursor).await?;
        let beyond = self.store.histories(&beyond, None).await?;
        let mut tx = self.store.begin_views().await?;
        let mut beyond_events = 0;
        for (p, table) in &scratch {
            tx.lock(p.name()).await?;
            // The same events for each projection: counted once.
            beyond_events = self
                .bring_up_to_date(&mut tx, *p, table, beyond.clone())
                .await?
                .max(beyond_events);
            tx.swap_in(p.table(), table).await?;
            tx.set_checkpoint(p.name(), cursor, &p.config(&self.rules))
                .await?;
        }
        tx.commit().await?;
        drop(claims);
        events += beyond_events;
        let new_children = beyond.keys().filter(|c| !children.contains(c));
        let report = RebuildReport {
            events,
            children: (children.len() + new_children.count()) as u64,
            elapsed: started.elapsed(),
        };
        tracing::info!(
            events,
            children = report.children,
            per_second = report.events_per_second(),
            "rebuilt"
        );
        Ok(report)
    }

    /// Catches up, then keeps following new events every `poll` until `stop` completes.
    pub async fn follow(
        &self,
        poll: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<(), RunnerError> {
        tokio::pin!(stop);
        loop {
            self.catch_up().await?;
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }
}

fn children_of(batch: &[BatchEvent]) -> Vec<ChildId> {
    let mut children: Vec<ChildId> = batch.iter().map(|e| e.child_id).collect();
    children.sort();
    children.dedup();
    children
}
