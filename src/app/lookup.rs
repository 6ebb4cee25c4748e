//! Looking children up for the clinicians' pages: a child by file number or name within the
//! caller's centres (a logged read), the worklist with what each row names (the child, the
//! referral or goal that is overdue), and one child's open gaps. Answers are typed; nothing here
//! writes except the access log.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use lifecourse_events::*;
use lifecourse_projections::{expectations, gaps_on, ChildHistory, Gap};

use super::access::Action;
use super::{Answer, App, AppError, GapsAnswer, Page};

/// What a list row says of a child: who they are and the things of their file a gap may name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildBrief {
    pub child_id: ChildId,
    pub given_name: Identifying<String>,
    pub family_name: Identifying<String>,
    pub birth_date: Identifying<ClinicalDate>,
    /// The centre responsible for the file now.
    pub centre: Option<CentreId>,
    /// Every goal of any plan version: its latest text and who answers for it.
    pub goals: BTreeMap<GoalId, (Identifying<String>, Vec<Responsible>)>,
    /// Every referral: the resource and the organisation, when named.
    pub referrals: BTreeMap<ReferralId, (ExternalResource, Option<Identifying<String>>)>,
    pub legal_matters: BTreeMap<LegalMatterId, LegalArea>,
    pub rights_concerns: BTreeMap<RightsConcernId, ChildRight>,
}

impl ChildBrief {
    /// The file number people quote: the first eight characters of the child's id.
    pub fn file_number(&self) -> String {
        file_number(self.child_id)
    }

    /// From a child's history, corrections applied; `None` when the opening is not in it.
    pub fn of(history: &ChildHistory) -> Option<Self> {
        let entries = history.entries();
        let opened = entries.iter().find_map(|e| match e.event {
            ChildEvent::ChildFileOpened(o) => Some(o),
            _ => None,
        })?;
        let mut brief = ChildBrief {
            child_id: history.child_id()?,
            given_name: opened.child.given_name.clone(),
            family_name: opened.child.family_name.clone(),
            birth_date: opened.child.birth_date.clone(),
            centre: history.centre(),
            goals: BTreeMap::new(),
            referrals: BTreeMap::new(),
            legal_matters: BTreeMap::new(),
            rights_concerns: BTreeMap::new(),
        };
        for entry in &entries {
            match entry.event {
                ChildEvent::ActionPlanAdopted(p) | ChildEvent::ActionPlanRevised(p) => {
                    for g in &p.goals {
                        brief
                            .goals
                            .insert(g.goal_id, (g.description.clone(), g.responsible.clone()));
                    }
                }
                ChildEvent::ReferralMade(r) => {
                    brief
                        .referrals
                        .insert(r.referral_id, (r.resource, r.organisation.clone()));
                }
                ChildEvent::LegalInterventionOpened(m) => {
                    brief.legal_matters.insert(m.matter_id, m.area);
                }
                ChildEvent::RightsConcernRaised(c) => {
                    brief.rights_concerns.insert(c.concern_id, c.right);
                }
                _ => {}
            }
        }
        Some(brief)
    }

    /// Whether `query` (already lowercased and trimmed) names this child: the start of the file
    /// number or of the whole id, or a part of "given family" or "family given".
    fn matches(&self, query: &str) -> bool {
        let id = self.child_id.to_string();
        let compact: String = query.chars().filter(|c| *c != '-').collect();
        if !compact.is_empty()
            && (id.starts_with(query) || id.replace('-', "").starts_with(&compact))
        {
            return true;
        }
        let given = self.given_name.expose().to_lowercase();
        let family = self.family_name.expose().to_lowercase();
        format!("{given} {family}").contains(query) || format!("{family} {given}").contains(query)
    }
}

/// The file number of a child: the first eight characters of its id.
pub fn file_number(child: ChildId) -> String {
    child.to_string().chars().take(8).collect()
}

/// The worklist with what its rows name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedWorklist {
    pub gaps: Vec<Gap>,
    /// The children the gaps name.
    pub children: BTreeMap<ChildId, ChildBrief>,
}

/// The shortest search text accepted: shorter ones would list most of a centre.
pub const MIN_SEARCH: usize = 2;

impl App {
    /// The whole follow-up worklist on `as_of` (as the record stood at `known_at`, if given),
    /// most overdue first, with each child's name and the goals and referrals the rows name.
    /// Guarded and logged like `gaps`.
    pub async fn named_worklist(
        &self,
        centre: Option<&CentreId>,
        as_of: ClinicalDate,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Answer<NamedWorklist>, AppError> {
        let Answer {
            freshness,
            value: GapsAnswer { gaps, .. },
        } = self.gaps(centre, as_of, known_at, Page::ALL).await?;
        let ids: Vec<ChildId> = gaps
            .iter()
            .map(|g| g.child_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut children = BTreeMap::new();
        for chunk in ids.chunks(250) {
            for (child, events) in self.store.histories(chunk, None).await? {
                let history = ChildHistory::from_events(events);
                let history = match known_at {
                    Some(at) => history.known_at(at),
                    None => history,
                };
                if let Some(brief) = ChildBrief::of(&history) {
                    children.insert(child, brief);
                }
            }
        }
        Ok(Answer {
            freshness,
            value: NamedWorklist { gaps, children },
        })
    }

    /// The children of the caller's centres whose file number or name matches `query`, by
    /// family then given name. A search lists names as a worklist does: the same roles may
    /// search, and every child found is logged in the access log (action `worklist`).
    pub async fn search_children(&self, query: &str) -> Result<Vec<ChildBrief>, AppError> {
        let query = query.trim().to_lowercase();
        if query.chars().count() < MIN_SEARCH {
            return Ok(vec![]);
        }
        let centres: Option<Vec<CentreId>> = match self.acting() {
            None => None,
            Some(acting) => {
                let mut allowed = vec![];
                let mut refusal = None;
                for centre in &acting.principal.centres {
                    match self.guard_centre(Action::ReadWorklist, Some(centre)) {
                        Ok(_) => allowed.push(centre.clone()),
                        Err(e) => refusal = Some(e),
                    }
                }
                match (allowed.is_empty(), refusal) {
                    (true, Some(e)) => return Err(e),
                    _ => Some(allowed),
                }
            }
        };
        let horizon = self.store.horizon().await?;
        let children = self.store.children_upto(horizon).await?;
        let mut found = vec![];
        for chunk in children.chunks(250) {
            for events in self
                .store
                .histories(chunk, Some(horizon))
                .await?
                .into_values()
            {
                let history = ChildHistory::from_events(events);
                let Some(brief) = ChildBrief::of(&history) else {
                    continue;
                };
                let in_centres = match (&centres, &brief.centre) {
                    (None, _) => true,
                    (Some(list), Some(c)) => list.contains(c),
                    (Some(_), None) => false,
                };
                if in_centres && brief.matches(&query) {
                    found.push(brief);
                }
            }
        }
        found.sort_by(|a, b| {
            (a.family_name.expose(), a.given_name.expose(), a.child_id).cmp(&(
                b.family_name.expose(),
                b.given_name.expose(),
                b.child_id,
            ))
        });
        let logged: Vec<(ChildId, Option<CentreId>)> = found
            .iter()
            .map(|b| (b.child_id, b.centre.clone()))
            .collect();
        if !logged.is_empty() {
            self.log_reads(Action::ReadWorklist, &logged, None).await?;
        }
        Ok(found)
    }

    /// One child's open gaps on `as_of` (as the record stood at `known_at`, if given), most
    /// overdue first, folded from the events. Guarded and logged as a read of the plan.
    pub async fn child_gaps(
        &self,
        child: ChildId,
        as_of: ClinicalDate,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Vec<Gap>, AppError> {
        let access = self.guard_file(Action::ReadPlan, child).await?;
        let history = ChildHistory::from_events(self.store.history(child).await?);
        if history.is_empty() {
            return Err(AppError::UnknownChild(child));
        }
        let history = match known_at {
            Some(at) => history.known_at(at),
            None => history,
        };
        let rules = self.follow_up_rules().await?;
        let all = expectations(&history, &rules);
        let gaps = gaps_on(&all, as_of);
        self.log_reads(Action::ReadPlan, &[(child, access.centre)], access.grant)
            .await?;
        Ok(gaps)
    }

    /// Who the child is (name, birth date), from a read the caller was already allowed: the
    /// entries `history` returned. `None` when those entries do not include the opening (a
    /// volunteer sees only their own entries).
    pub fn brief_of(entries: &[StoredEvent]) -> Option<ChildBrief> {
        // Corrections are applied by sequence number: only a whole stream can be folded.
        let whole = entries
            .iter()
            .enumerate()
            .all(|(i, e)| e.sequence == i as u64 + 1);
        if !whole {
            return None;
        }
        ChildBrief::of(&ChildHistory::from_events(entries.iter().cloned()))
    }
}
