//! The simulator alone: every device listing an import makes, sent by a bare HTTP client (signed in
//! first, then the same requests at the same concurrency as the console's clients), each answer read in
//! full and not decoded. It is the floor of an import over HTTP: what the simulator and the loopback
//! connection cost, without the console's decoding or its SQLite writes.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use ota_clouds::onenet::{sign, Resource, TokenRequest};
use ota_core::Cloud;

/// The Quectel page size and how many pages are in flight at once: what the console's client uses.
const QUECTEL_PAGE_SIZE: u32 = 100;
const QUECTEL_PAGES_AT_ONCE: usize = 4;

pub struct BareListing {
    pub elapsed: Duration,
    pub requests: usize,
    pub bytes: usize,
}

/// A listing request the bare client can repeat: one per Vicohome account and OneNET product, and a
/// paged one for Quectel.
enum Lister {
    Vicohome { token: String },
    Quectel { token: String },
    Onenet { product_id: String, token: String },
}

/// Signs in to every sandbox account (not timed), then times every listing, all clouds at once.
pub async fn list_everything(sim_url: &str) -> anyhow::Result<BareListing> {
    let http = reqwest::Client::new();
    let mut listers = Vec::new();
    for account in ota_clouds::sandbox_accounts(sim_url).await? {
        let user = account.credentials.username.clone().unwrap_or_default();
        let secret = account.credentials.secret.expose().to_string();
        listers.push(match account.cloud {
            Cloud::Vicohome => Lister::Vicohome {
                token: vicohome_token(&http, sim_url, &user, &secret).await?,
            },
            Cloud::Quectel => Lister::Quectel {
                token: quectel_token(&http, sim_url, &user, &secret).await?,
            },
            Cloud::Onenet => Lister::Onenet {
                token: sign(
                    &account.credentials.secret,
                    &TokenRequest::new(Resource::Product(user.clone())),
                )?,
                product_id: user,
            },
        });
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for lister in listers {
        let http = http.clone();
        let url = sim_url.to_string();
        tasks.spawn(async move { list(&http, &url, lister).await });
    }
    let (mut requests, mut bytes) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (r, b) = done??;
        requests += r;
        bytes += b;
    }
    Ok(BareListing {
        elapsed: started.elapsed(),
        requests,
        bytes,
    })
}

/// One account's listing: (requests, bytes).
async fn list(http: &reqwest::Client, url: &str, lister: Lister) -> anyhow::Result<(usize, usize)> {
    match lister {
        Lister::Vicohome { token } => {
            let body = http
                .post(format!("{url}/device/listuserdevices"))
                .header("Authorization", token)
                .json(&serde_json::json!({"language": "en", "countryNo": "US"}))
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            Ok((1, body.len()))
        }
        Lister::Onenet { product_id, token } => {
            let body = http
                .get(format!("{url}/_sim/onenet/devices"))
                .query(&[("product_id", product_id.as_str())])
                .header("Authorization", token)
                .header("Content-Type", "application/json")
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            Ok((1, body.len()))
        }
        Lister::Quectel { token } => {
            let first = quectel_page(http, url, &token, 1).await?;
            let total = serde_json::from_slice::<serde_json::Value>(&first)?["data"]["total"]
                .as_u64()
                .context("no total in the first Quectel page")? as u32;
            let pages = total.div_ceil(QUECTEL_PAGE_SIZE).max(1);
            let next = Arc::new(AtomicU32::new(2));
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..QUECTEL_PAGES_AT_ONCE {
                let (http, url, token, next) =
                    (http.clone(), url.to_string(), token.clone(), next.clone());
                workers.spawn(async move {
                    let (mut requests, mut bytes) = (0, 0);
                    loop {
                        let page = next.fetch_add(1, Ordering::Relaxed);
                        if page > pages {
                            return anyhow::Ok((requests, bytes));
                        }
                        bytes += quectel_page(&http, &url, &token, page).await?.len();
                        requests += 1;
                    }
                });
            }
            let (mut requests, mut bytes) = (1, first.len());
            while let Some(done) = workers.join_next().await {
                let (r, b) = done??;
                requests += r;
                bytes += b;
            }
            Ok((requests, bytes))
        }
    }
}

async fn quectel_page(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    page: u32,
) -> anyhow::Result<impl std::ops::Deref<Target = [u8]>> {
    Ok(http
        .get(format!("{url}/v2/binding/enduserapi/userDeviceList"))
        .query(&[("pageNumber", page), ("pageSize", QUECTEL_PAGE_SIZE)])
        .header("Authorization", token)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?)
}

async fn vicohome_token(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let answer: serde_json::Value = http
        .post(format!("{url}/account/login"))
        .json(&serde_json::json!({"email": email, "password": password, "loginType": 0}))
        .send()
        .await?
        .json()
        .await?;
    answer["data"]["token"]["token"]
        .as_str()
        .map(str::to_string)
        .context("no token in the Vicohome sign-in answer")
}

async fn quectel_token(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let answer: serde_json::Value = http
        .post(format!("{url}/v2/enduser/enduserapi/emailPwdLogin"))
        .form(&[("email", email), ("pwd", password)])
        .send()
        .await?
        .json()
        .await?;
    answer["data"]["accessToken"]["token"]
        .as_str()
        .map(str::to_string)
        .context("no access token in the Quectel sign-in answer")
}
