//! Who is acting: the staff register (`lifecourse staff add|list|disable`) and the `Principal`
//! every command is given.

use chrono::{DateTime, Utc};
use lifecourse_events::*;
use serde::Serialize;

use super::{App, AppError, InvalidInput};

/// A role in the staff register: a clinical role of the catalogue (`StaffRole`, the role an
/// entry's `recorded_by` names), or a role that reads or administers but records no entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Staff(StaffRole),
    CentreAdministrator,
    Auditor,
    Researcher,
}

impl Role {
    const OTHERS: [(Role, &'static str); 3] = [
        (Role::CentreAdministrator, "centre_administrator"),
        (Role::Auditor, "auditor"),
        (Role::Researcher, "researcher"),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff(role) => role.as_str(),
            other => Self::OTHERS
                .iter()
                .find(|(r, _)| *r == other)
                .map(|(_, w)| *w)
                .expect("every other role has a word"),
        }
    }

    /// Every accepted word, for messages and help.
    pub fn words() -> Vec<&'static str> {
        StaffRole::ALL
            .iter()
            .map(|r| r.as_str())
            .chain(Self::OTHERS.iter().map(|(_, w)| *w))
            .collect()
    }

    pub fn parse(word: &str) -> Result<Self, InvalidInput> {
        if let Some(role) = StaffRole::ALL.iter().find(|r| r.as_str() == word) {
            return Ok(Role::Staff(*role));
        }
        Self::OTHERS
            .iter()
            .find(|(_, w)| *w == word)
            .map(|(r, _)| *r)
            .ok_or_else(|| InvalidInput::UnknownRole(word.to_string(), Self::words().join(", ")))
    }

    /// The role an entry records, when this role records entries.
    pub fn recording_role(self) -> Option<StaffRole> {
        match self {
            Role::Staff(role) => Some(role),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Who is acting, as the staff register knows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub person: PersonId,
    pub role: Role,
    pub centres: Vec<CentreId>,
}

impl Principal {
    pub fn works_for(&self, centre: &CentreId) -> bool {
        self.centres.contains(centre)
    }
}

/// A member of staff to register.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub person: PersonId,
    pub display_name: String,
    pub role: Role,
    pub centres: Vec<CentreId>,
}

/// A row of the staff register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub person: PersonId,
    pub display_name: String,
    pub role: Role,
    pub centres: Vec<CentreId>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl App {
    /// Registers a member of staff; false when the person was already registered (unchanged).
    pub async fn add_staff(&self, staff: NewStaff) -> Result<bool, AppError> {
        if staff.centres.is_empty() {
            return Err(InvalidInput::NoCentre.into());
        }
        Ok(self
            .store
            .add_staff(
                &staff.person,
                &staff.display_name,
                staff.role.as_str(),
                &staff.centres,
            )
            .await?)
    }

    pub async fn list_staff(&self) -> Result<Vec<StaffMember>, AppError> {
        let rows = self.store.staff(None).await?;
        rows.into_iter()
            .map(|r| {
                Ok(StaffMember {
                    role: stored_role(&r.person, &r.role)?,
                    person: r.person,
                    display_name: r.display_name,
                    centres: r.centres,
                    active: r.active,
                    created_at: r.created_at,
                })
            })
            .collect()
    }

    /// Marks a person inactive: they can no longer act.
    pub async fn disable_staff(&self, person: &PersonId) -> Result<(), AppError> {
        if self.store.disable_staff(person).await? {
            Ok(())
        } else {
            Err(AppError::UnknownPerson(person.clone()))
        }
    }

    /// The principal of an active, registered person.
    pub async fn principal(&self, person: &PersonId) -> Result<Principal, AppError> {
        let row = self
            .store
            .staff(Some(person))
            .await?
            .pop()
            .ok_or_else(|| AppError::UnknownPerson(person.clone()))?;
        if !row.active {
            return Err(AppError::DisabledPerson(person.clone()));
        }
        Ok(Principal {
            role: stored_role(&row.person, &row.role)?,
            person: row.person,
            centres: row.centres,
        })
    }
}

fn stored_role(person: &PersonId, role: &str) -> Result<Role, AppError> {
    Role::parse(role).map_err(|e| {
        AppError::Store(crate::store::StoreError::UnreadableStaff {
            person: person.to_string(),
            problem: e.to_string(),
        })
    })
}
