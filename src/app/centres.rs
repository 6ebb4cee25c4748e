//! The centres' calendar: "today" is the date where the centre is, in the time zone set for it
//! (`lifecourse centre set-time-zone`), by default `DEFAULT_TIME_ZONE`. Never the clock of the
//! machine that sends a command: a laptop set to another zone must not move a centre's today.

use chrono::Utc;
use chrono_tz::Tz;
use lifecourse_events::{CentreId, ClinicalDate};

use super::{App, AppError, InvalidInput};
use crate::domain::ClinicalCalendar;

/// The zone of a centre that has none set: the CSPCs' own (Québec).
pub const DEFAULT_TIME_ZONE: &str = "America/Toronto";

/// An IANA time zone name, checked.
pub fn time_zone(name: &str) -> Result<Tz, InvalidInput> {
    name.parse::<Tz>()
        .map_err(|_| InvalidInput::UnknownTimeZone(name.chars().take(64).collect()))
}

/// The zone of a centre from its stored name (`None`: the default zone). A stored zone was
/// checked when it was set; a release that drops a name falls back.
pub(super) fn stored_zone(name: Option<&str>) -> Tz {
    time_zone(name.unwrap_or(DEFAULT_TIME_ZONE)).unwrap_or(chrono_tz::America::Toronto)
}

/// Today's date in `zone`.
pub(super) fn today_in(zone: Tz) -> ClinicalDate {
    ClinicalDate(Utc::now().with_timezone(&zone).date_naive())
}

impl App {
    /// The time zone in which `centre`'s today is judged (the default zone for `None`).
    pub async fn time_zone_of(&self, centre: Option<&CentreId>) -> Result<Tz, AppError> {
        let stored = match centre {
            Some(centre) => self.store.centre_time_zone(centre).await?,
            None => None,
        };
        Ok(stored_zone(stored.as_deref()))
    }

    /// Today's date at `centre` (in the default zone for `None`).
    pub async fn today(&self, centre: Option<&CentreId>) -> Result<ClinicalDate, AppError> {
        Ok(today_in(self.time_zone_of(centre).await?))
    }

    /// The calendar of the rules for an entry of `centre`'s file.
    pub async fn calendar_of(&self, centre: &CentreId) -> Result<ClinicalCalendar, AppError> {
        Ok(ClinicalCalendar {
            today: self.today(Some(centre)).await?,
        })
    }

    /// Sets the time zone in which `centre`'s today is judged.
    pub async fn set_time_zone(&self, centre: &CentreId, name: &str) -> Result<(), AppError> {
        let zone = time_zone(name)?;
        self.store.set_centre_time_zone(centre, zone.name()).await?;
        Ok(())
    }

    /// Every centre with a time zone of its own.
    pub async fn time_zones(&self) -> Result<Vec<(String, String)>, AppError> {
        Ok(self.store.centre_time_zones().await?)
    }
}
