//! Campaign templates: a campaign's settings and rules saved under a name (table `campaign_templates`), to
//! create, plan or check campaigns like it. The targets, the firmware and the start time (a moment, not a
//! habit) are not kept. Saving under a name that exists replaces it; saves and deletes are audited.

use super::model::{CampaignRules, CampaignSettings, CampaignTemplate};
use super::rules;
use crate::console::{Console, DataKind};
use crate::db::{params, Row, SqlExt};
use crate::error::{ApiError, CoreResult};
use crate::model::now_ms;
use crate::store::Store;

fn check_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::validation(
            "Give the template a name (up to 80 characters).",
        ));
    }
    Ok(name)
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("No campaign template named “{name}”."))
        .with_hint("`otactl campaign templates` lists them.")
}

/// Saves (or replaces) the template `name`. The settings and rules are checked as a campaign's are.
/// Audited as `campaign.template.save`.
pub fn save(
    console: &Console,
    name: &str,
    settings: &CampaignSettings,
    rules_: &CampaignRules,
) -> Result<CampaignTemplate, ApiError> {
    let result = (|| {
        let name = check_name(name)?;
        rules::validate(settings)?;
        rules::validate_rules(rules_)?;
        let settings = CampaignSettings {
            start_at: None,
            ..settings.clone()
        };
        let template = CampaignTemplate {
            name: name.to_string(),
            settings,
            rules: rules_.clone(),
            saved_by: console.actor().to_string(),
            saved_at: now_ms(),
        };
        put(console.store(), &template)?;
        Ok(template)
    })();
    console.audit(
        "campaign.template.save",
        None,
        Some(&format!("campaign template {}", name.trim())),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    if result.is_ok() {
        console.notify(DataKind::Campaigns);
    }
    result
}

/// The template `name`.
pub fn get(console: &Console, name: &str) -> Result<CampaignTemplate, ApiError> {
    let name = name.trim();
    find(console.store(), name)?.ok_or_else(|| not_found(name))
}

/// Every template, by name.
pub fn list(console: &Console) -> Result<Vec<CampaignTemplate>, ApiError> {
    Ok(all(console.store())?)
}

/// Deletes the template `name`. Audited as `campaign.template.delete`.
pub fn delete(console: &Console, name: &str) -> Result<(), ApiError> {
    let name = name.trim();
    let result = remove(console.store(), name)
        .map_err(ApiError::from)
        .and_then(|gone| if gone { Ok(()) } else { Err(not_found(name)) });
    console.audit(
        "campaign.template.delete",
        None,
        Some(&format!("campaign template {name}")),
        &result,
    );
    if result.is_ok() {
        console.notify(DataKind::Campaigns);
    }
    result
}

fn put(store: &Store, t: &CampaignTemplate) -> CoreResult<()> {
    let settings = serde_json::to_string(&t.settings)
        .map_err(|e| ApiError::internal(format!("the template's settings: {e}")))?;
    let rules = serde_json::to_string(&t.rules)
        .map_err(|e| ApiError::internal(format!("the template's rules: {e}")))?;
    store.write(|tx| {
        tx.execute(
            "INSERT INTO campaign_templates (name, settings, rules, saved_by, saved_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (name) DO UPDATE SET settings = excluded.settings, rules = excluded.rules,
                 saved_by = excluded.saved_by, saved_at = excluded.saved_at",
            params![t.name, settings, rules, t.saved_by, t.saved_at],
        )?;
        Ok(())
    })
}

const COLUMNS: &str = "name, settings, rules, saved_by, saved_at";

fn from_row(row: &Row) -> CoreResult<CampaignTemplate> {
    let settings: String = row.get(1)?;
    let rules: String = row.get(2)?;
    Ok(CampaignTemplate {
        name: row.get(0)?,
        // Written by `put` from the same types; a field added later takes its default.
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        rules: serde_json::from_str(&rules).unwrap_or_default(),
        saved_by: row.get(3)?,
        saved_at: row.get(4)?,
    })
}

fn find(store: &Store, name: &str) -> CoreResult<Option<CampaignTemplate>> {
    store.read(|conn| {
        conn.query_opt(
            &format!("SELECT {COLUMNS} FROM campaign_templates WHERE name = ?1"),
            params![name],
            from_row,
        )
    })
}

fn all(store: &Store) -> CoreResult<Vec<CampaignTemplate>> {
    store.read(|conn| {
        conn.query_map(
            &format!("SELECT {COLUMNS} FROM campaign_templates ORDER BY name"),
            params![],
            from_row,
        )
    })
}

fn remove(store: &Store, name: &str) -> CoreResult<bool> {
    store.write(|tx| {
        Ok(tx.execute(
            "DELETE FROM campaign_templates WHERE name = ?1",
            params![name],
        )? > 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::model::WaveGate;

    #[test]
    fn templates_are_saved_replaced_listed_and_deleted() {
        let (_dir, store) = crate::store::test_store();
        let mut t = CampaignTemplate {
            name: "nightly".into(),
            settings: CampaignSettings {
                concurrency: 7,
                ..CampaignSettings::default()
            },
            rules: CampaignRules {
                bake_secs: 60,
                gate: WaveGate::Manual,
                ..CampaignRules::default()
            },
            saved_by: "ana".into(),
            saved_at: 1,
        };
        put(&store, &t).unwrap();
        assert_eq!(find(&store, "nightly").unwrap(), Some(t.clone()));
        t.settings.concurrency = 9;
        t.saved_at = 2;
        put(&store, &t).unwrap();
        let listed = all(&store).unwrap();
        assert_eq!(listed, vec![t.clone()], "replaced, not added");
        assert!(remove(&store, "nightly").unwrap());
        assert!(!remove(&store, "nightly").unwrap());
        assert_eq!(find(&store, "nightly").unwrap(), None);
    }
}
