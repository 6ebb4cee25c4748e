//! The chart of needs by domain across meetings, drawn on the server as inline SVG: one line per
//! domain, the level of need (no concern at the bottom, severe at the top) at each meeting, so a
//! change over time is seen at a glance. A table of the same figures follows for screen readers.

use lifecourse_events::*;
use lifecourse_projections::{MeetingRecord, NeedsGrid};
use maud::{html, Markup};

use super::labels::{self, labels};

const WIDTH: i64 = 640;
const HEIGHT: i64 = 250;
const LEFT: i64 = 110;
/// Room for the last meeting's date, centred on its point.
const RIGHT: i64 = 50;
const TOP: i64 = 20;
/// Between two levels.
const STEP: i64 = 60;

/// One colour per domain, each at least 3:1 against white.
const COLOURS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#5f6b00", "#17becf",
    "#ff7f0e",
];

fn colour(domain: NeedDomain) -> &'static str {
    let i = NeedDomain::ALL
        .iter()
        .position(|d| *d == domain)
        .unwrap_or(0);
    COLOURS[i % COLOURS.len()]
}

fn level_rank(level: NeedLevel) -> i64 {
    match level {
        NeedLevel::NoConcern => 0,
        NeedLevel::Mild => 1,
        NeedLevel::Moderate => 2,
        NeedLevel::Severe => 3,
    }
}

/// The x of the `i`th of `n` meetings.
fn x_of(i: usize, n: usize) -> i64 {
    let plot = WIDTH - LEFT - RIGHT;
    if n <= 1 {
        LEFT + plot / 2
    } else {
        LEFT + (i as i64 * plot) / (n as i64 - 1)
    }
}

/// The y of a level; each domain is shifted a little so equal levels stay apart.
fn y_of(level: NeedLevel, domain: NeedDomain) -> i64 {
    let shift = NeedDomain::ALL
        .iter()
        .position(|d| *d == domain)
        .unwrap_or(0) as i64
        - 4;
    TOP + (3 - level_rank(level)) * STEP + shift * 2
}

/// The chart, its legend and the table; `meetings` gives each column's date.
pub fn needs_chart(grid: &NeedsGrid, meetings: &[MeetingRecord]) -> Markup {
    let l = labels();
    let n = grid.meetings.len();
    let date_of = |number: u32| {
        meetings
            .iter()
            .find(|m| m.meeting_number == number)
            .map(|m| labels::date(m.occurred_on))
            .unwrap_or_default()
    };
    let levels = [
        NeedLevel::NoConcern,
        NeedLevel::Mild,
        NeedLevel::Moderate,
        NeedLevel::Severe,
    ];
    html! {
        div.chart {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
                width=(WIDTH) height=(HEIGHT) role="img" aria-labelledby="needs-title needs-desc" {
                title #needs-title { (l.needs_chart) }
                desc #needs-desc { (l.needs_chart_desc) }
                @for level in levels {
                    @let y = TOP + (3 - level_rank(level)) * STEP;
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y) y2=(y) stroke="#c9d1d9" {}
                    text x=(LEFT - 8) y=(y + 4) text-anchor="end" font-size="12" fill="#1b1f24" { (labels::word(level)) }
                }
                @for (i, number) in grid.meetings.iter().enumerate() {
                    @let x = x_of(i, n);
                    text x=(x) y=(TOP + 3 * STEP + 22) text-anchor="middle" font-size="12" fill="#1b1f24" { "#" (number) }
                    text x=(x) y=(TOP + 3 * STEP + 38) text-anchor="middle" font-size="11" fill="#4a5561" { (date_of(*number)) }
                }
                @for row in &grid.rows {
                    @let points = points(row.domain, &row.levels, n);
                    @for run in runs(&points) {
                        @if run.len() > 1 {
                            polyline fill="none" stroke=(colour(row.domain)) stroke-width="2"
                                points=(run.iter().map(|(x, y, _)| format!("{x},{y}")).collect::<Vec<_>>().join(" ")) {}
                        }
                    }
                    @for (x, y, level) in points.iter().flatten() {
                        circle cx=(x) cy=(y) r="4" fill=(colour(row.domain)) {
                            title { (labels::word(row.domain)) ": " (labels::word(level)) }
                        }
                    }
                }
            }
            ul.legend {
                @for row in &grid.rows {
                    li { span.swatch style={ "background:" (colour(row.domain)) } {} (labels::word(row.domain)) }
                }
            }
        }
        details {
            summary { (l.needs_table) }
            table {
                thead { tr {
                    th scope="col" { (l.domain) }
                    @for number in &grid.meetings { th scope="col" { (l.meeting) " #" (number) " " (date_of(*number)) } }
                } }
                tbody {
                    @for row in &grid.rows {
                        tr {
                            th scope="row" { (labels::word(row.domain)) }
                            @for level in &row.levels {
                                td { @match level { Some(level) => { (labels::word(level)) } None => { (l.not_assessed) } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

type Point = (i64, i64, NeedLevel);

fn points(domain: NeedDomain, levels: &[Option<NeedLevel>], n: usize) -> Vec<Option<Point>> {
    levels
        .iter()
        .enumerate()
        .map(|(i, level)| level.map(|level| (x_of(i, n), y_of(level, domain), level)))
        .collect()
}

/// Consecutive assessed meetings: a meeting that did not assess the domain breaks its line.
fn runs(points: &[Option<Point>]) -> Vec<Vec<Point>> {
    let mut runs: Vec<Vec<Point>> = vec![];
    let mut current: Vec<Point> = vec![];
    for p in points {
        match p {
            Some(p) => current.push(*p),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}
