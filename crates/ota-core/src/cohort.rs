//! Tags and cohorts (issue 17): local tags on any device of any cloud, and saved groups of devices —
//! `static` (a list) or `dynamic` (a device-list filter whose current matches are its devices) — that a
//! campaign can target. Every change is audited and notified (`DataKind::Devices`); the tables are in
//! `store/cohorts.rs`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::campaign::model::DeviceKey;
use crate::console::{Console, DataKind};
use crate::error::{ApiError, ErrorKind};
use crate::model::{DevicePage, DeviceQuery};

/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 40;
/// Longest cohort name, in characters.
pub const MAX_COHORT_NAME_CHARS: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum CohortKind {
    /// A list of devices.
    Static,
    /// A saved filter: its devices are whatever matches it now.
    Dynamic,
}

impl CohortKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CohortKind::Static => "static",
            CohortKind::Dynamic => "dynamic",
        }
    }
}

/// A saved group of devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Cohort {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub kind: CohortKind,
    /// Devices it has now: the listed devices in the cache (static) or the filter's matches (dynamic).
    pub device_count: u32,
    #[ts(type = "number")]
    pub created_at: i64,
    pub created_by: String,
    /// A dynamic cohort's filter (paging fields unused).
    pub query: Option<DeviceQuery>,
}

/// What defines a cohort's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum CohortDefinition {
    Static { devices: Vec<DeviceKey> },
    Dynamic { query: DeviceQuery },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewCohort {
    pub name: String,
    pub definition: CohortDefinition,
}

/// A tag and how many cached devices have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TagCount {
    pub tag: String,
    pub count: u32,
}

/// A cohort with the first page of its devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CohortDetail {
    pub cohort: Cohort,
    pub devices: DevicePage,
}

/// A tag as it is kept: trimmed, 1–40 characters, letters, digits and `-_.:` only.
pub fn normalize_tag(raw: &str) -> Result<String, ApiError> {
    let tag = raw.trim();
    let chars = tag.chars().count();
    if chars == 0 || chars > MAX_TAG_CHARS {
        return Err(ApiError::validation(format!(
            "A tag is 1 to {MAX_TAG_CHARS} characters; “{tag}” is {chars}."
        )));
    }
    if let Some(bad) = tag
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        return Err(ApiError::validation(format!(
            "“{tag}” is not a tag: “{bad}” is not allowed (letters, digits and - _ . : only)."
        )));
    }
    Ok(tag.to_string())
}

/// Each tag normalized, duplicates dropped, sorted.
fn normalize_tags(raw: &[String]) -> Result<Vec<String>, ApiError> {
    let mut tags = raw
        .iter()
        .map(|t| normalize_tag(t))
        .collect::<Result<Vec<_>, _>>()?;
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// Adds and removes tags on devices (all cached; refused whole otherwise); answers how many devices
/// changed. A tag both added and removed is refused. Audited (`devices.tag`).
pub fn tag_devices(
    console: &Console,
    devices: &[DeviceKey],
    add: &[String],
    remove: &[String],
) -> Result<u32, ApiError> {
    let result = (|| {
        let add = normalize_tags(add)?;
        let remove = normalize_tags(remove)?;
        if add.is_empty() && remove.is_empty() {
            return Err(ApiError::validation("Name a tag to add or remove."));
        }
        if let Some(both) = add.iter().find(|t| remove.contains(t)) {
            return Err(ApiError::validation(format!(
                "“{both}” is both added and removed."
            )));
        }
        if devices.is_empty() {
            return Err(ApiError::validation("Choose the devices to tag."));
        }
        ensure_cached(console, devices, "tag it")?;
        let changed = console.store().tag_devices(devices, &add, &remove)?;
        Ok((changed, add, remove))
    })();
    let detail = match &result {
        Ok((_, add, remove)) => format!(
            "{} device{}{}{}",
            devices.len(),
            if devices.len() == 1 { "" } else { "s" },
            if add.is_empty() {
                String::new()
            } else {
                format!(" +{}", add.join(" +"))
            },
            if remove.is_empty() {
                String::new()
            } else {
                format!(" -{}", remove.join(" -"))
            }
        ),
        Err(_) => format!("{} devices", devices.len()),
    };
    console.audit(
        "devices.tag",
        None,
        Some(&detail),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    if result.is_ok() {
        console.notify(DataKind::Devices);
    }
    result.map(|(changed, _, _)| changed)
}

pub fn list_tags(console: &Console) -> Result<Vec<TagCount>, ApiError> {
    Ok(console.store().tag_counts()?)
}

fn check_query(query: &DeviceQuery) -> Result<(), ApiError> {
    if query.cohort_id.is_some() {
        return Err(ApiError::validation(
            "A dynamic cohort's filter cannot name another cohort.",
        ));
    }
    if let Some(tag) = &query.tag {
        normalize_tag(tag)?;
    }
    if query.search.trim().chars().count() > 200 {
        return Err(ApiError::validation("The search text is too long."));
    }
    Ok(())
}

/// Creates a cohort. Names are unique, 1–80 characters. A static cohort lists at least one cached device;
/// a dynamic one keeps its filter (paging dropped). Audited (`cohort.create`).
pub fn create_cohort(console: &Console, new: &NewCohort) -> Result<Cohort, ApiError> {
    let name = new.name.trim();
    let result = (|| {
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_COHORT_NAME_CHARS {
            return Err(ApiError::validation(format!(
                "Give the cohort a name of 1 to {MAX_COHORT_NAME_CHARS} characters."
            )));
        }
        if console.store().cohort_by_name(name)?.is_some() {
            return Err(ApiError::validation(format!(
                "A cohort named “{name}” exists already."
            )));
        }
        let id = match &new.definition {
            CohortDefinition::Static { devices } => {
                if devices.is_empty() {
                    return Err(ApiError::validation(
                        "A static cohort lists at least one device.",
                    ));
                }
                ensure_cached(console, devices, "add it")?;
                console
                    .store()
                    .create_cohort(name, console.actor(), None, devices)?
            }
            CohortDefinition::Dynamic { query } => {
                check_query(query)?;
                let query = DeviceQuery {
                    offset: 0,
                    limit: 0,
                    tag: query.tag.as_deref().map(str::trim).map(str::to_string),
                    ..query.clone()
                };
                console
                    .store()
                    .create_cohort(name, console.actor(), Some(&query), &[])?
            }
        };
        Ok(console.store().cohort(id)?)
    })();
    console.audit(
        "cohort.create",
        None,
        Some(&match &result {
            Ok(c) => format!(
                "cohort #{} {name} ({}, {} devices)",
                c.id,
                c.kind.as_str(),
                c.device_count
            ),
            Err(_) => format!("cohort {name}"),
        }),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    if result.is_ok() {
        // Cohorts are device lists to the window: no kind of their own (the window's switch over the
        // kinds stays exhaustive), the device notice refetches them.
        console.notify(DataKind::Devices);
    }
    result
}

pub fn list_cohorts(console: &Console) -> Result<Vec<Cohort>, ApiError> {
    Ok(console.store().cohorts()?)
}

/// A cohort by id (digits) or name.
pub fn find_cohort(console: &Console, id_or_name: &str) -> Result<Cohort, ApiError> {
    let key = id_or_name.trim();
    let found = match key.parse::<i64>() {
        Ok(id) => match console.store().cohort(id) {
            Ok(c) => Some(c),
            Err(_) => console.store().cohort_by_name(key)?,
        },
        Err(_) => console.store().cohort_by_name(key)?,
    };
    found.ok_or_else(|| {
        ApiError::not_found(format!("No cohort “{key}”."))
            .with_hint("`otactl cohort list` shows the cohorts.")
    })
}

/// A cohort and the first page of its devices.
pub fn cohort_detail(console: &Console, id_or_name: &str) -> Result<CohortDetail, ApiError> {
    let cohort = find_cohort(console, id_or_name)?;
    let devices = console.store().query_devices(&DeviceQuery {
        cohort_id: Some(cohort.id),
        ..DeviceQuery::default()
    })?;
    Ok(CohortDetail { cohort, devices })
}

/// Deletes a cohort; refused while a campaign that is not finished targets it. Audited (`cohort.delete`).
pub fn delete_cohort(console: &Console, id: i64) -> Result<Cohort, ApiError> {
    let result = (|| {
        let cohort = console.store().cohort(id)?;
        if let Some(campaign) = console.store().active_campaign_of_cohort(id)? {
            return Err(ApiError::new(
                ErrorKind::Validation,
                format!(
                    "Campaign #{campaign} targets cohort “{}”; it can be deleted once that campaign has ended.",
                    cohort.name
                ),
            )
            .with_hint("Cancel or close the campaign first."));
        }
        console.store().delete_cohort(id)?;
        Ok(cohort)
    })();
    console.audit(
        "cohort.delete",
        None,
        Some(&match &result {
            Ok(c) => format!("cohort #{id} {}", c.name),
            Err(_) => format!("cohort #{id}"),
        }),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    if result.is_ok() {
        // Cohorts are device lists to the window: no kind of their own (the window's switch over the
        // kinds stays exhaustive), the device notice refetches them.
        console.notify(DataKind::Devices);
    }
    result
}

/// Refuses devices the cache does not hold (a typo, or a device of an account since removed), naming the
/// first and what to do before `then`.
fn ensure_cached(console: &Console, devices: &[DeviceKey], then: &str) -> Result<(), ApiError> {
    for key in devices {
        if console
            .store()
            .device(key.account_id, &key.device_id)?
            .is_none()
        {
            return Err(ApiError::not_found(format!(
                "No cached device {} (account #{}).",
                key.device_id, key.account_id
            ))
            .with_hint(format!("Refresh the fleet, then {then}.")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_and_checked() {
        assert_eq!(normalize_tag("  beta-1 ").unwrap(), "beta-1");
        assert_eq!(normalize_tag("site:north.v2_a").unwrap(), "site:north.v2_a");
        for bad in ["", "   ", "has space", "comma,tag", "a/b", &"x".repeat(41)] {
            let err = normalize_tag(bad).unwrap_err();
            assert_eq!(err.code, ErrorKind::Validation, "{bad:?}");
        }
        assert!(normalize_tag(&"x".repeat(40)).is_ok());
    }
}
