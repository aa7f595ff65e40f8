//! The engine's [`Connector`]: builds the right signed-in session for an account.

use std::sync::{Arc, OnceLock};

use ota_core::cloud::{CloudSession, Connector, Credentials, SessionCache};
use ota_core::{Account, ApiError, Cloud};

use crate::fleet_updates::{OnenetUpdates, QuectelUpdates, VicohomeUpdates, WithUpdates};
use crate::http::{self, BaseUrl, HttpConfig};
use crate::onenet::OnenetClient;
use crate::quectel::QuectelClient;
use crate::retry::RetryPolicy;
use crate::sandbox_admin::SimAdmin;
use crate::vicohome::{VicohomeClient, VicohomeOptions};

/// Builds sessions for every cloud over one shared HTTP client (one connection pool).
#[derive(Default)]
pub struct CloudConnector {
    http_config: HttpConfig,
    vicohome: VicohomeOptions,
    retry: RetryPolicy,
    client: OnceLock<reqwest::Client>,
}

impl CloudConnector {
    pub fn new(http_config: HttpConfig) -> Self {
        Self {
            http_config,
            ..Self::default()
        }
    }

    pub fn with_vicohome_options(mut self, options: VicohomeOptions) -> Self {
        self.vicohome = options;
        self
    }

    /// Retry policy for reads of Quectel and OneNET (Vicohome's is in its options).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn http(&self) -> Result<reqwest::Client, ApiError> {
        if let Some(client) = self.client.get() {
            return Ok(client.clone());
        }
        let client = http::build_client(&self.http_config)?;
        Ok(self.client.get_or_init(|| client).clone())
    }
}

impl Connector for CloudConnector {
    fn connect(
        &self,
        account: &Account,
        credentials: Credentials,
        session: SessionCache,
    ) -> Result<Arc<dyn CloudSession>, ApiError> {
        let base = BaseUrl::for_account(account)?;
        let http = self.http()?;
        // Sandbox accounts point at the simulator, whose management endpoints stand in for the clouds'
        // (unknown or non-public) publishing APIs.
        let admin = account
            .sandbox
            .then(|| SimAdmin::new(http.clone(), base.clone()));
        let session: WithUpdates = match account.cloud {
            Cloud::Vicohome => {
                let client = Arc::new(VicohomeClient::new(
                    http,
                    base,
                    credentials,
                    session,
                    self.vicohome.clone(),
                )?);
                WithUpdates {
                    inner: client.clone(),
                    updates: Box::new(VicohomeUpdates { client, admin }),
                }
            }
            Cloud::Quectel => {
                let client = Arc::new(QuectelClient::new(
                    http,
                    base,
                    credentials,
                    session,
                    self.retry.clone(),
                )?);
                WithUpdates {
                    inner: client.clone(),
                    updates: Box::new(QuectelUpdates::new(client, admin)),
                }
            }
            // OneNET signs every call with the access key; it has no session to keep.
            Cloud::Onenet => {
                let client = Arc::new(OnenetClient::new(
                    http,
                    base,
                    credentials,
                    self.retry.clone(),
                )?);
                WithUpdates {
                    inner: client.clone(),
                    updates: Box::new(OnenetUpdates { client, admin }),
                }
            }
        };
        Ok(Arc::new(session))
    }
}

#[cfg(test)]
mod tests {
    use ota_core::{ErrorKind, Secret};

    use super::*;

    fn account(cloud: Cloud, base_url: &str) -> Account {
        Account {
            id: 1,
            name: "a".into(),
            cloud,
            base_url: base_url.into(),
            region: None,
            username: Some("u@example.com".into()),
            sandbox: false,
            created_at: 0,
            allow_http: false,
        }
    }

    fn creds(username: Option<&str>) -> Credentials {
        Credentials {
            username: username.map(str::to_string),
            secret: Secret::new("AAAA"),
        }
    }

    #[test]
    fn builds_a_session_per_cloud() {
        let connector = CloudConnector::default();
        let vico = connector
            .connect(
                &account(Cloud::Vicohome, "https://api-us.vicohome.io"),
                creds(Some("u@e.com")),
                SessionCache::in_memory(),
            )
            .unwrap();
        assert!(vico.vicohome().is_some());
        assert!(vico.quectel().is_none() && vico.onenet().is_none());
        let quec = connector
            .connect(
                &account(Cloud::Quectel, "https://iot-api.acceleronix.io"),
                creds(Some("u@e.com")),
                SessionCache::in_memory(),
            )
            .unwrap();
        assert!(quec.vicohome().is_none() && quec.onenet().is_none());
        assert!(quec.quectel().is_some());
        let one = connector
            .connect(
                &account(Cloud::Onenet, "https://ota.heclouds.com"),
                creds(Some("245528")),
                SessionCache::in_memory(),
            )
            .unwrap();
        assert!(one.vicohome().is_none() && one.quectel().is_none());
        assert!(one.onenet().is_some());
        for session in [&vico, &quec, &one] {
            assert!(session.fleet_updates().is_some());
        }
    }

    #[test]
    fn refuses_plain_http_and_missing_names() {
        let connector = CloudConnector::default();
        let err = connector
            .connect(
                &account(Cloud::Vicohome, "http://api-us.vicohome.io"),
                creds(Some("u@e.com")),
                SessionCache::in_memory(),
            )
            .err()
            .unwrap();
        assert_eq!(err.code, ErrorKind::Validation);
        let err = connector
            .connect(
                &account(Cloud::Quectel, "https://iot-api.acceleronix.io"),
                creds(None),
                SessionCache::in_memory(),
            )
            .err()
            .unwrap();
        assert_eq!(err.code, ErrorKind::Validation);
    }
}
