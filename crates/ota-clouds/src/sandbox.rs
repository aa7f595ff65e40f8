//! Sandbox mode: the simulator's test accounts, attached to the engine as "Sandbox …" accounts.

use ota_core::cloud::Credentials;
use ota_core::{Account, ApiError, Cloud, Console, Secret};
use serde::Deserialize;

use crate::http::{self, BaseUrl, HttpConfig};
use crate::lenient;
use crate::retry::{retry, RetryPolicy};

/// One account the simulator offers.
#[derive(Debug, Clone)]
pub struct SandboxAccount {
    pub cloud: Cloud,
    /// "Sandbox Vicohome", "Sandbox Quectel" or "Sandbox OneNET <product id>".
    pub name: String,
    pub credentials: Credentials,
}

/// `GET /_sim/accounts`.
#[derive(Debug, Default, Deserialize)]
struct SimAccounts {
    #[serde(default)]
    vicohome: Option<EmailPassword>,
    #[serde(default)]
    quectel: Option<EmailPassword>,
    #[serde(default)]
    onenet: Option<OnenetProducts>,
}

/// `Debug` never shows the password (test data, but a password all the same).
#[derive(Deserialize)]
struct EmailPassword {
    email: String,
    password: String,
}

impl std::fmt::Debug for EmailPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailPassword")
            .field("email", &self.email)
            .field("password", &format_args!("<redacted>"))
            .finish()
    }
}

#[derive(Debug, Default, Deserialize)]
struct OnenetProducts {
    #[serde(default, deserialize_with = "lenient::vec_or_empty")]
    products: Vec<OnenetProduct>,
}

/// `Debug` never shows the access key.
#[derive(Deserialize)]
struct OnenetProduct {
    #[serde(deserialize_with = "lenient::opt_string")]
    product_id: Option<String>,
    access_key: String,
}

impl std::fmt::Debug for OnenetProduct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnenetProduct")
            .field("product_id", &self.product_id)
            .field("access_key", &format_args!("<redacted>"))
            .finish()
    }
}

/// `GET /_sim/info` (only the field used here).
#[derive(Debug, Deserialize)]
struct SimInfo {
    time_scale: f64,
}

/// How much faster than real time the simulator at `sim_url` runs (`GET /_sim/info`), so a client can
/// poll at its pace: the vendor's 5 s poll is 25 ms of real time at time scale 200.
pub async fn sim_time_scale(sim_url: &str) -> Result<f64, ApiError> {
    let base = BaseUrl::parse(sim_url)?;
    let host = base.host_label();
    let client = http::build_client(&HttpConfig::default())?;
    let url = base.endpoint("/_sim/info");
    // One attempt: when the simulator is down, attaching its accounts (retried) says so anyway.
    let raw = http::send(client.get(&url), &host).await?;
    if let Some(err) = raw.status_error(&host) {
        return Err(err);
    }
    let info: SimInfo = http::decode_json(&raw.body)?;
    if info.time_scale.is_finite() && info.time_scale > 0.0 {
        Ok(info.time_scale)
    } else {
        Err(http::unreadable_answer())
    }
}

/// The simulator's sandbox accounts, read from `GET {sim_url}/_sim/accounts`.
pub async fn sandbox_accounts(sim_url: &str) -> Result<Vec<SandboxAccount>, ApiError> {
    let base = BaseUrl::parse(sim_url)?;
    let host = base.host_label();
    let client = http::build_client(&HttpConfig::default())?;
    let url = base.endpoint("/_sim/accounts");
    let accounts: SimAccounts = retry(&RetryPolicy::default(), "sandbox accounts", || async {
        let raw = http::send(client.get(&url), &host).await?;
        if let Some(err) = raw.status_error(&host) {
            return Err(err);
        }
        http::decode_json(&raw.body)
    })
    .await?;

    let mut out = Vec::new();
    if let Some(v) = accounts.vicohome {
        out.push(SandboxAccount {
            cloud: Cloud::Vicohome,
            name: "Sandbox Vicohome".into(),
            credentials: Credentials {
                username: Some(v.email),
                secret: Secret::new(v.password),
            },
        });
    }
    if let Some(q) = accounts.quectel {
        out.push(SandboxAccount {
            cloud: Cloud::Quectel,
            name: "Sandbox Quectel".into(),
            credentials: Credentials {
                username: Some(q.email),
                secret: Secret::new(q.password),
            },
        });
    }
    for product in accounts.onenet.unwrap_or_default().products {
        let Some(product_id) = product.product_id.filter(|p| !p.trim().is_empty()) else {
            continue;
        };
        out.push(SandboxAccount {
            cloud: Cloud::Onenet,
            name: format!("Sandbox OneNET {product_id}"),
            credentials: Credentials {
                username: Some(product_id),
                secret: Secret::new(product.access_key),
            },
        });
    }
    Ok(out)
}

/// Attaches every sandbox account of the simulator at `sim_url` to the engine and returns them. Sandbox
/// accounts the simulator no longer offers (another seed) are removed, so they cannot keep the fleet
/// marked as stale.
pub async fn attach(console: &Console, sim_url: &str) -> Result<Vec<Account>, ApiError> {
    let base_url = sim_url.trim().trim_end_matches('/');
    let offered = sandbox_accounts(base_url).await?;
    let mut attached = Vec::with_capacity(offered.len());
    for sandbox in offered {
        attached.push(console.attach_sandbox_account(
            sandbox.cloud,
            &sandbox.name,
            base_url,
            sandbox.credentials,
        )?);
    }
    for stale in console
        .accounts()?
        .into_iter()
        .filter(|a| a.sandbox && !attached.iter().any(|b| b.id == a.id))
    {
        if let Err(err) = console.remove_account(&stale.name) {
            tracing::warn!(account = %stale.name, error = %err.display_line(), "could not remove a stale sandbox account");
        }
    }
    Ok(attached)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_sandbox_passwords_or_access_keys() {
        let accounts: SimAccounts = serde_json::from_value(serde_json::json!({
            "vicohome": {"email": "v@sim.test", "password": "vico-SECRET"},
            "quectel": {"email": "q@sim.test", "password": "quec-SECRET"},
            "onenet": {"products": [{"product_id": "245528", "access_key": "a2V5LVNFQ1JFVA=="}]}
        }))
        .unwrap();
        let shown = format!("{accounts:?}");
        for secret in ["vico-SECRET", "quec-SECRET", "a2V5LVNFQ1JFVA=="] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("v@sim.test") && shown.contains("245528"),
            "{shown}"
        );
    }
}
