//! `lifecourse staff add|list|disable`, `lifecourse settings show|set` and `lifecourse centre
//! set-time-zone|list`.

use clap::{Args, Subcommand};
use lifecourse_events::*;

use super::{json, Format};
use crate::app::{App, AppError, NewStaff, Role, DEFAULT_TIME_ZONE};

#[derive(Subcommand, Debug)]
pub enum StaffCommand {
    /// Register a member of staff (nothing changes if the person is already registered)
    Add(StaffAddArgs),
    /// List the staff register
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Disable a member of staff: they can no longer act (their past entries stay theirs)
    Disable {
        /// The person id, e.g. sw1@centre-sud
        person: PersonId,
    },
    /// Set the password with which a person signs in to `lifecourse serve` (read from a prompt,
    /// or from the first line of standard input; never from the command line)
    SetPassword {
        /// The person id, e.g. sw1@centre-sud
        person: PersonId,
    },
}

#[derive(Args, Debug)]
pub struct StaffAddArgs {
    /// The person id, e.g. sw1@centre-sud
    person: PersonId,
    /// The name shown to colleagues
    #[arg(long)]
    name: String,
    /// doctor, nurse, social_worker, psychoeducator, legal_advisor, ... (a role that records
    /// entries), or centre_administrator, auditor, researcher
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// A centre the person works for (repeat for several)
    #[arg(long = "centre", required = true)]
    centres: Vec<CentreId>,
}

fn parse_role(word: &str) -> Result<Role, String> {
    Role::parse(word).map_err(|e| e.to_string())
}

#[derive(Subcommand, Debug)]
pub enum CentreCommand {
    /// Set the time zone in which the centre's "today" is judged (an IANA name such as
    /// America/Toronto); no entry may be dated after that day
    SetTimeZone {
        centre: CentreId,
        /// e.g. America/Toronto, America/Vancouver, Europe/Paris
        time_zone: String,
    },
    /// List the centres with a time zone of their own (the others use the default)
    List,
}

pub async fn centre(app: &App, command: CentreCommand) -> Result<(), AppError> {
    match command {
        CentreCommand::SetTimeZone { centre, time_zone } => {
            app.set_time_zone(&centre, &time_zone).await?;
            let today = app.today(Some(&centre)).await?;
            out!("{centre}: time zone {time_zone}; today there is {today}");
        }
        CentreCommand::List => {
            for (centre, zone) in app.time_zones().await? {
                out!("{centre}\t{zone}");
            }
            out!("(any other centre: {DEFAULT_TIME_ZONE})");
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum SettingsCommand {
    /// Show every setting, its value in force and its default
    Show {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Change a setting and rebuild the read models that depend on it
    Set {
        /// e.g. follow_up.family_contact_days
        key: String,
        value: String,
    },
}

pub async fn staff(app: &App, command: StaffCommand) -> Result<(), AppError> {
    match command {
        StaffCommand::Add(args) => {
            let person = args.person.clone();
            let added = app
                .add_staff(NewStaff {
                    person: args.person,
                    display_name: args.name,
                    role: args.role,
                    centres: args.centres,
                })
                .await?;
            if added {
                out!("added {person} to the staff register");
            } else {
                out!("{person} is already in the staff register: nothing changed");
            }
        }
        StaffCommand::List { format } => {
            let staff = app.list_staff().await?;
            match format {
                Format::Json => out!("{}", json(&staff)?),
                Format::Text => {
                    for s in &staff {
                        let centres: Vec<String> =
                            s.centres.iter().map(ToString::to_string).collect();
                        out!(
                            "{:<28} {:<22} {:<24} {}{}",
                            s.person,
                            s.display_name,
                            s.role,
                            centres.join(","),
                            if s.active { "" } else { "  (disabled)" }
                        );
                    }
                    out!("{} member(s) of staff", staff.len());
                }
            }
        }
        StaffCommand::SetPassword { person } => super::serve::set_password(app, &person).await?,
        StaffCommand::Disable { person } => {
            app.disable_staff(&person).await?;
            out!("{person} is disabled: they can no longer act");
        }
    }
    Ok(())
}

pub async fn settings(app: &App, command: SettingsCommand) -> Result<(), AppError> {
    match command {
        SettingsCommand::Show { format } => {
            let settings = app.settings().await?;
            match format {
                Format::Json => out!("{}", json(&settings)?),
                Format::Text => {
                    for s in &settings {
                        let default = if s.value == s.default {
                            "default".to_string()
                        } else {
                            format!("default {}", s.default)
                        };
                        out!("{} = {}  ({default}) — {}", s.key, s.value, s.meaning);
                    }
                }
            }
        }
        SettingsCommand::Set { key, value } => {
            let stored = app.set_setting(&key, &value).await?;
            out!("{key} = {stored}; the read models were rebuilt with it");
        }
    }
    Ok(())
}
