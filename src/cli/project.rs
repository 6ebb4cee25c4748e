//! `lifecourse project` (catch up, optionally follow) and `lifecourse rebuild`.

use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::{App, AppError};
use crate::runner::Projection;

#[derive(Args, Debug)]
pub struct ProjectArgs {
    /// Keep following new events until interrupted (Ctrl-C)
    #[arg(long)]
    follow: bool,
    /// How often to look for new events when following, in milliseconds
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// Events applied per transaction
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
}

#[derive(Args, Debug)]
pub struct RebuildArgs {
    /// Rebuild only this projection (default: all)
    #[arg(long, value_enum)]
    projection: Option<Projection>,
}

pub async fn project(app: &App, args: ProjectArgs) -> Result<(), AppError> {
    let applied = app.project(args.batch_size).await?;
    out!(
        "read models up to date: {applied} event application(s) across {} projections",
        Projection::ALL.len()
    );
    if args.follow {
        out!("following new events (Ctrl-C to stop)");
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        app.follow(
            args.batch_size,
            Duration::from_millis(args.poll_ms.max(50)),
            stop,
        )
        .await?;
    }
    Ok(())
}

pub async fn rebuild(app: &App, args: RebuildArgs) -> Result<(), AppError> {
    let projections: Vec<Projection> = match args.projection {
        Some(p) => vec![p],
        None => Projection::ALL.to_vec(),
    };
    let total = app.stats().await?.events;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} rebuilding {msg} {pos}/{len} events [{bar:40}] {per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(
        projections
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", "),
    );
    let report = app.rebuild(&projections, |n| bar.inc(n)).await?;
    bar.finish_and_clear();
    out!(
        "rebuilt {} from {} events of {} children in {:.2} s ({:.0} events/s)",
        projections
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", "),
        report.events,
        report.children,
        report.elapsed.as_secs_f64(),
        report.events_per_second()
    );
    Ok(())
}
