use super::Store;
use crate::db::{params, Row, SqlExt};
use crate::error::{ApiError, CoreError, CoreResult, ErrorKind, OptionalRow};
use crate::model::{now_ms, Account, Cloud, NewAccount};

const COLUMNS: &str =
    "id, name, cloud, base_url, region, username, sandbox, created_at, allow_http";

fn account_from_row(row: &Row) -> CoreResult<Account> {
    let cloud: String = row.get(2)?;
    Ok(Account {
        id: row.get(0)?,
        name: row.get(1)?,
        cloud: Cloud::parse(&cloud).ok_or_else(|| CoreError::Column {
            index: 2,
            message: format!("{cloud:?} is not a cloud"),
        })?,
        base_url: row.get(3)?,
        region: row.get(4)?,
        username: row.get(5)?,
        sandbox: row.get(6)?,
        created_at: row.get(7)?,
        allow_http: row.get(8)?,
    })
}

impl Store {
    /// This database's random id (made by migration 0008): keychain entries are filed under it.
    pub fn instance_id(&self) -> CoreResult<String> {
        self.read(|conn| conn.query_value("SELECT id FROM store_identity LIMIT 1", params![]))
    }

    pub fn add_account(&self, new: &NewAccount) -> CoreResult<Account> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(ApiError::validation("An account needs a name.").into());
        }
        let url = crate::net::validate_account_url(new.cloud, &new.base_url, new.allow_http)?;
        let base_url = url.as_str().trim_end_matches('/').to_string();
        // Only record the choice where it matters (a plain http URL that is not loopback).
        let allow_http = new.allow_http && url.scheme() == "http" && !crate::net::is_loopback(&url);
        self.write(|tx| {
            let exists: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM accounts WHERE name = ?1)",
                params![name],
            )?;
            if exists {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!("An account named “{name}” already exists."),
                )
                .with_hint("Pick another name, or remove the existing account first.")
                .into());
            }
            let id: i64 = tx.query_value(
                "INSERT INTO accounts (name, cloud, base_url, region, username, sandbox, created_at, allow_http)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7) RETURNING id",
                params![
                    name,
                    new.cloud.as_str(),
                    base_url,
                    new.region.as_deref().filter(|s| !s.is_empty()),
                    new.username.as_deref().filter(|s| !s.is_empty()),
                    now_ms(),
                    allow_http
                ],
            )?;
            tx.query_row(
                &format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1"),
                params![id],
                account_from_row,
            )
        })
    }

    /// Creates or updates the sandbox account of `cloud`, pointing it at the simulator's current address.
    /// Its id stays the same across runs, so the cached fleet stays attached to it.
    pub fn upsert_sandbox_account(
        &self,
        cloud: Cloud,
        name: &str,
        base_url: &str,
        username: Option<&str>,
    ) -> CoreResult<Account> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO accounts (name, cloud, base_url, username, sandbox, created_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5)
                 ON CONFLICT(name) DO UPDATE SET base_url = excluded.base_url, username = excluded.username
                 WHERE accounts.sandbox = 1",
                params![name, cloud.as_str(), base_url, username, now_ms()],
            )?;
            tx.query_row(
                &format!("SELECT {COLUMNS} FROM accounts WHERE name = ?1"),
                params![name],
                account_from_row,
            )
        })
    }

    pub fn accounts(&self) -> CoreResult<Vec<Account>> {
        self.read(|conn| {
            conn.query_map(
                &format!("SELECT {COLUMNS} FROM accounts ORDER BY sandbox DESC, cloud, name"),
                params![],
                account_from_row,
            )
        })
    }

    pub fn account_by_name(&self, name: &str) -> CoreResult<Option<Account>> {
        self.read(|conn| {
            conn.query_opt(
                &format!("SELECT {COLUMNS} FROM accounts WHERE name = ?1"),
                params![name],
                account_from_row,
            )
        })
    }

    pub fn account(&self, id: i64) -> CoreResult<Account> {
        self.read(|conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1"),
                params![id],
                account_from_row,
            )
            .optional()?
            .ok_or_else(|| CoreError::Api(ApiError::not_found(format!("No account with id {id}."))))
        })
    }

    /// Removes the account and, in the same transaction, everything cached for it.
    pub fn remove_account(&self, name: &str) -> CoreResult<Account> {
        self.write(|tx| {
            let account = tx
                .query_row(
                    &format!("SELECT {COLUMNS} FROM accounts WHERE name = ?1"),
                    params![name],
                    account_from_row,
                )
                .optional()?
                .ok_or_else(|| ApiError::not_found(format!("No account named “{name}”.")))?;
            tx.execute("DELETE FROM accounts WHERE id = ?1", params![account.id])?;
            Ok(account)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_store;

    fn new_account(name: &str) -> NewAccount {
        NewAccount {
            name: name.into(),
            cloud: Cloud::Vicohome,
            base_url: "https://api-us.vicohome.io/".into(),
            region: Some("us".into()),
            username: Some("tech@example.com".into()),
            allow_http: false,
        }
    }

    #[test]
    fn add_list_remove() {
        let (_dir, store) = test_store();
        let a = store.add_account(&new_account("Field team")).unwrap();
        assert_eq!(a.base_url, "https://api-us.vicohome.io");
        assert_eq!(store.accounts().unwrap(), vec![a.clone()]);
        let err: ApiError = store
            .add_account(&new_account("Field team"))
            .unwrap_err()
            .into();
        assert_eq!(err.code, ErrorKind::Conflict);
        store.remove_account("Field team").unwrap();
        assert!(store.accounts().unwrap().is_empty());
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused() {
        let (_dir, store) = test_store();
        let mut acc = new_account("x");
        acc.base_url = "http://api-us.vicohome.io".into();
        let err: ApiError = store.add_account(&acc).unwrap_err().into();
        assert_eq!(err.code, ErrorKind::Validation);
    }

    #[test]
    fn sandbox_account_keeps_its_id_across_restarts() {
        let (_dir, store) = test_store();
        let first = store
            .upsert_sandbox_account(
                Cloud::Quectel,
                "Sandbox Quectel",
                "http://127.0.0.1:1000",
                None,
            )
            .unwrap();
        let second = store
            .upsert_sandbox_account(
                Cloud::Quectel,
                "Sandbox Quectel",
                "http://127.0.0.1:2000",
                None,
            )
            .unwrap();
        assert_eq!(first.id, second.id);
        assert_eq!(second.base_url, "http://127.0.0.1:2000");
        assert!(second.sandbox);
    }
}
