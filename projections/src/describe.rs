//! Entries in words, named by what they are about: a referral by its resource and organisation,
//! a goal by its text, a member of the child's circle by name. The catalogue's own summaries
//! (`ChildEvent::summary`) know only the entry itself; `Names` gathers what a file's entries call
//! things, so a timeline can say "dentistry referral outcome: seen" instead of an id.

use std::collections::HashMap;

use lifecourse_events::*;
use serde::{Deserialize, Serialize};

/// An entry in words: `text` never identifies anyone; `about` is the goal's text, the
/// organisation or the people concerned, where the file names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    pub text: String,
    pub about: Option<Identifying<String>>,
}

/// What one file's entries call its goals, referrals, services, legal matters, rights concerns
/// and circle members (the latest name wins, so a corrected goal text reads corrected).
#[derive(Clone, Debug, Default)]
pub struct Names {
    goals: HashMap<GoalId, (NeedDomain, Identifying<String>)>,
    referrals: HashMap<ReferralId, (ExternalResource, Option<Identifying<String>>)>,
    services: HashMap<ServiceId, ServiceKind>,
    legal: HashMap<LegalMatterId, LegalArea>,
    rights: HashMap<RightsConcernId, ChildRight>,
    members: HashMap<CircleMemberId, (Relation, Identifying<String>)>,
}

impl Names {
    /// Names from `entries` (as they count now, in any order).
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a ChildEvent>) -> Self {
        let mut names = Self::default();
        for entry in entries {
            names.learn(entry);
        }
        names
    }

    fn learn(&mut self, event: &ChildEvent) {
        use ChildEvent::*;
        match event {
            ActionPlanAdopted(p) | ActionPlanRevised(p) => {
                for g in &p.goals {
                    self.goals
                        .insert(g.goal_id, (g.domain, g.description.clone()));
                }
            }
            ReferralMade(e) => {
                self.referrals
                    .insert(e.referral_id, (e.resource, e.organisation.clone()));
            }
            ServiceStarted(e) => {
                self.services.insert(e.service_id, e.kind);
            }
            LegalInterventionOpened(e) => {
                self.legal.insert(e.matter_id, e.area);
            }
            RightsConcernRaised(e) => {
                self.rights.insert(e.concern_id, e.right);
            }
            CircleMemberAdded(e) => {
                self.members
                    .insert(e.member_id, (e.relation, e.name.clone()));
            }
            _ => {}
        }
    }

    /// A goal's text, if the file has it.
    pub fn goal(&self, goal: &GoalId) -> Option<&Identifying<String>> {
        self.goals.get(goal).map(|(_, text)| text)
    }

    /// A circle member as "Name (relation)".
    pub fn member(&self, member: &CircleMemberId) -> Option<Identifying<String>> {
        self.members
            .get(member)
            .map(|(relation, name)| Identifying::new(format!("{} ({relation})", name.expose())))
    }

    fn members(&self, members: &[CircleMemberId]) -> Option<Identifying<String>> {
        let names: Vec<String> = members
            .iter()
            .filter_map(|m| self.member(m))
            .map(Identifying::into_inner)
            .collect();
        (!names.is_empty()).then(|| Identifying::new(names.join(", ")))
    }

    /// `event` in words, naming what it is about.
    pub fn describe(&self, event: &ChildEvent) -> Description {
        use ChildEvent::*;
        let plain = |text: String| Description { text, about: None };
        match event {
            GoalProgressRecorded(e) => match self.goals.get(&e.goal_id) {
                Some((domain, text)) => Description {
                    text: format!("goal in {domain} now {}", e.status),
                    about: Some(text.clone()),
                },
                None => plain(event.summary()),
            },
            ReferralMade(e) => Description {
                text: event.summary(),
                about: e.organisation.clone(),
            },
            ReferralOutcomeRecorded(e) => match self.referrals.get(&e.referral_id) {
                Some((resource, organisation)) => Description {
                    text: format!("{resource} referral outcome: {}", e.outcome),
                    about: organisation.clone(),
                },
                None => plain(event.summary()),
            },
            ServiceStarted(e) => Description {
                text: event.summary(),
                about: e.provider_name.clone(),
            },
            ServiceEnded(e) => match self.services.get(&e.service_id) {
                Some(kind) => plain(format!("{kind} service ended: {}", e.reason)),
                None => plain(event.summary()),
            },
            LegalInterventionConcluded(e) => match self.legal.get(&e.matter_id) {
                Some(area) => plain(format!(
                    "legal intervention ({area}) concluded: {}",
                    e.outcome
                )),
                None => plain(event.summary()),
            },
            RightsConcernResolved(e) => match self.rights.get(&e.concern_id) {
                Some(right) => plain(format!(
                    "rights concern ({right}) settled: {}",
                    e.resolution
                )),
                None => plain(event.summary()),
            },
            FamilyContactRecorded(e) => Description {
                text: event.summary(),
                about: self.members(&e.members),
            },
            ConsentGiven(e) => Description {
                text: event.summary(),
                about: e.member.and_then(|m| self.member(&m)),
            },
            CircleMemberAdded(e) => Description {
                text: event.summary(),
                about: Some(e.name.clone()),
            },
            CircleMemberLeft(e) => match self.members.get(&e.member_id) {
                Some((relation, name)) => Description {
                    text: format!("circle: {relation} left"),
                    about: Some(name.clone()),
                },
                None => plain(event.summary()),
            },
            _ => plain(event.summary()),
        }
    }
}
