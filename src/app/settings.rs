//! Shared settings: the follow-up thresholds, stored in the database with the read models (so
//! every process judges the worklist alike) and changed only through `settings set`, which
//! rebuilds the read models that depend on them.

use lifecourse_projections::FollowUpRules;
use serde::Serialize;

use super::{App, AppError, InvalidInput};
use crate::runner::Projection;

/// One setting: its key, what it means, its accepted range and how to apply it.
pub struct Setting {
    pub key: &'static str,
    pub meaning: &'static str,
    pub min: u32,
    pub max: u32,
    field: fn(&mut FollowUpRules) -> &mut u32,
}

/// Days are bounded at 10 years and months at 20 years: enough for any follow-up delay, and far
/// from where adding them to a clinical date could overflow the calendar.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "follow_up.initial_assessment_days",
        meaning: "request received (opened or reopened), no initial assessment",
        min: 1,
        max: 3650,
        field: |r| &mut r.initial_assessment_days,
    },
    Setting {
        key: "follow_up.first_meeting_days",
        meaning: "request accepted, no assessment meeting",
        min: 1,
        max: 3650,
        field: |r| &mut r.first_meeting_days,
    },
    Setting {
        key: "follow_up.plan_after_meeting_days",
        meaning: "meeting held, no action plan adopted or revised",
        min: 1,
        max: 3650,
        field: |r| &mut r.plan_after_meeting_days,
    },
    Setting {
        key: "follow_up.reassessment_months",
        meaning: "reassessment due this long after the last meeting, unless the plan sets its date",
        min: 1,
        max: 240,
        field: |r| &mut r.reassessment_months,
    },
    Setting {
        key: "follow_up.referral_outcome_days",
        meaning: "external referral without a final outcome, unless it names its expected date",
        min: 1,
        max: 3650,
        field: |r| &mut r.referral_outcome_days,
    },
    Setting {
        key: "follow_up.family_contact_days",
        meaning: "active (accepted, not closed) file with no family contact",
        min: 1,
        max: 3650,
        field: |r| &mut r.family_contact_days,
    },
    Setting {
        key: "follow_up.legal_no_news_days",
        meaning: "legal intervention open without conclusion",
        min: 1,
        max: 3650,
        field: |r| &mut r.legal_no_news_days,
    },
    Setting {
        key: "follow_up.rights_no_news_days",
        meaning: "rights concern open without resolution",
        min: 1,
        max: 3650,
        field: |r| &mut r.rights_no_news_days,
    },
];

/// A setting's value as `settings show` gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SettingValue {
    pub key: &'static str,
    pub value: u32,
    pub default: u32,
    pub meaning: &'static str,
}

fn setting(key: &str) -> Result<&'static Setting, InvalidInput> {
    SETTINGS.iter().find(|s| s.key == key).ok_or_else(|| {
        InvalidInput::UnknownSetting(
            key.to_string(),
            SETTINGS
                .iter()
                .map(|s| s.key)
                .collect::<Vec<_>>()
                .join(", "),
        )
    })
}

/// Parses and range-checks a value given for `key`.
pub fn parse_value(key: &str, value: &str) -> Result<u32, InvalidInput> {
    let s = setting(key)?;
    let out_of_range = || InvalidInput::OutOfRange {
        what: key.to_string(),
        min: u64::from(s.min),
        max: u64::from(s.max),
        got: value.to_string(),
    };
    let n: u64 = value.trim().parse().map_err(|_| out_of_range())?;
    if n < u64::from(s.min) || n > u64::from(s.max) {
        return Err(out_of_range());
    }
    Ok(n as u32)
}

impl App {
    /// The follow-up thresholds in force: the defaults, overridden by what `settings set` stored.
    pub async fn follow_up_rules(&self) -> Result<FollowUpRules, AppError> {
        let mut rules = FollowUpRules::default();
        for (key, value) in self.store.settings().await? {
            // A key or value this release does not know is ignored rather than fatal: an older
            // binary reading a newer database keeps the defaults for it.
            if let (Ok(s), Ok(v)) = (setting(&key), u32::try_from(value)) {
                *(s.field)(&mut rules) = v.clamp(s.min, s.max);
            }
        }
        Ok(rules)
    }

    /// Every setting with its value in force and its default.
    pub async fn settings(&self) -> Result<Vec<SettingValue>, AppError> {
        let mut rules = self.follow_up_rules().await?;
        let mut defaults = FollowUpRules::default();
        Ok(SETTINGS
            .iter()
            .map(|s| SettingValue {
                key: s.key,
                value: *(s.field)(&mut rules),
                default: *(s.field)(&mut defaults),
                meaning: s.meaning,
            })
            .collect())
    }

    /// Stores a setting, then rebuilds the read models computed with the old value; returns
    /// the value stored.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<u32, AppError> {
        let value = parse_value(key, value)?;
        self.store.put_setting(key, i64::from(value)).await?;
        let runner = self.runner().await?;
        runner
            .rebuild(&[Projection::ActionPlan, Projection::FollowUp], |_| {})
            .await?;
        Ok(value)
    }
}
