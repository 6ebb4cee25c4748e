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
    http::serve(app.clone(), listener, options, shutdown_signal()).await?;
    eprintln!("stopped");
    Ok(())
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
