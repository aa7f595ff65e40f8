//! Redirects never carry a request, its body or its credentials to another origin, never downgrade https,
//! and no request names the page it came from (`Referer`).

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ota_clouds::http::{build_client, may_follow_redirect, send, HttpConfig};
use ota_core::ErrorKind;

/// What a test server saw: (path, had a Referer, had an Authorization, body).
type Seen = Arc<Mutex<Vec<(String, bool, bool, String)>>>;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

fn recorder(seen: Seen) -> Router {
    let record = move |path: &'static str| {
        let seen = seen.clone();
        move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push((
                    path.to_string(),
                    headers.contains_key("referer"),
                    headers.contains_key("authorization"),
                    body,
                ));
                "ok"
            }
        }
    };
    Router::new()
        .route("/account/login", post(record("/account/login")))
        .route("/target", get(record("/target")))
}

fn redirect(to: String) -> Response {
    (StatusCode::TEMPORARY_REDIRECT, [("location", to)]).into_response()
}

#[tokio::test]
async fn a_cross_origin_307_with_a_sign_in_body_is_not_followed() {
    let elsewhere: Seen = Arc::default();
    let other = serve(recorder(elsewhere.clone())).await;
    let to = format!("{other}/account/login");
    let origin = serve(Router::new().route(
        "/account/login",
        post(move || {
            let to = to.clone();
            async move { redirect(to) }
        }),
    ))
    .await;

    let client = build_client(&HttpConfig::default()).unwrap();
    let request = client
        .post(format!("{origin}/account/login"))
        .header("authorization", "session-token")
        .json(&serde_json::json!({"email": "me@example.com", "password": "hunter2"}));
    let answer = send(request, "cloud").await.expect("an answer");
    assert_eq!(answer.status, StatusCode::TEMPORARY_REDIRECT);
    let err = answer.status_error("cloud").expect("a 3xx is an error");
    assert_eq!(err.code, ErrorKind::Validation);
    assert!(err.message.contains("did not follow"), "{}", err.message);
    assert!(
        elsewhere.lock().unwrap().is_empty(),
        "the other origin got the password: {:?}",
        elsewhere.lock().unwrap()
    );
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed_without_a_referer() {
    let seen: Seen = Arc::default();
    let router = recorder(seen.clone()).route(
        "/moved",
        get(|| async { redirect("/target?token=ota_secret".to_string()) }),
    );
    let origin = serve(router).await;
    let client = build_client(&HttpConfig::default()).unwrap();
    let answer = send(
        client.get(format!("{origin}/moved?token=ota_secret")),
        "cloud",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "/target");
    assert!(!seen[0].1, "a Referer (with the old URL's token) was sent");
}

#[test]
fn https_is_never_downgraded_and_other_hosts_or_ports_are_other_origins() {
    let u = |s: &str| url::Url::parse(s).unwrap();
    // (from, to, followed)
    let cases = [
        (
            "https://ota.example.com/a",
            "http://ota.example.com/a",
            false,
        ),
        (
            "https://api-us.vicohome.io/a",
            "https://evil.example/a",
            false,
        ),
        (
            "https://api-us.vicohome.io/a",
            "https://api-us.vicohome.io:8443/a",
            false,
        ),
        ("http://127.0.0.1:1/a", "http://127.0.0.1:2/a", false),
        (
            "https://api-us.vicohome.io/a",
            "https://api-us.vicohome.io/b?x=1",
            true,
        ),
    ];
    for (from, to, followed) in cases {
        let verdict = may_follow_redirect(&u(from), &u(to));
        assert_eq!(verdict, followed, "{from} -> {to}");
    }
}
