//! The centre's worklist: the follow-up gaps as of a date, most overdue first, each naming the
//! child and what is overdue, with a count per rule and filters by rule and responsible party.

use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::Response;
use lifecourse_events::*;
use lifecourse_projections::{FollowUpRule, Gap, Subject};
use maud::{html, Markup};

use super::labels::{self, labels};
use super::layout::page;
use super::{
    app_error, bad_query, html_response, moment_text, parse_date, parse_moment, Fields, Viewer,
};
use crate::app::{file_number, ChildBrief, NamedWorklist};

/// What the worklist is asked to show.
struct Filters {
    centre: Option<CentreId>,
    as_of: ClinicalDate,
    known_at: Option<chrono::DateTime<chrono::Utc>>,
    rule: Option<FollowUpRule>,
    responsible: Option<ResponsibleParty>,
}

/// GET /pages/worklist?centre=&as_of=&known_at=&rule=&responsible=
pub async fn show(viewer: Viewer, RawQuery(raw): RawQuery) -> Response {
    let chrome = viewer.chrome();
    let q = Fields::from_query(&raw);
    let filters = match filters(&viewer, &q).await {
        Ok(f) => f,
        Err(Ok(message)) => return bad_query(Some(&chrome), message),
        Err(Err(e)) => return app_error(Some(&chrome), e),
    };
    let answer = match viewer
        .app
        .named_worklist(filters.centre.as_ref(), filters.as_of, filters.known_at)
        .await
    {
        Ok(a) => a,
        Err(e) => return app_error(Some(&chrome), e),
    };
    let l = labels();
    let markup = html! {
        h1 { (l.worklist_title) }
        (filter_bar(&viewer, &filters))
        @if answer.freshness.behind > 0 { p.notice { (l.behind) } }
        (rows(&answer.value, &filters))
    };
    html_response(
        StatusCode::OK,
        page(l.worklist_title, Some(&chrome), markup),
    )
}

/// The filters from the query string; Err(Ok) for a bad value, Err(Err) for the store.
async fn filters(
    viewer: &Viewer,
    q: &Fields,
) -> Result<Filters, Result<String, crate::app::AppError>> {
    let centre = match q.get("centre") {
        Some(c) => Some(CentreId::parse(c.to_string()).map_err(|e| Ok(format!("centre: {e}")))?),
        None => viewer.principal.centres.first().cloned(),
    };
    let as_of = match parse_date("as_of", q.get("as_of")).map_err(Ok)? {
        Some(d) => d,
        None => viewer.app.today(centre.as_ref()).await.map_err(Err)?,
    };
    let known_at = parse_moment("known_at", q.get("known_at")).map_err(Ok)?;
    let rule = q
        .get("rule")
        .map(|r| r.parse::<FollowUpRule>())
        .transpose()
        .map_err(Ok)?;
    let responsible = q
        .get("responsible")
        .map(|r| {
            ResponsibleParty::ALL
                .iter()
                .copied()
                .find(|p| p.as_str() == r)
                .ok_or_else(|| format!("responsible: unknown party {r:?}"))
        })
        .transpose()
        .map_err(Ok)?;
    Ok(Filters {
        centre,
        as_of,
        known_at,
        rule,
        responsible,
    })
}

/// Whether `party` answers for a gap: one of the goal's responsible roles (responsibility may be
/// shared), else the centre team for what is not about a goal.
fn answers_for(party: ResponsibleParty, gap: &Gap, child: Option<&ChildBrief>) -> bool {
    match (gap.subject, child) {
        (Some(Subject::Goal(goal)), Some(child)) => child
            .goals
            .get(&goal)
            .is_some_and(|(_, parties)| parties.contains(&Responsible::Role(party))),
        _ => party == ResponsibleParty::CentreTeam,
    }
}

/// Who answers for a gap, in words: the goal's responsible parties (shared), else the centre
/// team.
fn who_answers(gap: &Gap, child: Option<&ChildBrief>) -> String {
    match (gap.subject, child) {
        (Some(Subject::Goal(goal)), Some(child)) => child
            .goals
            .get(&goal)
            .map(|(_, parties)| labels::responsible(parties, &[]))
            .unwrap_or_else(|| labels::word(ResponsibleParty::CentreTeam)),
        _ => labels::word(ResponsibleParty::CentreTeam),
    }
}

/// What a gap is about, in words: the referral's resource and organisation, the goal's text.
pub fn subject_text(subject: Option<Subject>, child: Option<&ChildBrief>) -> String {
    let (Some(subject), Some(child)) = (subject, child) else {
        return String::new();
    };
    match subject {
        Subject::Goal(id) => child
            .goals
            .get(&id)
            .map(|(text, _)| text.expose().clone())
            .unwrap_or_default(),
        Subject::Referral(id) => child
            .referrals
            .get(&id)
            .map(|(resource, organisation)| match organisation {
                Some(o) => format!("{} ({})", labels::word(resource), o.expose()),
                None => labels::word(resource),
            })
            .unwrap_or_default(),
        Subject::LegalMatter(id) => child
            .legal_matters
            .get(&id)
            .map(labels::word)
            .unwrap_or_default(),
        Subject::RightsConcern(id) => child
            .rights_concerns
            .get(&id)
            .map(labels::word)
            .unwrap_or_default(),
    }
}

fn filter_bar(viewer: &Viewer, f: &Filters) -> Markup {
    let l = labels();
    html! {
        form.bar method="get" action="/pages/worklist" aria-label=(l.worklist_title) {
            @if viewer.principal.centres.len() > 1 {
                label { (l.centre)
                    select name="centre" {
                        @for c in &viewer.principal.centres {
                            option value=(c) selected[f.centre.as_ref() == Some(c)] { (c) }
                        }
                    }
                }
            }
            label { (l.as_of) input type="date" name="as_of" value=(f.as_of); }
            label { (l.known_at) input type="datetime-local" name="known_at"
                value=[f.known_at.as_ref().map(moment_text)] title=(l.known_at_hint); }
            label { (l.rule)
                select name="rule" {
                    option value="" { (l.any) }
                    @for r in FollowUpRule::ALL {
                        option value=(r.as_str()) selected[f.rule == Some(*r)] { (labels::rule(*r)) }
                    }
                }
            }
            label { (l.responsible)
                select name="responsible" {
                    option value="" { (l.any) }
                    @for p in ResponsibleParty::ALL {
                        option value=(p.as_str()) selected[f.responsible == Some(*p)] { (labels::word(p)) }
                    }
                }
            }
            button type="submit" { (l.show) }
        }
    }
}

fn rows(list: &NamedWorklist, f: &Filters) -> Markup {
    let l = labels();
    let by_responsible: Vec<&Gap> = list
        .gaps
        .iter()
        .filter(|g| {
            f.responsible
                .is_none_or(|p| answers_for(p, g, list.children.get(&g.child_id)))
        })
        .collect();
    let counts: Vec<(FollowUpRule, usize)> = FollowUpRule::ALL
        .iter()
        .map(|r| (*r, by_responsible.iter().filter(|g| g.rule == *r).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    let shown: Vec<&Gap> = by_responsible
        .into_iter()
        .filter(|g| f.rule.is_none_or(|r| g.rule == r))
        .collect();
    html! {
        h2 { (l.gaps_per_rule) }
        @if counts.is_empty() {
            p { (l.no_gaps) }
        } @else {
            ul.counts {
                @for (rule, n) in &counts {
                    li { (labels::rule(*rule)) ": " strong { (n) } }
                }
            }
        }
        @if !shown.is_empty() {
            h2 { (shown.len()) " " (l.gaps_shown) }
            p.hint { (l.responsible_note) }
            table {
                thead { tr {
                    th scope="col" { (l.child) } th scope="col" { (l.file_number) }
                    th scope="col" { (l.overdue) } th scope="col" { (l.what) }
                    th scope="col" { (l.responsible) } th scope="col" { (l.due_on) }
                    th scope="col" { (l.days_overdue) }
                } }
                tbody {
                    @for gap in shown {
                        @let child = list.children.get(&gap.child_id);
                        tr {
                            td { a href={ "/pages/children/" (gap.child_id) } {
                                @match child {
                                    Some(c) => { (c.given_name.expose()) " " (c.family_name.expose()) }
                                    None => { (file_number(gap.child_id)) }
                                }
                            } }
                            td { (file_number(gap.child_id)) }
                            td { (labels::rule(gap.rule)) }
                            td { (subject_text(gap.subject, child)) }
                            td { (who_answers(gap, child)) }
                            td { (labels::date(gap.due_on)) }
                            td { (gap.days_overdue) }
                        }
                    }
                }
            }
        }
    }
}
