//! Helpers for the Quectel end-user API: the sandbox account, the documented sign-in and its token.

use serde_json::Value;

use super::{client, get_json, send_for_json, SimHandle};

pub const LOGIN: &str = "/v2/enduser/enduserapi/emailPwdLogin";
pub const REFRESH: &str = "/v2/enduser/enduserapi/refreshToken";
pub const PLAN: &str = "/v2/quecota/enduserapi/v2/getDeviceUpgradePlan";
pub const CONFIRM: &str = "/v2/quecota/enduserapi/v2/userBatchConfirmUpgrade";

/// The sandbox account's (email, password), as /_sim/accounts lists them.
pub async fn credentials(sim: &SimHandle) -> (String, String) {
    let accounts = get_json(format!("{}/_sim/accounts", sim.url())).await;
    (
        accounts["quectel"]["email"].as_str().unwrap().to_string(),
        accounts["quectel"]["password"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// POSTs this form to the sign-in endpoint; the answer as it comes.
pub async fn login_with(sim: &SimHandle, form: &[(&str, &str)]) -> Value {
    send_for_json(client().post(format!("{}{LOGIN}", sim.url())).form(form)).await
}

/// Signs in with the sandbox account in the documented form (a form body); the whole answer.
pub async fn login(sim: &SimHandle) -> Value {
    let (email, password) = credentials(sim).await;
    login_with(sim, &[("email", &email), ("pwd", &password)]).await
}

/// PUTs this form to the refresh endpoint; the answer as it comes.
pub async fn refresh_with(sim: &SimHandle, form: &[(&str, &str)]) -> Value {
    send_for_json(client().put(format!("{}{REFRESH}", sim.url())).form(form)).await
}

/// The token at this path of a sign-in or refresh answer ("accessToken" or "refreshToken").
pub fn token_of(answer: &Value, which: &str) -> String {
    answer["data"][which]["token"].as_str().unwrap().to_string()
}

/// Signs in (the documented form: a form body); the access token.
pub async fn sign_in(sim: &SimHandle) -> String {
    let answer = login(sim).await;
    assert_eq!(answer["code"], 200, "{answer}");
    token_of(&answer, "accessToken")
}

/// An authorized POST with a JSON body; the answer as it comes.
pub async fn post_with(sim: &SimHandle, token: &str, path: &str, body: Value) -> Value {
    send_for_json(
        client()
            .post(format!("{}{path}", sim.url()))
            .header("Authorization", token)
            .json(&body),
    )
    .await
}
