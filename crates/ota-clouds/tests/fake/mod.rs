//! A scripted HTTP server for client tests that need exact control of each answer (the simulator covers
//! the realistic flows). Each path answers from its queue of scripted replies, then its default reply;
//! every request is logged.

#![allow(dead_code)]

pub mod onenet;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(value: serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string(),
        }
    }

    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub user_agent: Option<String>,
    pub body: String,
}

#[derive(Default)]
struct State {
    queued: HashMap<String, VecDeque<Reply>>,
    defaults: HashMap<String, Reply>,
    log: Vec<Seen>,
}

pub struct Fake {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _server: tokio::task::JoinHandle<()>,
}

impl Fake {
    pub async fn start() -> Self {
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let state = shared.clone();
            async move { answer(state, req).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            state,
            _server: server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The reply for `path` once all queued ones are used. `path` may carry a query ("/list?page=2"): a
    /// request with exactly that query gets it before the path's own replies (for requests sent at once).
    pub fn default(&self, path: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .defaults
            .insert(path.into(), reply);
    }

    /// Replies for `path`, used in order before the default.
    pub fn queue(&self, path: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .queued
            .entry(path.into())
            .or_default()
            .push_back(reply);
    }

    pub fn log(&self) -> Vec<Seen> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn calls(&self, path: &str) -> Vec<Seen> {
        self.log().into_iter().filter(|s| s.path == path).collect()
    }
}

async fn answer(state: Arc<Mutex<State>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let path = parts.uri.path().to_string();
    let with_query = format!("{path}?{}", parts.uri.query().unwrap_or_default());
    let reply = {
        let mut st = state.lock().unwrap();
        st.log.push(Seen {
            method: parts.method.to_string(),
            path: path.clone(),
            query: parts.uri.query().unwrap_or_default().to_string(),
            authorization: header("authorization"),
            content_type: header("content-type"),
            user_agent: header("user-agent"),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let queued = st.queued.get_mut(&path).and_then(VecDeque::pop_front);
        st.defaults
            .get(&with_query)
            .cloned()
            .or(queued)
            .or_else(|| st.defaults.get(&path).cloned())
            .unwrap_or_else(|| Reply::status(404, "no such path"))
    };
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    for (name, value) in reply.headers {
        response.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}
