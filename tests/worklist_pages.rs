//! A coordinator reads the follow-up worklist one page at a time, for one centre, on any day:
//! the store filters and pages it, and a transferred child's earlier gaps stay with the centre
//! that had the file then.

mod common;

use common::{calendar, TestStore};
use lifecourse::app::{App, Page};
use lifecourse::fixtures::*;
use lifecourse_events::*;
use lifecourse_projections::{expectations, gaps_on, ChildHistory, FollowUpRules, Gap};

async fn record(
    store: &TestStore,
    child: ChildId,
    key: &str,
    command: lifecourse::ChildFileCommand,
) {
    store
        .record(calendar(), request(child, key, command))
        .await
        .unwrap();
}

/// (rule, child, centre, due_on, days_overdue) of each gap, with children named "a" and "b".
type Line = (&'static str, &'static str, String, String, i64);

async fn worklist(
    app: &App,
    names: &[(ChildId, &'static str)],
    centre: Option<&str>,
    as_of: &str,
    page: Page,
) -> (usize, Vec<Line>) {
    let centre = centre.map(|c| CentreId::parse(c).unwrap());
    let answer = app
        .gaps(centre.as_ref(), date(as_of), None, page)
        .await
        .unwrap();
    assert_eq!(answer.freshness.behind, 0);
    let lines = answer
        .value
        .gaps
        .iter()
        .map(|g| {
            let name = names.iter().find(|(c, _)| *c == g.child_id).unwrap().1;
            (
                g.rule.as_str(),
                name,
                g.centre.to_string(),
                g.due_on.to_string(),
                g.days_overdue,
            )
        })
        .collect();
    (answer.value.total, lines)
}

fn line(rule: &'static str, child: &'static str, centre: &str, due: &str, overdue: i64) -> Line {
    (rule, child, centre.to_string(), due.to_string(), overdue)
}

async fn the_worklist_is_filtered_and_paged_by_the_store(store: TestStore) {
    // a: opened 1 March, accepted 4 March: first meeting due 3 April (30 days), family contact
    //    due 3 May (60 days).
    // b: opened 10 March (initial assessment due 17 March), accepted 20 March (first meeting due
    //    19 April, family contact 19 May), transferred to Hochelaga on 1 April.
    let (a, b) = (ChildId::new_random(), ChildId::new_random());
    record(&store, a, "a-open", open_file("2024-03-01", "2017-05-10")).await;
    record(&store, a, "a-accept", accept("2024-03-04")).await;
    record(&store, b, "b-open", open_file("2024-03-10", "2018-01-20")).await;
    record(&store, b, "b-accept", accept("2024-03-20")).await;
    record(&store, b, "b-transfer", transfer("2024-04-01", "hochelaga")).await;
    let app = App::new(store.store.clone());
    common::catch_up_fully(&app).await;
    let names = [(a, "a"), (b, "b")];

    // Before the transfer, b's late assessment was Centre-Sud's.
    assert_eq!(
        worklist(&app, &names, Some("centre-sud"), "2024-03-19", Page::ALL).await,
        (
            1,
            vec![line(
                "initial_assessment",
                "b",
                "centre-sud",
                "2024-03-17",
                2
            )]
        )
    );
    assert_eq!(
        worklist(&app, &names, Some("hochelaga"), "2024-03-19", Page::ALL).await,
        (0, vec![])
    );
    // After it, b's open expectations are Hochelaga's, with the same due dates.
    assert_eq!(
        worklist(&app, &names, Some("centre-sud"), "2024-04-25", Page::ALL).await,
        (
            1,
            vec![line("first_meeting", "a", "centre-sud", "2024-04-03", 22)]
        )
    );
    assert_eq!(
        worklist(&app, &names, Some("hochelaga"), "2024-04-25", Page::ALL).await,
        (
            1,
            vec![line("first_meeting", "b", "hochelaga", "2024-04-19", 6)]
        )
    );

    // On 25 May every centre has four gaps, most overdue first; pages of them.
    let all = vec![
        line("first_meeting", "a", "centre-sud", "2024-04-03", 52),
        line("first_meeting", "b", "hochelaga", "2024-04-19", 36),
        line("family_contact", "a", "centre-sud", "2024-05-03", 22),
        line("family_contact", "b", "hochelaga", "2024-05-19", 6),
    ];
    assert_eq!(
        worklist(&app, &names, None, "2024-05-25", Page::ALL).await,
        (4, all.clone())
    );
    let page = |offset, limit| Page {
        offset,
        limit: Some(limit),
    };
    assert_eq!(
        worklist(&app, &names, None, "2024-05-25", page(1, 2)).await,
        (4, all[1..3].to_vec())
    );
    assert_eq!(
        worklist(&app, &names, None, "2024-05-25", page(3, 10)).await,
        (4, all[3..].to_vec())
    );
    assert_eq!(
        worklist(&app, &names, None, "2024-05-25", page(4, 10)).await,
        (4, vec![])
    );
    // No gap on the due date itself.
    assert_eq!(
        worklist(&app, &names, Some("centre-sud"), "2024-04-03", Page::ALL).await,
        (0, vec![])
    );

    // Later, a's family contact and b's first meeting happen (a's first meeting never does).
    // On 25 May the worklist is the same four gaps: two of them resolved after that day, two
    // not resolved at all, and pages straddle the two kinds.
    record(&store, a, "a-contact", contact("2024-06-01")).await;
    record(&store, b, "b-meeting", meeting("2024-06-05")).await;
    common::catch_up_fully(&app).await;
    assert_eq!(
        worklist(&app, &names, None, "2024-05-25", Page::ALL).await,
        (4, all.clone())
    );
    for offset in 0..5 {
        for limit in 1..4 {
            let end = (offset + limit).min(all.len());
            let expected = all[offset.min(all.len())..end].to_vec();
            assert_eq!(
                worklist(&app, &names, None, "2024-05-25", page(offset, limit)).await,
                (4, expected),
                "offset {offset}, limit {limit}"
            );
        }
    }
    assert_eq!(
        worklist(&app, &names, Some("centre-sud"), "2024-05-25", page(1, 1)).await,
        (2, all[2..3].to_vec())
    );
    // On 10 June only a's first meeting is still overdue in Centre-Sud (its next family contact
    // is due on 31 July).
    assert_eq!(
        worklist(&app, &names, Some("centre-sud"), "2024-06-10", Page::ALL).await,
        (
            1,
            vec![line("first_meeting", "a", "centre-sud", "2024-04-03", 68)]
        )
    );
}

/// The worklist the store filters, orders and pages in SQL is the fold's own (`gaps_on` over
/// every expectation folded straight from each child's events), on every day tried — before,
/// between and after entries, many recorded late and dated back, some corrected — for every
/// centre and for each one, whole and page by page.
async fn the_stores_worklist_is_the_folds_on_every_day(store: TestStore) {
    let mut children = common::journeys::record_journeys(&store, 15, 3).await;
    children.extend(common::record_cohort(&store, 25).await);
    let app = App::new(store.store.clone());
    common::catch_up_fully(&app).await;
    let rules = FollowUpRules::default();
    let mut folded = Vec::new();
    for child in &children {
        let history = ChildHistory::from_events(store.history(*child).await.unwrap());
        folded.extend(expectations(&history, &rules));
    }
    let mut centres: Vec<Option<CentreId>> =
        folded.iter().map(|e| Some(e.centre.clone())).collect();
    centres.sort();
    centres.dedup();
    centres.push(None);
    let line = |g: &Gap| {
        (
            g.child_id,
            g.rule,
            g.subject,
            g.centre.clone(),
            g.due_on,
            g.days_overdue,
        )
    };
    let (mut days, mut gaps_seen) = (0, 0);
    let mut as_of = date("2020-01-01");
    while as_of <= date("2026-12-31") {
        for centre in &centres {
            let expected: Vec<_> = gaps_on(
                folded
                    .iter()
                    .filter(|e| centre.as_ref().is_none_or(|c| e.centre == *c)),
                as_of,
            )
            .iter()
            .map(line)
            .collect();
            let whole = app
                .gaps(centre.as_ref(), as_of, None, Page::ALL)
                .await
                .unwrap()
                .value;
            assert_eq!(whole.total, expected.len(), "{as_of}, {centre:?}");
            let got: Vec<_> = whole.gaps.iter().map(line).collect();
            assert_eq!(got, expected, "{as_of}, {centre:?}");
            let n = expected.len();
            for (offset, limit) in [(0, 1), (0, 7), (3, 7), (n.saturating_sub(4), 7), (n, 3)] {
                let page = app
                    .gaps(
                        centre.as_ref(),
                        as_of,
                        None,
                        Page {
                            offset,
                            limit: Some(limit),
                        },
                    )
                    .await
                    .unwrap()
                    .value;
                let got: Vec<_> = page.gaps.iter().map(line).collect();
                let wanted = &expected[offset.min(n)..(offset + limit).min(n)];
                assert_eq!(page.total, n, "{as_of}, {centre:?}, offset {offset}");
                assert_eq!(
                    got, wanted,
                    "{as_of}, {centre:?}, offset {offset}, limit {limit}"
                );
            }
            days += 1;
            gaps_seen += n;
        }
        as_of = as_of.plus_days(61);
    }
    assert!(centres.len() >= 2, "the files have a centre");
    assert!(
        days > 80 && gaps_seen > 500,
        "{days} lists, {gaps_seen} gaps"
    );
}

on_both_stores!(
    the_worklist_is_filtered_and_paged_by_the_store,
    the_stores_worklist_is_the_folds_on_every_day,
);
