//! Centre indicators for continuous improvement and certification, over a period: how long
//! requests wait, whether referrals get their outcome and reassessments happen on time, and how
//! many goals are attained. Each indicator says how many cases it rests on.

use lifecourse_events::*;
use serde::{Deserialize, Serialize};

use crate::follow_up::{Expectation, FollowUpRule, ResolutionKind};
use crate::trajectory::Trajectory;

/// A median number of days over `cases` cases (`None` when there are none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MedianDays {
    pub cases: usize,
    pub median: Option<f64>,
}

/// `count` of `of` cases (`share` is `None` when there are none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub count: usize,
    pub of: usize,
    pub share: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoalAttainment {
    /// Goals whose target date falls in the period.
    pub goals: usize,
    pub achieved: usize,
    pub partially_achieved: usize,
    pub not_achieved: usize,
    pub abandoned: usize,
    /// In progress or not started at the end of the period.
    pub under_way: usize,
    pub no_progress_recorded: usize,
    pub achieved_share: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Indicators {
    pub centre: Option<CentreId>,
    pub from: ClinicalDate,
    pub to: ClinicalDate,
    /// Requests received in the period: days from the request to its initial assessment.
    pub request_to_assessment: MedianDays,
    /// Requests received in the period: days from the request to the first meeting after it.
    pub request_to_first_meeting: MedianDays,
    /// Meetings held in the period: days from the meeting to the plan that followed it.
    pub meeting_to_plan: MedianDays,
    /// External referrals expected back in the period: share with a final outcome by then.
    pub referral_outcome_by_expected_date: Share,
    /// Reassessments due in the period: share held by their due date.
    pub reassessments_on_time: Share,
    pub goal_attainment: GoalAttainment,
}

/// The indicators of `centre` (all centres when `None`) for `from..=to`.
pub fn indicators(
    trajectories: &[Trajectory],
    expectations: &[Expectation],
    centre: Option<&CentreId>,
    from: ClinicalDate,
    to: ClinicalDate,
) -> Indicators {
    let in_period = |d: ClinicalDate| from <= d && d <= to;
    let here = |c: Option<&CentreId>| centre.is_none() || c == centre;

    let episodes = trajectories
        .iter()
        .flat_map(|t| &t.episodes)
        .filter(|e| in_period(e.requested_on) && here(Some(&e.centre)));
    let (mut to_assessment, mut to_meeting) = (vec![], vec![]);
    for e in episodes {
        if let Some(d) = e.assessed_on {
            to_assessment.push(e.requested_on.days_until(d));
        }
        if let Some(d) = e.first_meeting_on {
            to_meeting.push(e.requested_on.days_until(d));
        }
    }

    let mut to_plan = vec![];
    for t in trajectories {
        for m in t
            .meetings
            .iter()
            .filter(|m| in_period(m.occurred_on) && here(m.centre.as_ref()))
        {
            if let Some(plan) = t
                .plans
                .iter()
                .find(|p| p.meeting_number == m.meeting_number)
            {
                to_plan.push(m.occurred_on.days_until(plan.adopted_on));
            }
        }
    }

    // Referrals and reassessments are counted from the worklist's own expectations: each one
    // still expected on its due date (not moved, handed to another centre or closed before
    // then), at the centre responsible that day; on time if its step came by the due date.
    let on_time = |rule: FollowUpRule| -> Vec<bool> {
        expectations
            .iter()
            .filter(|e| e.rule == rule && in_period(e.due_on) && here(Some(&e.centre)))
            .filter(|e| {
                e.created_on <= e.due_on
                    && e.resolution
                        .is_none_or(|r| r.kind == ResolutionKind::Fulfilled || r.on > e.due_on)
            })
            .map(|e| {
                e.resolution
                    .is_some_and(|r| r.kind == ResolutionKind::Fulfilled && r.on <= e.due_on)
            })
            .collect()
    };
    let referrals = on_time(FollowUpRule::ReferralOutcome);
    let reassessments = on_time(FollowUpRule::Reassessment);

    let mut goals = GoalAttainment {
        goals: 0,
        achieved: 0,
        partially_achieved: 0,
        not_achieved: 0,
        abandoned: 0,
        under_way: 0,
        no_progress_recorded: 0,
        achieved_share: None,
    };
    for g in trajectories
        .iter()
        .flat_map(|t| &t.goals)
        .filter(|g| in_period(g.target_on) && here(g.centre.as_ref()))
    {
        goals.goals += 1;
        match g.status_on(to) {
            Some(GoalStatus::Achieved) => goals.achieved += 1,
            Some(GoalStatus::PartiallyAchieved) => goals.partially_achieved += 1,
            Some(GoalStatus::NotAchieved) => goals.not_achieved += 1,
            Some(GoalStatus::Abandoned) => goals.abandoned += 1,
            Some(GoalStatus::InProgress | GoalStatus::NotStarted) => goals.under_way += 1,
            None => goals.no_progress_recorded += 1,
        }
    }
    goals.achieved_share = ratio(goals.achieved, goals.goals);

    Indicators {
        centre: centre.cloned(),
        from,
        to,
        request_to_assessment: median_days(to_assessment),
        request_to_first_meeting: median_days(to_meeting),
        meeting_to_plan: median_days(to_plan),
        referral_outcome_by_expected_date: share(&referrals),
        reassessments_on_time: share(&reassessments),
        goal_attainment: goals,
    }
}

fn ratio(count: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| count as f64 / of as f64)
}

fn share(cases: &[bool]) -> Share {
    let count = cases.iter().filter(|c| **c).count();
    Share {
        count,
        of: cases.len(),
        share: ratio(count, cases.len()),
    }
}

/// The median of whole days: the middle value, or the mean of the two middle values.
pub fn median_days(mut days: Vec<i64>) -> MedianDays {
    days.sort_unstable();
    let n = days.len();
    let median = match n {
        0 => None,
        _ if n % 2 == 1 => Some(days[n / 2] as f64),
        _ => Some((days[n / 2 - 1] + days[n / 2]) as f64 / 2.0),
    };
    MedianDays { cases: n, median }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median_days(vec![]).median, None);
        assert_eq!(median_days(vec![9, 1, 5]).median, Some(5.0));
        assert_eq!(median_days(vec![4, 1, 10, 2]).median, Some(3.0));
    }
}
