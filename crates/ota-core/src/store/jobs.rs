use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Store;
use crate::db::{params, Row, SqlExt};
use crate::error::OptionalRow;
use crate::error::{ApiError, CoreError, CoreResult, ErrorKind};
use crate::model::{now_ms, Cloud};
use crate::progress::{JobPhase, ProgressSample};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Starting,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Starting => "starting",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> JobState {
        match s {
            "starting" => JobState::Starting,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "cancelled" => JobState::Cancelled,
            _ => JobState::Failed,
        }
    }

    pub fn is_active(self) -> bool {
        matches!(self, JobState::Starting | JobState::Running)
    }
}

/// An OTA job as the window and the CLI show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub account_id: i64,
    pub cloud: Cloud,
    pub device_id: String,
    pub state: JobState,
    pub phase: JobPhase,
    /// The cloud's own state value last seen (Vicohome `otaStatus`).
    pub vendor_state: Option<i32>,
    pub percent: u8,
    #[ts(type = "number")]
    pub transferred: u64,
    #[ts(type = "number")]
    pub total: u64,
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    pub error: Option<ApiError>,
    #[ts(type = "number")]
    pub started_at: i64,
    #[ts(type = "number")]
    pub updated_at: i64,
    #[ts(type = "number | null")]
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob<'a> {
    pub account_id: i64,
    pub cloud: Cloud,
    pub device_id: &'a str,
    pub from_version: Option<&'a str>,
    pub to_version: Option<&'a str>,
}

/// One row of a job's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct JobEvent {
    #[ts(type = "number")]
    pub at: i64,
    pub sample: ProgressSample,
    pub message: Option<String>,
}

/// What a job observed: a sample, and for a final failure the explained error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSample {
    pub sample: ProgressSample,
    pub error: Option<ApiError>,
    /// Firmware the device reports after completing, when known.
    pub new_firmware: Option<String>,
}

const COLUMNS: &str = "id, account_id, cloud, device_id, state, phase, percent, transferred, total, \
     from_version, to_version, error_code, error_message, error_hint, started_at, updated_at, finished_at, \
     vendor_state";

fn job_from_row(row: &Row) -> CoreResult<JobView> {
    let cloud: String = row.get(2)?;
    let state: String = row.get(4)?;
    let phase: String = row.get(5)?;
    let error_code: Option<String> = row.get(11)?;
    let error_message: Option<String> = row.get(12)?;
    let error_hint: Option<String> = row.get(13)?;
    Ok(JobView {
        id: row.get(0)?,
        account_id: row.get(1)?,
        cloud: Cloud::parse(&cloud).unwrap_or(Cloud::Vicohome),
        device_id: row.get(3)?,
        state: JobState::parse(&state),
        phase: JobPhase::parse(&phase).unwrap_or(JobPhase::Starting),
        vendor_state: row.get(17)?,
        percent: row.get(6)?,
        transferred: row.get(7)?,
        total: row.get(8)?,
        from_version: row.get(9)?,
        to_version: row.get(10)?,
        error: error_message.map(|message| {
            let mut err = ApiError::new(ErrorKind::Device, message);
            if let Some(code) = error_code {
                err = err.with_vendor_code(code);
            }
            err.hint = error_hint;
            err
        }),
        started_at: row.get(14)?,
        updated_at: row.get(15)?,
        finished_at: row.get(16)?,
    })
}

impl Store {
    /// Records that an update is about to be requested. Fails with `Conflict` when the device already has
    /// an unfinished job: the store is the last guard against a duplicate OTA start.
    pub fn begin_job(&self, job: &NewJob<'_>) -> CoreResult<JobView> {
        let now = now_ms();
        self.write(|tx| {
            // The partial unique index `ota_jobs_one_active` refuses a second unfinished job: no row comes
            // back then (a refused INSERT would abort a PostgreSQL transaction; DO NOTHING does not).
            let inserted: Option<i64> = tx.query_opt(
                "INSERT INTO ota_jobs (account_id, cloud, device_id, state, phase, from_version, to_version,
                    started_at, updated_at)
                 VALUES (?1, ?2, ?3, 'starting', 'starting', ?4, ?5, ?6, ?6)
                 ON CONFLICT DO NOTHING RETURNING id",
                params![
                    job.account_id,
                    job.cloud.as_str(),
                    job.device_id,
                    job.from_version,
                    job.to_version,
                    now
                ],
                |r| r.get(0),
            )?;
            let Some(id) = inserted else {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!("{} already has an update in progress.", job.device_id),
                )
                .with_hint("Wait for it to finish; its progress is in the Jobs panel.")
                .into());
            };
            tx.query_row(
                &format!("SELECT {COLUMNS} FROM ota_jobs WHERE id = ?1"),
                params![id],
                job_from_row,
            )
        })
    }

    /// Appends a sample to the job's history and updates the job, in one transaction. The shown percent
    /// never decreases. A final phase closes the job (and updates the cached firmware on success).
    pub fn record_job_sample(&self, job_id: i64, observed: &JobSample) -> CoreResult<JobView> {
        let now = now_ms();
        self.write(|tx| {
            let job = tx
                .query_row(
                    &format!("SELECT {COLUMNS} FROM ota_jobs WHERE id = ?1"),
                    params![job_id],
                    job_from_row,
                )
                .optional()?
                .ok_or_else(|| ApiError::not_found(format!("No job {job_id}.")))?;
            if !job.state.is_active() {
                return Ok(job);
            }
            let s = observed.sample;
            let percent = s.percent.max(job.percent);
            let state = if s.phase == JobPhase::Complete {
                JobState::Succeeded
            } else if s.phase.is_failure() {
                JobState::Failed
            } else if s.phase == JobPhase::Starting {
                JobState::Starting
            } else {
                JobState::Running
            };
            let finished_at = (!state.is_active()).then_some(now);
            let err = observed.error.as_ref();
            tx.execute(
                "INSERT INTO job_events (job_id, at, vendor_state, phase, percent, transferred, total, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    job_id,
                    now,
                    s.vendor_state,
                    s.phase.as_str(),
                    percent,
                    s.transferred,
                    s.total,
                    err.map(|e| e.message.as_str())
                ],
            )?;
            tx.execute(
                "UPDATE ota_jobs SET state = ?2, phase = ?3, percent = ?4, transferred = ?5, total = ?6,
                    error_code = ?7, error_message = ?8, error_hint = ?9, updated_at = ?10, finished_at = ?11,
                    vendor_state = COALESCE(?12, vendor_state)
                 WHERE id = ?1",
                params![
                    job_id,
                    state.as_str(),
                    s.phase.as_str(),
                    percent,
                    s.transferred,
                    s.total,
                    err.and_then(|e| e.vendor_code.clone()),
                    err.map(|e| e.message.clone()),
                    err.and_then(|e| e.hint.clone()),
                    now,
                    finished_at,
                    s.vendor_state
                ],
            )?;
            if state == JobState::Succeeded {
                if let Some(fw) = observed
                    .new_firmware
                    .as_deref()
                    .or(job.to_version.as_deref())
                {
                    tx.execute(
                        "UPDATE devices SET firmware = ?3 WHERE account_id = ?1 AND device_id = ?2",
                        params![job.account_id, job.device_id, fw],
                    )?;
                }
            }
            tx.query_row(
                &format!("SELECT {COLUMNS} FROM ota_jobs WHERE id = ?1"),
                params![job_id],
                job_from_row,
            )
        })
    }

    /// Closes a job that failed before any sample (the cloud refused the start).
    pub fn fail_job(&self, job_id: i64, error: &ApiError) -> CoreResult<JobView> {
        let job = self.job(job_id)?;
        let sample = ProgressSample {
            vendor_state: None,
            phase: JobPhase::Rejected,
            percent: job.percent,
            transferred: job.transferred,
            total: job.total,
        };
        self.record_job_sample(
            job_id,
            &JobSample {
                sample,
                error: Some(error.clone()),
                new_firmware: None,
            },
        )
    }

    pub fn job(&self, job_id: i64) -> CoreResult<JobView> {
        self.read(|conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM ota_jobs WHERE id = ?1"),
                params![job_id],
                job_from_row,
            )
            .optional()?
            .ok_or_else(|| CoreError::Api(ApiError::not_found(format!("No job {job_id}."))))
        })
    }

    /// Newest first.
    pub fn jobs(&self, limit: u32) -> CoreResult<Vec<JobView>> {
        self.read(|conn| {
            let rows = conn.query_map(
                &format!(
                    "SELECT {COLUMNS} FROM ota_jobs ORDER BY started_at DESC, id DESC LIMIT ?1"
                ),
                params![limit],
                job_from_row,
            )?;
            Ok(rows)
        })
    }

    /// Jobs that were running when the app last stopped: they are watched again, never started again.
    pub fn active_jobs(&self) -> CoreResult<Vec<JobView>> {
        self.read(|conn| {
            let rows = conn.query_map(
                &format!(
                "SELECT {COLUMNS} FROM ota_jobs WHERE state IN ('starting', 'running') ORDER BY id"
            ),
                params![],
                job_from_row,
            )?;
            Ok(rows)
        })
    }

    pub fn active_job_for(&self, account_id: i64, device_id: &str) -> CoreResult<Option<JobView>> {
        self.read(|conn| {
            conn
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM ota_jobs
                         WHERE account_id = ?1 AND device_id = ?2 AND state IN ('starting', 'running')"
                    ),
                    params![account_id, device_id],
                    job_from_row,
                )
                .optional()
        })
    }

    pub fn job_events(&self, job_id: i64) -> CoreResult<Vec<JobEvent>> {
        self.read(|conn| {
            let rows = conn.query_map(
                "SELECT at, vendor_state, phase, percent, transferred, total, message
                 FROM job_events WHERE job_id = ?1 ORDER BY id",
                params![job_id],
                |row| {
                    let phase: String = row.get(2)?;
                    Ok(JobEvent {
                        at: row.get(0)?,
                        sample: ProgressSample {
                            vendor_state: row.get(1)?,
                            phase: JobPhase::parse(&phase).unwrap_or(JobPhase::Starting),
                            percent: row.get(3)?,
                            transferred: row.get(4)?,
                            total: row.get(5)?,
                        },
                        message: row.get(6)?,
                    })
                },
            )?;
            Ok(rows)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::vicohome_sample;
    use crate::store::test_store;

    #[test]
    fn one_active_job_per_device_and_history_is_kept() {
        let (_dir, store) = test_store();
        let acc = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let new = NewJob {
            account_id: acc.id,
            cloud: Cloud::Vicohome,
            device_id: "VC1",
            from_version: Some("1.0"),
            to_version: Some("1.1"),
        };
        let job = store.begin_job(&new).unwrap();
        let dup: ApiError = store.begin_job(&new).unwrap_err().into();
        assert_eq!(dup.code, ErrorKind::Conflict);

        let sample = |status, bytes, prev| JobSample {
            sample: vicohome_sample(status, bytes, 1000, prev),
            error: None,
            new_firmware: None,
        };
        store.record_job_sample(job.id, &sample(1, 500, 0)).unwrap();
        // A stale sample with fewer bytes does not move the bar back.
        let view = store.record_job_sample(job.id, &sample(1, 100, 0)).unwrap();
        assert_eq!(view.percent, 45);
        store
            .record_job_sample(job.id, &sample(2, 1000, 45))
            .unwrap();
        let done = store
            .record_job_sample(job.id, &sample(3, 1000, 95))
            .unwrap();
        assert_eq!((done.state, done.percent), (JobState::Succeeded, 100));
        assert!(done.finished_at.is_some());
        assert_eq!(store.job_events(job.id).unwrap().len(), 4);
        assert!(store.active_jobs().unwrap().is_empty());
        // Once finished, a new job for the device is allowed.
        store.begin_job(&new).unwrap();
    }
}
