//! Follow-up thresholds: how long each expected next step may take before it is a gap. Defaults
//! are DOMAIN.md's product proposals; centres override them in the configuration file.

use serde::{Deserialize, Serialize};

/// Thresholds of the follow-up rules (the `[follow_up]` table of `lifecourse.toml`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FollowUpRules {
    /// Request received, no initial assessment after this many days.
    pub initial_assessment_days: u32,
    /// Request accepted, no assessment meeting after this many days.
    pub first_meeting_days: u32,
    /// Meeting held, no action plan (adopted or revised) after this many days.
    pub plan_after_meeting_days: u32,
    /// Reassessment due this many months after the last meeting, unless the plan sets its date.
    pub reassessment_months: u32,
    /// External referral without an outcome this many days after it was made, unless it names
    /// its own expected date.
    pub referral_outcome_days: u32,
    /// Active file with no family contact for this many days.
    pub family_contact_days: u32,
    /// Legal intervention open without news for this many days.
    pub legal_no_news_days: u32,
    /// Rights concern open without news for this many days.
    pub rights_no_news_days: u32,
}

impl Default for FollowUpRules {
    fn default() -> Self {
        Self {
            initial_assessment_days: 7,
            first_meeting_days: 30,
            plan_after_meeting_days: 14,
            reassessment_months: 6,
            referral_outcome_days: 30,
            family_contact_days: 60,
            legal_no_news_days: 90,
            rights_no_news_days: 30,
        }
    }
}

impl FollowUpRules {
    /// A short fingerprint of the thresholds: stored read models were computed with one set, and
    /// must be rebuilt when it changes.
    pub fn fingerprint(&self) -> String {
        serde_json::to_string(self).expect("thresholds always serialise")
    }
}
