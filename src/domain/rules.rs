//! The file's lifecycle rules, stated over events: may this entry follow the file as it stands?
//! Commands become events first (`ChildFile::decide`) and are then admitted here, so the same rules
//! also re-check a history that a correction would change.

use lifecourse_events::*;

use lifecourse_projections::lifecycle::{Course, Lifecycle, Stage};

use super::error::ChildFileError as E;

type Result<T = ()> = std::result::Result<T, E>;

/// Plain-language name of an entry, for error messages.
pub fn label(event: &ChildEvent) -> &'static str {
    use ChildEvent::*;
    match event {
        ChildFileOpened(_) => "the file opening",
        InitialAssessmentCompleted(_) => "the initial assessment",
        AssessmentMeetingHeld(_) => "the meeting",
        ActionPlanAdopted(_) => "the action plan",
        ActionPlanRevised(_) => "the plan revision",
        GoalProgressRecorded(_) => "the goal progress",
        ServiceStarted(_) => "the service start",
        ServiceEnded(_) => "the service end",
        ReferralMade(_) => "the referral",
        ReferralOutcomeRecorded(_) => "the referral outcome",
        LegalInterventionOpened(_) => "the legal intervention",
        LegalInterventionConcluded(_) => "the legal conclusion",
        RightsConcernRaised(_) => "the rights concern",
        RightsConcernResolved(_) => "the rights resolution",
        FamilyContactRecorded(_) => "the family contact",
        CircleMemberAdded(_) => "the new circle member",
        CircleMemberLeft(_) => "the circle member's leaving",
        DevelopmentalScreeningRecorded(_) => "the screening",
        ConsentGiven(_) => "the consent",
        ConsentWithdrawn(_) => "the consent withdrawal",
        EntryCorrected(_) => "the correction",
        FileTransferred(_) => "the transfer",
        FileClosed(_) => "the closure",
        FileReopened(_) => "the reopening",
        IdentityErased(_) => "the erasure",
    }
}

/// Checks that `event` may be the next entry of a file in `state`. Corrections are checked by
/// `ChildFile`, which knows the entries they point at.
pub fn admit(state: &Lifecycle, event: &ChildEvent, today: ClinicalDate) -> Result {
    use ChildEvent::*;
    let what = label(event);
    if let Some(erased_on) = state.erased_on {
        return Err(E::FileErased { erased_on });
    }
    match (state.stage, event) {
        (Stage::NotOpened, ChildFileOpened(_)) => {}
        (Stage::NotOpened, _) => return Err(E::NoFile),
        (_, ChildFileOpened(_)) => {
            return Err(E::AlreadyOpened {
                opened_on: state.opened_on.unwrap_or(event.occurred_on()),
            })
        }
        (
            Stage::Closed,
            FileReopened(_) | ConsentGiven(_) | ConsentWithdrawn(_) | EntryCorrected(_)
            | IdentityErased(_),
        ) => {}
        (Stage::Closed, _) => {
            return Err(E::FileIsClosed {
                closed_on: state.closed_on().unwrap_or(event.occurred_on()),
                attempted: what,
            })
        }
        _ => {}
    }
    check_dates(state, event, today)?;
    entry_rules(state, event)?;
    milestone_order(state, event)
}

/// What each kind of entry needs of the file.
fn entry_rules(state: &Lifecycle, event: &ChildEvent) -> Result {
    use ChildEvent::*;
    let what = label(event);
    match event {
        ChildFileOpened(_) | IdentityErased(_) => Ok(()),
        InitialAssessmentCompleted(e) => initial_assessment(state, e),
        AssessmentMeetingHeld(e) => meeting(state, event, e),
        ActionPlanAdopted(p) => plan(state, event, p, false),
        ActionPlanRevised(p) => plan(state, event, p, true),
        GoalProgressRecorded(e) => {
            accepted(state, event)?;
            let plan = state.plan.as_ref().ok_or(E::NoPlanInForce {
                attempted: "record progress against",
            })?;
            known_goals(plan, [e.goal_id])?;
            match state.goals_ever.get(&e.goal_id) {
                Some(entered) => after(e.occurred_on, what, *entered, "the plan that set the goal"),
                None => Ok(()),
            }
        }
        ServiceStarted(e) => {
            accepted(state, event)?;
            fresh(&state.services, &e.service_id, "service")?;
            if e.provider == ServiceProvider::Volunteer && !e.kind.volunteers_may_deliver() {
                return Err(E::VolunteerCannotDeliver { kind: e.kind });
            }
            match &state.plan {
                Some(_) if e.linked_goals.is_empty() => Ok(()),
                Some(plan) => {
                    known_goals(plan, e.linked_goals.iter().copied())?;
                    after(e.occurred_on, what, plan.adopted_on, "the plan in force")
                }
                None if e.linked_goals.is_empty() => Ok(()),
                None => Err(E::NoPlanInForce {
                    attempted: "link a service to",
                }),
            }
        }
        ServiceEnded(e) => {
            let course = open_course(&state.services, &e.service_id, "service")?;
            after(e.occurred_on, what, course.began_on(), "the service start")
        }
        ReferralMade(e) => {
            accepted(state, event)?;
            fresh(&state.referrals, &e.referral_id, "referral")?;
            match e.expected_outcome_by {
                Some(expected) if expected < e.occurred_on => Err(E::ExpectedBeforeReferral {
                    expected,
                    made_on: e.occurred_on,
                }),
                _ => Ok(()),
            }
        }
        ReferralOutcomeRecorded(e) => {
            let course = open_course(&state.referrals, &e.referral_id, "referral")?;
            after(e.occurred_on, what, course.began_on(), "the referral")?;
            match &course.latest {
                // Outcomes of one referral are dated in the order they are recorded.
                Some(news) => after(
                    e.occurred_on,
                    what,
                    news.on,
                    "the referral's latest outcome",
                ),
                None => Ok(()),
            }
        }
        LegalInterventionOpened(e) => {
            accepted(state, event)?;
            fresh(&state.legal_matters, &e.matter_id, "legal intervention")
        }
        LegalInterventionConcluded(e) => {
            let course = open_course(&state.legal_matters, &e.matter_id, "legal intervention")?;
            after(
                e.occurred_on,
                what,
                course.began_on(),
                "the legal intervention",
            )
        }
        RightsConcernRaised(e) => {
            accepted(state, event)?;
            fresh(&state.rights_concerns, &e.concern_id, "rights concern")?;
            articles(&e.articles)
        }
        RightsConcernResolved(e) => {
            let course = open_course(&state.rights_concerns, &e.concern_id, "rights concern")?;
            after(e.occurred_on, what, course.began_on(), "the rights concern")
        }
        FamilyContactRecorded(e) => e
            .members
            .iter()
            .try_for_each(|m| in_circle(state, what, *m, e.occurred_on)),
        CircleMemberAdded(e) => {
            if state.circle.contains_key(&e.member_id) {
                return Err(E::MemberAlreadyInCircle {
                    member: e.member_id,
                });
            }
            if e.name.expose().trim().is_empty() {
                return Err(E::MemberWithoutName);
            }
            Ok(())
        }
        CircleMemberLeft(e) => {
            let member = state
                .circle
                .get(&e.member_id)
                .ok_or_else(|| E::NotInCircle {
                    what,
                    member: e.member_id,
                    on: e.occurred_on,
                    known: circle_today(state),
                })?;
            if let Some(left_on) = member.left_on {
                return Err(E::MemberAlreadyLeft {
                    member: e.member_id,
                    left_on,
                });
            }
            after(
                e.occurred_on,
                what,
                member.added.occurred_on,
                "the day they joined the circle",
            )?;
            match member.last_named_on {
                Some(named_on) if e.occurred_on <= named_on => Err(E::LeftBeforeNamed {
                    member: e.member_id,
                    left_on: e.occurred_on,
                    named_on,
                }),
                _ => Ok(()),
            }
        }
        DevelopmentalScreeningRecorded(e) => screening(e),
        ConsentGiven(e) => {
            consent_giver(state, e).and_then(|()| match state.consents.get(&e.scope) {
                Some(consent) => Err(E::ConsentAlreadyGiven {
                    scope: e.scope,
                    since: consent.since,
                }),
                None => match state.consent_changed_on.get(&e.scope) {
                    Some(withdrawn) => after(e.occurred_on, what, *withdrawn, "its withdrawal"),
                    None => Ok(()),
                },
            })
        }
        ConsentWithdrawn(e) => match state.consents.get(&e.scope) {
            Some(consent) => after(e.occurred_on, what, consent.since, "the consent"),
            None => Err(E::NoConsentToWithdraw { scope: e.scope }),
        },
        EntryCorrected(_) => Ok(()),
        FileTransferred(e) => {
            let centre = state.centre.clone().ok_or(E::NoFile)?;
            if e.to_centre == centre {
                return Err(E::SameCentre { centre });
            }
            if e.from_centre != centre {
                return Err(E::TransferFromWrongCentre {
                    expected: centre,
                    given: e.from_centre.clone(),
                });
            }
            Ok(())
        }
        FileClosed(e) => match state.latest_on {
            // A period of care cannot end before something that happened in it.
            Some(latest) => after(e.occurred_on, what, latest, "the latest entry"),
            None => Ok(()),
        },
        FileReopened(e) => match (state.stage, state.closed_on()) {
            (Stage::Closed, Some(closed_on)) => {
                after(e.occurred_on, what, closed_on, "the closure")
            }
            _ => Err(E::FileNotClosed),
        },
    }
}

/// No entry in the future, before the child's birth, or before the file was opened.
fn check_dates(state: &Lifecycle, event: &ChildEvent, today: ClinicalDate) -> Result {
    let (what, date) = (label(event), event.occurred_on());
    if date > today {
        return Err(E::DateInFuture { what, date, today });
    }
    let birth_date = match event {
        ChildEvent::ChildFileOpened(e) => {
            let birth = *e.child.birth_date.expose();
            if birth > today {
                return Err(E::DateInFuture {
                    what: "the date of birth",
                    date: birth,
                    today,
                });
            }
            Some(birth)
        }
        _ => state.birth_date.as_ref().and_then(|b| b.known().copied()),
    };
    if birth_date.is_some_and(|b| date < b) {
        return Err(E::DateBeforeBirth { what, date });
    }
    if let Some(opened) = state.opened_on {
        after(date, what, opened, "the file opening")?;
    }
    not_while_closed(state, event)
}

/// Nothing but a consent may be dated in a time when the file was closed (from a closure until
/// the next reopening): the file accepted nothing else then, so nothing else can have happened.
fn not_while_closed(state: &Lifecycle, event: &ChildEvent) -> Result {
    if matches!(
        event,
        ChildEvent::ConsentGiven(_)
            | ChildEvent::ConsentWithdrawn(_)
            | ChildEvent::EntryCorrected(_)
    ) {
        return Ok(());
    }
    let date = event.occurred_on();
    for (period, next) in state.periods.iter().zip(state.periods.iter().skip(1)) {
        if let Some(closed_on) = period.closed_on {
            if closed_on <= date && date < next.requested_on {
                return Err(E::DatedWhileClosed {
                    what: label(event),
                    date,
                    closed_on,
                    reopened_on: next.requested_on,
                });
            }
        }
    }
    Ok(())
}

/// A milestone (an entry that changes the stage, the plan in force or the centre) may not be
/// dated before the previous one, so that milestones happen in the order they are recorded and
/// clinical order tells the same story as the record.
fn milestone_order(state: &Lifecycle, event: &ChildEvent) -> Result {
    match state.milestone_on {
        Some(milestone) if Lifecycle::is_milestone(event) => after(
            event.occurred_on(),
            label(event),
            milestone,
            "the file's latest assessment, meeting, plan, transfer, closure or reopening",
        ),
        _ => Ok(()),
    }
}

fn after(
    date: ClinicalDate,
    what: &'static str,
    earlier_date: ClinicalDate,
    earlier_what: &'static str,
) -> Result {
    if date < earlier_date {
        Err(E::OutOfOrder {
            what,
            date,
            earlier_what,
            earlier_date,
        })
    } else {
        Ok(())
    }
}

/// The request is accepted, and `event` is not dated before the acceptance.
fn accepted(state: &Lifecycle, event: &ChildEvent) -> Result {
    let what = label(event);
    match (state.stage, state.accepted_on()) {
        (Stage::Active, Some(accepted_on)) => after(
            event.occurred_on(),
            what,
            accepted_on,
            "the acceptance of the request",
        ),
        _ => Err(E::NotAccepted {
            attempted: what,
            stage: state.stage,
        }),
    }
}

fn initial_assessment(state: &Lifecycle, e: &InitialAssessmentCompleted) -> Result {
    match state.stage {
        Stage::AwaitingAssessment | Stage::AwaitingDecision => {}
        Stage::Active => {
            return Err(E::AlreadyAssessed {
                decision: "accepted",
            })
        }
        _ => {
            return Err(E::AlreadyAssessed {
                decision: "redirected",
            })
        }
    }
    if let InitialDecision::Redirected { to } = &e.decision {
        if to.expose().trim().is_empty() {
            return Err(E::RedirectedNowhere);
        }
    }
    match state.request_on() {
        Some(request_on) => after(
            e.occurred_on,
            "the initial assessment",
            request_on,
            "the request",
        ),
        None => Ok(()),
    }
}

fn meeting(state: &Lifecycle, event: &ChildEvent, e: &AssessmentMeetingHeld) -> Result {
    accepted(state, event)?;
    let expected = state.meetings + 1;
    let expected_kind = if state.meetings == 0 {
        MeetingKind::Initial
    } else {
        MeetingKind::Reassessment
    };
    if e.meeting_number != expected || e.kind != expected_kind {
        return Err(E::MeetingNumbering {
            given: e.meeting_number,
            given_kind: e.kind,
            expected,
            expected_kind,
        });
    }
    if e.participants.is_empty() {
        return Err(E::NoParticipants);
    }
    for member in e.participants.iter().filter_map(|p| p.member) {
        in_circle(state, "the meeting", member, e.occurred_on)?;
    }
    if e.needs.is_empty() {
        return Err(E::NoNeedsAssessed);
    }
    let mut seen = std::collections::BTreeSet::new();
    for need in &e.needs {
        if !seen.insert(need.domain) {
            return Err(E::DuplicateNeedDomain {
                domain: need.domain,
            });
        }
    }
    Ok(())
}

fn plan(state: &Lifecycle, event: &ChildEvent, p: &ActionPlanVersion, revision: bool) -> Result {
    accepted(state, event)?;
    match (&state.plan, revision) {
        (Some(plan), false) => {
            return Err(E::PlanAlreadyInForce {
                version: plan.version,
            })
        }
        (None, true) => {
            return Err(E::NoPlanInForce {
                attempted: "revise",
            })
        }
        (None, false) if state.meeting_this_period().is_none() => {
            return Err(E::NoMeetingYet {
                request_on: state.request_on().unwrap_or(p.occurred_on),
            })
        }
        _ => {}
    }
    if p.plan_version != state.plan_versions + 1 || p.meeting_number != state.meetings {
        return Err(E::PlanNumbering {
            given: p.plan_version,
            given_meeting: p.meeting_number,
            expected: state.plan_versions + 1,
            expected_meeting: state.meetings,
        });
    }
    if p.goals.is_empty() {
        return Err(E::PlanWithoutGoals);
    }
    if let Some(last_meeting) = state.last_meeting_on {
        after(
            p.occurred_on,
            label_plan(revision),
            last_meeting,
            "the meeting",
        )?;
    }
    if let Some(current) = &state.plan {
        after(
            p.occurred_on,
            "the plan revision",
            current.adopted_on,
            "the plan in force",
        )?;
    }
    if let Some(activity) = state.goal_activity_on {
        // A version may drop goals: not before what was recorded against them.
        after(
            p.occurred_on,
            label_plan(revision),
            activity,
            "the latest goal progress or goal-linked service",
        )?;
    }
    let mut seen = std::collections::BTreeSet::new();
    for goal in &p.goals {
        if !seen.insert(goal.goal_id) {
            return Err(E::DuplicateGoal { goal: goal.goal_id });
        }
        responsible(state, goal, p.occurred_on)?;
        let is_carried = state
            .plan
            .as_ref()
            .is_some_and(|plan| plan.has_goal(goal.goal_id));
        if !is_carried && state.goals_ever.contains_key(&goal.goal_id) {
            return Err(E::GoalIdReused { goal: goal.goal_id });
        }
        if !is_carried && goal.target_on < p.occurred_on {
            return Err(E::TargetBeforePlan {
                goal: goal.goal_id,
                target_on: goal.target_on,
                plan_on: p.occurred_on,
            });
        }
    }
    match p.next_reassessment_on {
        Some(next) if next <= p.occurred_on => Err(E::ReassessmentNotAfterPlan {
            next,
            plan_on: p.occurred_on,
        }),
        _ => Ok(()),
    }
}

/// A goal's responsibility is shared among one or more distinct parties; circle members named
/// must be in the circle on the plan's date.
fn responsible(state: &Lifecycle, goal: &Goal, on: ClinicalDate) -> Result {
    if goal.responsible.is_empty() {
        return Err(E::GoalWithoutResponsible { goal: goal.goal_id });
    }
    let mut seen = std::collections::BTreeSet::new();
    for party in &goal.responsible {
        if !seen.insert(party) {
            return Err(E::DuplicateResponsible { goal: goal.goal_id });
        }
        if let Responsible::Member(member) = party {
            in_circle(state, "the plan", *member, on)?;
        }
    }
    Ok(())
}

/// `member` is part of the child's circle on `on`.
fn in_circle(
    state: &Lifecycle,
    what: &'static str,
    member: CircleMemberId,
    on: ClinicalDate,
) -> Result {
    match state.circle.get(&member) {
        Some(m) if m.member_on(on) => Ok(()),
        _ => Err(E::NotInCircle {
            what,
            member,
            on,
            known: circle_today(state),
        }),
    }
}

/// The circle's members today, for error messages: ids and relations, never names.
fn circle_today(state: &Lifecycle) -> String {
    let members: Vec<String> = state
        .current_circle()
        .map(|m| format!("{} ({})", m.added.member_id, m.added.relation))
        .collect();
    if members.is_empty() {
        "nobody recorded".into()
    } else {
        members.join(", ")
    }
}

/// A significant adult who consents is named, and is in the circle; the child consents alone.
fn consent_giver(state: &Lifecycle, e: &ConsentGiven) -> Result {
    match (e.given_by, e.member) {
        (ConsentGiver::SignificantAdult, None) => Err(E::ConsentGiverNotNamed),
        (ConsentGiver::Child, Some(_)) => Err(E::ChildConsentWithMember),
        (_, Some(member)) => in_circle(state, "the consent", member, e.occurred_on),
        (_, None) => Ok(()),
    }
}

/// A screening gives, for domains of its own instrument (each once), a score within range or a
/// band of the instrument.
fn screening(e: &DevelopmentalScreeningRecorded) -> Result {
    if e.results.is_empty() {
        return Err(E::ScreeningWithoutResults);
    }
    let instrument = e.instrument;
    let list = |items: &mut dyn Iterator<Item = String>| items.collect::<Vec<_>>().join(", ");
    let mut seen = std::collections::BTreeSet::new();
    for result in &e.results {
        let domain = result.domain;
        if !instrument.domains().contains(&domain) {
            return Err(E::ScreeningDomainNotInInstrument {
                domain,
                instrument: instrument.name(),
                expected: list(&mut instrument.domains().iter().map(|d| d.as_str().to_string())),
            });
        }
        if !seen.insert(domain) {
            return Err(E::DuplicateScreeningDomain { domain });
        }
        if result.score.is_none() && result.band.is_none() {
            return Err(E::ScreeningResultEmpty { domain });
        }
        if let Some(score) = result.score.filter(|s| *s > instrument.max_score()) {
            return Err(E::ScreeningScoreTooHigh {
                domain,
                score,
                instrument: instrument.name(),
                max: instrument.max_score(),
            });
        }
        if let Some(band) = result.band.filter(|b| !instrument.bands().contains(b)) {
            return Err(E::ScreeningBandNotInInstrument {
                band,
                instrument: instrument.name(),
                expected: list(&mut instrument.bands().iter().map(|b| b.as_str().to_string())),
            });
        }
    }
    Ok(())
}

fn label_plan(revision: bool) -> &'static str {
    if revision {
        "the plan revision"
    } else {
        "the action plan"
    }
}

fn known_goals(
    plan: &lifecourse_projections::lifecycle::PlanInForce,
    wanted: impl IntoIterator<Item = GoalId>,
) -> Result {
    for goal in wanted {
        if !plan.has_goal(goal) {
            return Err(E::UnknownGoal {
                goal,
                plan_version: plan.version,
                known: plan
                    .goals
                    .iter()
                    .map(|g| g.goal_id.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(())
}

fn fresh<K: Ord + ToString, S, H>(
    items: &std::collections::BTreeMap<K, Course<S, H>>,
    id: &K,
    kind: &'static str,
) -> Result {
    if items.contains_key(id) {
        Err(E::DuplicateId {
            kind,
            id: id.to_string(),
        })
    } else {
        Ok(())
    }
}

fn open_course<'a, K: Ord + ToString, S, H: std::fmt::Display>(
    items: &'a std::collections::BTreeMap<K, Course<S, H>>,
    id: &K,
    kind: &'static str,
) -> Result<&'a Course<S, H>> {
    let item = items.get(id).ok_or_else(|| E::UnknownItem {
        kind,
        id: id.to_string(),
        known: if items.is_empty() {
            String::new()
        } else {
            format!(
                "; known: {}",
                items
                    .keys()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
    })?;
    match &item.ended {
        Some(ended) => Err(E::AlreadyFinished {
            kind,
            id: id.to_string(),
            state: ended.how.to_string(),
            on: ended.on,
        }),
        None => Ok(item),
    }
}

fn articles(articles: &[ConventionArticle]) -> Result {
    if articles.is_empty() {
        return Err(E::NoArticles);
    }
    let mut seen = std::collections::BTreeSet::new();
    for article in articles {
        if !seen.insert(article.number()) {
            return Err(E::DuplicateArticle {
                article: article.number(),
            });
        }
    }
    Ok(())
}
