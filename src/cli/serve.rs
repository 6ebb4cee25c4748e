//! `lifecourse serve` (the HTTP JSON API, with the projection runner in the same process),
//! `lifecourse staff set-password` and `lifecourse access-log`.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;

use clap::Args;
use lifecourse_events::*;

use super::{json, Format};
use crate::app::{App, AppError, InvalidInput};
use crate::http::{self, ServeOptions};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The address to listen on; off loopback, cookies are marked Secure (put TLS in front)
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// The runner's polling interval in milliseconds (it is also woken by every write)
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
    /// Take an anchor when the server starts and then every --anchor-every-hours, signed with
    /// this key (`lifecourse anchor --new-key`), each also written to --anchor-dir
    #[arg(
        long,
        env = "LIFECOURSE_ANCHOR_KEY_FILE",
        value_name = "FILE",
        requires = "anchor_dir"
    )]
    anchor_key: Option<std::path::PathBuf>,
    /// Where the periodic anchor files are written (anchor-YYYYMMDDTHHMMSSZ.json)
    #[arg(long, value_name = "DIR", requires = "anchor_key")]
    anchor_dir: Option<std::path::PathBuf>,
    /// Hours between two periodic anchors
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=8760))]
    anchor_every_hours: u64,
}

pub async fn serve(app: &App, args: ServeArgs) -> Result<(), AppError> {
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| InvalidInput::Unreadable {
            what: format!("the address {}", args.bind),
            message: e.to_string(),
        })?;
    let options = ServeOptions {
        secure_cookies: !args.bind.ip().is_loopback(),
        poll: std::time::Duration::from_millis(args.poll_ms.max(10)),
        ..ServeOptions::default()
    };
    let address = listener.local_addr().map_err(|e| AppError::Output {
        format: "HTTP",
        message: e.to_string(),
    })?;
    eprintln!(
        "serving the Lifecourse API on http://{address} ({} store); the API is described at http://{address}/openapi.json; Ctrl-C or SIGTERM stops",
        app.backend()
    );
    let anchoring = match (&args.anchor_key, &args.anchor_dir) {
        (Some(key), Some(dir)) => {
            let key = crate::integrity::anchor::read_key(key)?;
            if !dir.is_dir() {
                return Err(InvalidInput::Unreadable {
                    what: format!("the anchor directory {}", dir.display()),
                    message: "it is not a directory".into(),
                }
                .into());
            }
            let every = std::time::Duration::from_secs(args.anchor_every_hours * 3600);
            eprintln!(
                "taking an anchor now and every {} hour(s), written to {}",
                args.anchor_every_hours,
                dir.display()
            );
            Some(tokio::spawn(anchor_periodically(
                app.clone(),
                key,
                dir.clone(),
                every,
            )))
        }
        _ => None,
    };
    let served = http::serve(app.clone(), listener, options, shutdown_signal()).await;
    if let Some(task) = anchoring {
        task.abort();
    }
    served?;
    eprintln!("stopped");
    Ok(())
}

/// Takes an anchor now and then every `every`, each stored and written to `dir`; a failure is
/// logged (an altered store is refused an anchor) and retried at the next turn.
async fn anchor_periodically(
    app: App,
    key: ed25519_dalek::SigningKey,
    dir: std::path::PathBuf,
    every: std::time::Duration,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match app.anchor(&key).await {
            Ok(signed) => {
                let name = format!(
                    "anchor-{}.json",
                    signed.anchor.created_at.format("%Y%m%dT%H%M%SZ")
                );
                let path = dir.join(&name);
                // Written beside, then renamed: a reader never sees half a file.
                let partial = dir.join(format!(".{name}.partial"));
                let written = std::fs::write(&partial, signed.to_file_text())
                    .and_then(|()| std::fs::rename(&partial, &path));
                match written {
                    Ok(()) => tracing::info!(
                        file = %path.display(),
                        children = signed.anchor.children,
                        root = %signed.anchor.root,
                        "periodic anchor written"
                    ),
                    Err(e) => {
                        tracing::error!(file = %path.display(), error = %e, "cannot write the periodic anchor (it is stored in the database)")
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "no periodic anchor taken"),
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// `staff set-password PERSON`: the password comes from a prompt (twice) on a terminal, or from
/// the first line of standard input; never from the command line.
pub async fn set_password(app: &App, person: &PersonId) -> Result<(), AppError> {
    let unreadable = |e: std::io::Error| InvalidInput::Unreadable {
        what: "the password".into(),
        message: e.to_string(),
    };
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {person}: "))
            .map_err(unreadable)?;
        let again = rpassword::prompt_password("Again: ").map_err(unreadable)?;
        if first != again {
            return Err(InvalidInput::Unreadable {
                what: "the password".into(),
                message: "the two entries differ".into(),
            }
            .into());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(unreadable)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    app.set_password(person, &password).await?;
    out!("{person} can now sign in to `lifecourse serve` with that password");
    Ok(())
}

#[derive(Args, Debug)]
pub struct AccessLogArgs {
    /// The child's id
    child_id: ChildId,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// `access-log CHILD`: every logged read of the child's identified data.
pub async fn access_log(app: &App, args: AccessLogArgs) -> Result<(), AppError> {
    let entries = app.access_log(args.child_id).await?;
    match args.format {
        Format::Json => out!("{}", json(&entries)?),
        Format::Text => {
            for e in &entries {
                out!(
                    "{}  {:<26} {:<22} {:<11} via {}{}{}",
                    e.at.format("%Y-%m-%d %H:%M:%S%.3fZ"),
                    e.person.as_deref().unwrap_or("(command line, no --as)"),
                    e.role.as_deref().unwrap_or("-"),
                    e.action,
                    e.channel,
                    if e.break_glass { "  BREAK-GLASS" } else { "" },
                    e.reason
                        .as_ref()
                        .map(|r| format!("  reason: {r}"))
                        .unwrap_or_default()
                );
            }
            out!(
                "{} read(s) of child {}'s file",
                entries.len(),
                args.child_id
            );
        }
    }
    Ok(())
}
