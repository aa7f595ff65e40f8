//! The download token's life after the check: `GET /ota/south/download/{token}/check` (pending →
//! downloading), `POST /ota/south/device/download/{token}/progress` (`{"step": n}`: percent, or a result
//! code above 100) and `POST /ota/south/report?token=` (`{"result": code}`), with the state machine
//! both result paths share. A task's results are reported twice, in order: a 1xx after the download, a
//! 2xx after the upgrade (seed, shared README):
//!
//! | code    | from                                                       | to        |
//! |---------|------------------------------------------------------------|-----------|
//! | 101     | downloading                                                | upgrading |
//! | 101     | upgrading, reached by progress step 100 with no 1xx yet    | upgrading |
//! | 102–107 | downloading                                                | failed    |
//! | 201     | upgrading                                                  | succeeded |
//! | 202–208 | upgrading                                                  | failed    |
//!
//! Anything else on an unfinished task is errno 21 "invalid operation": a 1xx while pending (the token
//! was never checked, nothing was downloaded) or paused, a 2xx while pending, downloading or paused, a
//! second 1xx. The second 101 row is OneNET's C SDK order: it sends progress step 100 (which begins
//! the upgrade phase) and then its one download report, 101. On a finished task the answer is 20
//! (succeeded/failed) or 22 (cancelled). Progress steps 0–100 are taken only while downloading (17
//! otherwise). The `offline` fault makes the token check and the progress answer 17.
//!
//! Report and progress demand `Content-Type: application/json` (see the module above): without it the
//! answer is 24, as for any body that is not the JSON they expect.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::tasks::{known_result, Task, TaskState, TokenProblem};
use super::{
    authorize, call, caller, declares_json, dev_id_of, errno, fail, finished_errno, ok_reply,
    on_success, param, Params, PROGRESS, REPORT, TOKEN_CHECK,
};
use crate::faults::FaultKind;
use crate::gateway;
use crate::world::{Sim, World};

/// Applies a result code (from a report, or a progress step above 100).
fn apply_result(task: &mut Task, code: i64, now: f64) -> Result<(), i64> {
    if let Some(code) = finished_errno(task.state) {
        return Err(code);
    }
    if !known_result(code) {
        return Err(errno::PARAMS);
    }
    use TaskState::*;
    // No result is recorded while a task is unfinished except the download's 101.
    let download_reported = task.last_result.is_some();
    let next = match (code, task.state) {
        (101, Downloading) => Upgrading,
        (101, Upgrading) if !download_reported => Upgrading,
        (102..=107, Downloading) => Failed,
        (201, Upgrading) => Succeeded,
        (202..=208, Upgrading) => Failed,
        _ => return Err(errno::INVALID_OPERATION),
    };
    // known_result keeps the code in 101..=208.
    task.last_result = u16::try_from(code).ok();
    if next == Upgrading {
        task.step = 100;
    }
    task.set_state(next, now);
    Ok(())
}

/// Applies `code` to task `id` and its consequences (a success moves the device to the target).
fn apply_to(world: &mut World, id: u64, code: i64) -> Result<(), i64> {
    let now = world.now_ms();
    let task = world.onenet.task_mut(id).ok_or(errno::INTERNAL)?;
    apply_result(task, code, now)?;
    on_success(world, id);
    Ok(())
}

/// `{"result": n}` (or `{"step": n}`): n when it is a whole number, else None.
fn int_field(body: &[u8], name: &str) -> Option<i64> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get(name)?.as_i64()
}

/// errno for a token that does not serve the caller, on the download path (check, progress).
fn download_path_errno(problem: TokenProblem) -> i64 {
    match problem {
        TokenProblem::Unknown | TokenProblem::Foreign => errno::NO_TOKEN,
        TokenProblem::Expired => errno::TOKEN_EXPIRED,
    }
}

/// Token check: 2 no dev_id; 1 auth; 4 unknown token or another device's; 12 expired; 20/22 task over;
/// 17 paused, or the `offline` fault; 0 pending (→ downloading) or already downloading/upgrading.
pub async fn token_check(
    State(sim): State<Arc<Sim>>,
    Path(token): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    let auth = gateway::authorization(&headers);
    let dev_id = dev_id_of(&params);
    gateway::serve(&sim, call(TOKEN_CHECK, dev_id.as_deref()), |world| {
        let dev_id = match caller(world, dev_id.as_deref(), auth.as_deref()) {
            Ok(device) => device.id,
            Err(refusal) => return refusal,
        };
        let now = world.now_ms();
        let id = match world.onenet.for_token(&token, &dev_id, now) {
            Ok(id) => id,
            Err(problem) => return fail(download_path_errno(problem)),
        };
        let Some(task) = world.onenet.task_mut(id) else {
            return fail(errno::INTERNAL);
        };
        if let Some(code) = finished_errno(task.state) {
            return fail(code);
        }
        match task.state {
            _ if world.faults.hit(FaultKind::Offline, Some(&dev_id)) => fail(errno::INVALID_STATE),
            TaskState::Pending => {
                task.set_state(TaskState::Downloading, now);
                ok_reply(None::<()>)
            }
            TaskState::Downloading | TaskState::Upgrading => ok_reply(None::<()>),
            _ => fail(errno::INVALID_STATE),
        }
    })
    .await
}

/// Progress: 2 no dev_id; 1 auth; 24 no `Content-Type: application/json`, or a body without an
/// integer `step` (or a negative one); 4 unknown or foreign token; 12 expired; 20/22 task over;
/// step > 100: the report's rules; step 0–100: 17 unless downloading (or under `offline`), else 0, and
/// 100 moves the task to upgrading.
pub async fn progress(
    State(sim): State<Arc<Sim>>,
    Path(token): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = gateway::authorization(&headers);
    let json_body = declares_json(&headers);
    let dev_id = dev_id_of(&params);
    gateway::serve(&sim, call(PROGRESS, dev_id.as_deref()), |world| {
        let dev_id = match caller(world, dev_id.as_deref(), auth.as_deref()) {
            Ok(device) => device.id,
            Err(refusal) => return refusal,
        };
        if !json_body {
            return fail(errno::BAD_RESULT);
        }
        let Some(step) = int_field(&body, "step").filter(|s| *s >= 0) else {
            return fail(errno::BAD_RESULT);
        };
        let now = world.now_ms();
        let id = match world.onenet.for_token(&token, &dev_id, now) {
            Ok(id) => id,
            Err(problem) => return fail(download_path_errno(problem)),
        };
        if step > 100 {
            return match apply_to(world, id, step) {
                Ok(()) => ok_reply(None::<()>),
                Err(code) => fail(code),
            };
        }
        let Some(task) = world.onenet.task_mut(id) else {
            return fail(errno::INTERNAL);
        };
        if let Some(code) = finished_errno(task.state) {
            return fail(code);
        }
        if task.state != TaskState::Downloading
            || world.faults.hit(FaultKind::Offline, Some(&dev_id))
        {
            return fail(errno::INVALID_STATE);
        }
        // 0..=100 here.
        task.step = u8::try_from(step).unwrap_or(100);
        task.updated_ms = now;
        if step == 100 {
            task.set_state(TaskState::Upgrading, now);
        }
        ok_reply(None::<()>)
    })
    .await
}

/// Report: 2 no dev_id or no token parameter; 1 auth, or a download token no task has, or an
/// expired one; 24 no `Content-Type: application/json`, or a body without an integer `result`; 21
/// another device's token; 20/22 task over; 2 unknown code; 21 a code out of order (see the table
/// above); else 0.
pub async fn report(
    State(sim): State<Arc<Sim>>,
    Query(params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = gateway::authorization(&headers);
    let json_body = declares_json(&headers);
    let dev_id = dev_id_of(&params);
    let token = param(&params, "token").map(str::to_string);
    gateway::serve(&sim, call(REPORT, dev_id.as_deref()), |world| {
        let (Some(dev_id), Some(token)) = (dev_id, token) else {
            return fail(errno::PARAMS);
        };
        if let Err(code) = authorize(world, &dev_id, auth.as_deref()) {
            return fail(code);
        }
        if !json_body {
            return fail(errno::BAD_RESULT);
        }
        let Some(result) = int_field(&body, "result") else {
            return fail(errno::BAD_RESULT);
        };
        let now = world.now_ms();
        let id = match world.onenet.for_token(&token, &dev_id, now) {
            Ok(id) => id,
            Err(TokenProblem::Foreign) => return fail(errno::INVALID_OPERATION),
            Err(TokenProblem::Unknown | TokenProblem::Expired) => return fail(errno::AUTH),
        };
        match apply_to(world, id, result) {
            Ok(()) => ok_reply(None::<()>),
            Err(code) => fail(code),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::super::tasks::{Package, TaskSpec, APPLICATION, FULL};
    use super::*;

    fn task(state: TaskState) -> Task {
        Task {
            id: 1,
            spec: TaskSpec {
                dev_id: "1".into(),
                product_id: "p".into(),
                target: "V2".into(),
                task_type: APPLICATION,
                package_kind: FULL,
                from_version: None,
                manuf: "102".into(),
                model: "10201".into(),
                signal: 0,
                power: 0,
                retry: 0,
                interval: 0,
            },
            package: Arc::new(Package::generate(1, 10)),
            state,
            paused_from: None,
            token: "ota_x".into(),
            token_expires_ms: 1e12,
            last_result: None,
            step: 0,
            served: Default::default(),
            created_ms: 0.0,
            updated_ms: 0.0,
            auto: None,
        }
    }

    #[test]
    fn the_report_state_machine() {
        use TaskState::*;
        let mut t = task(Downloading);
        assert_eq!(apply_result(&mut t, 101, 1.0), Ok(()));
        assert_eq!((t.state, t.step), (Upgrading, 100));
        assert_eq!(
            apply_result(&mut t, 101, 1.5),
            Err(errno::INVALID_OPERATION),
            "the download is reported once"
        );
        assert_eq!(
            apply_result(&mut t, 104, 1.5),
            Err(errno::INVALID_OPERATION),
            "no download failure after the download"
        );
        assert_eq!(apply_result(&mut t, 201, 2.0), Ok(()));
        assert_eq!(t.state, Succeeded);
        assert_eq!(apply_result(&mut t, 201, 3.0), Err(errno::FINISHED));

        // The C SDK's order: progress step 100 began the upgrade, then its one 101.
        let mut sdk = task(Upgrading);
        assert_eq!(apply_result(&mut sdk, 101, 1.0), Ok(()));
        assert_eq!((sdk.state, sdk.last_result), (Upgrading, Some(101)));
        assert_eq!(
            apply_result(&mut sdk, 101, 1.5),
            Err(errno::INVALID_OPERATION)
        );

        let table: &[(TaskState, i64, Result<TaskState, i64>)] = &[
            (Pending, 101, Err(errno::INVALID_OPERATION)),
            (Pending, 104, Err(errno::INVALID_OPERATION)),
            (Pending, 107, Err(errno::INVALID_OPERATION)),
            (Pending, 201, Err(errno::INVALID_OPERATION)),
            (Pending, 205, Err(errno::INVALID_OPERATION)),
            (Downloading, 102, Ok(Failed)),
            (Downloading, 107, Ok(Failed)),
            (Downloading, 201, Err(errno::INVALID_OPERATION)),
            (Downloading, 205, Err(errno::INVALID_OPERATION)),
            (Downloading, 208, Err(errno::INVALID_OPERATION)),
            (Upgrading, 102, Err(errno::INVALID_OPERATION)),
            (Upgrading, 107, Err(errno::INVALID_OPERATION)),
            (Upgrading, 202, Ok(Failed)),
            (Upgrading, 205, Ok(Failed)),
            (Upgrading, 208, Ok(Failed)),
            (Paused, 101, Err(errno::INVALID_OPERATION)),
            (Paused, 201, Err(errno::INVALID_OPERATION)),
            (Failed, 101, Err(errno::FINISHED)),
            (Succeeded, 299, Err(errno::FINISHED)),
            (Cancelled, 101, Err(errno::CANCELLED)),
            (Downloading, 299, Err(errno::PARAMS)),
            (Downloading, 100, Err(errno::PARAMS)),
            (Downloading, 108, Err(errno::PARAMS)),
            (Downloading, 209, Err(errno::PARAMS)),
        ];
        for (from, code, want) in table {
            let mut t = task(*from);
            let got = apply_result(&mut t, *code, 0.0).map(|()| t.state);
            assert_eq!(got, *want, "{code} from {from:?}");
            if got.is_ok() {
                assert_eq!(t.last_result, Some(*code as u16));
            } else {
                assert_eq!((t.state, t.last_result), (*from, None), "untouched");
            }
        }
    }

    #[test]
    fn integer_fields() {
        assert_eq!(int_field(br#"{"result":201}"#, "result"), Some(201));
        assert_eq!(int_field(b"{\n \"result\": 201\n\n}", "result"), Some(201));
        assert_eq!(int_field(br#"{"result":"201"}"#, "result"), None);
        assert_eq!(int_field(br#"{"result":2.5}"#, "result"), None);
        assert_eq!(int_field(b"", "result"), None);
        assert_eq!(int_field(br#"{"step":7}"#, "result"), None);
    }
}
