//! Bluetooth devices, where the app carries the package: the report table, the open plan, reports
//! (audited) and the verified package download with progress.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ota_core::cloud::QuectelEndUserApi;
use ota_core::quectel::{
    BlePlan, BleReportStatus, QuectelBlePackage, QuectelBlePhase, QuectelBlePlan,
    QuectelBleProgress, QuectelBleReported, QuectelBleStatus, VerifiedPackage,
};
use ota_core::{Account, ApiError, Cloud, Console, DataKind, ErrorKind};

use super::locate::{locate, Located, Session};

/// Download progress goes out at most this often (the final state always).
const PROGRESS_GAP: Duration = Duration::from_millis(100);

fn status_view(status: BleReportStatus) -> QuectelBleStatus {
    QuectelBleStatus {
        code: status.code() as u8,
        name: status.name().to_string(),
        meaning: status.meaning().to_string(),
        failure: status.is_failure(),
        outcome: status.is_failure() || status == BleReportStatus::Succeeded,
    }
}

/// The Bluetooth report table, in code order.
pub fn ble_statuses() -> Vec<QuectelBleStatus> {
    BleReportStatus::all().map(status_view).collect()
}

/// The status with this `reportStatus` code, or why there is none.
pub fn ble_status(code: i64) -> Result<BleReportStatus, ApiError> {
    BleReportStatus::from_code(code).ok_or_else(|| {
        ApiError::validation(format!(
            "{code} is not a Bluetooth report status; use a code from 0 to 12."
        ))
    })
}

fn no_ble_plan(device_key: &str) -> ApiError {
    ApiError::not_found(format!(
        "Quectel has no open Bluetooth plan for {device_key}."
    ))
}

/// The Bluetooth plan as the cloud gives it (`None` when there is none), with the device.
pub async fn ble_fetch_plan(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
) -> Result<(Located, Option<BlePlan>), ApiError> {
    let located = locate(console, accounts, device_key).await?;
    let session = Session::open(console, &located.account)?;
    let plan = session
        .client()?
        .fetch_plan(&located.product_key, &located.device_key)
        .await?;
    Ok((located, plan))
}

/// The Bluetooth plan as the window shows it.
pub async fn ble_fetch(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
) -> Result<Option<QuectelBlePlan>, ApiError> {
    let (located, plan) = ble_fetch_plan(console, accounts, device_key).await?;
    Ok(plan.map(|p| QuectelBlePlan {
        device_key: located.device_key,
        plan_id: p.plan_id,
        target_version: p.target_version,
        component_no: p.component_no,
        description: p.desc,
        file_name: p.file_name,
        file_size: p.file_size,
        file_sign: p.file_sign,
    }))
}

async fn report_for(
    console: &Console,
    client: &dyn QuectelEndUserApi,
    located: &Located,
    component: &str,
    status: BleReportStatus,
) -> Result<QuectelBleReported, ApiError> {
    let result = client
        .report_status(&located.product_key, &located.device_key, component, status)
        .await;
    console.audit(
        &format!("quectel.ble.report {}", status.name()),
        Some(Cloud::Quectel),
        Some(&located.device_key),
        &result,
    );
    result?;
    Ok(QuectelBleReported {
        device_key: located.device_key.clone(),
        status: status_view(status),
        message: format!(
            "Quectel recorded {} ({}): {}.",
            status.code(),
            status.name(),
            status.meaning()
        ),
    })
}

/// Reports a step or the outcome of a Bluetooth upgrade (componentNo defaults to the plan's); audited.
/// After "succeeded" the account's fleet is read again so the device shows its new firmware.
pub async fn ble_report(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
    status: BleReportStatus,
    component: Option<String>,
) -> Result<QuectelBleReported, ApiError> {
    let located = locate(console, accounts, device_key).await?;
    let session = Session::open(console, &located.account)?;
    let client = session.client()?;
    let component = match component.filter(|c| !c.trim().is_empty()) {
        Some(c) => c,
        None => client
            .fetch_plan(&located.product_key, &located.device_key)
            .await?
            .and_then(|p| p.component_no)
            .ok_or_else(|| no_ble_plan(&located.device_key))?,
    };
    let reported = report_for(console, client, &located, &component, status).await?;
    if status == BleReportStatus::Succeeded {
        if let Err(err) = console
            .refresh_accounts(std::slice::from_ref(&located.account))
            .await
        {
            tracing::info!(error = %err.display_line(), "refresh after a Bluetooth result failed");
        }
        console.notify(DataKind::Devices);
    }
    Ok(reported)
}

/// Where the window keeps a device's Bluetooth packages: `<data>/downloads/quectel/<deviceKey>/`.
pub fn ble_download_dir(data_dir: &Path, device_key: &str) -> PathBuf {
    let safe: String = device_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.chars().all(|c| c == '.') {
        "_".repeat(safe.len().max(1))
    } else {
        safe
    };
    data_dir.join("downloads").join("quectel").join(safe)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct BleDownloadOptions {
    /// Report "downloading" before and "downloaded" (or "failed-checksum" / "failed-download") after, as
    /// the app does in the vendor's flow.
    pub report_steps: bool,
}

fn progress_of(
    device_key: &str,
    phase: QuectelBlePhase,
    received: u64,
    total: Option<u64>,
) -> QuectelBleProgress {
    let percent = match (phase, total) {
        (QuectelBlePhase::Done, _) => 100,
        (_, Some(total)) if total > 0 => ((received.min(total) * 100) / total) as u8,
        _ => 0,
    };
    QuectelBleProgress {
        device_key: device_key.to_string(),
        phase,
        received,
        total,
        percent,
    }
}

/// Downloads the open Bluetooth plan's package into `dir`, verified against its SHA-256 (the file is kept
/// only when it matches); progress at most every 100 ms and always the final state. Audited.
pub async fn ble_download(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
    dir: &Path,
    options: BleDownloadOptions,
    progress: &mut (dyn FnMut(QuectelBleProgress) + Send),
) -> Result<VerifiedPackage, ApiError> {
    let located = locate(console, accounts, device_key).await?;
    let session = Session::open(console, &located.account)?;
    let client = session.client()?;
    let dk = located.device_key.clone();
    let plan = client
        .fetch_plan(&located.product_key, &dk)
        .await?
        .ok_or_else(|| no_ble_plan(&dk))?;
    let component = plan.component_no.clone().unwrap_or_default();
    let total = plan.file_size.and_then(|s| u64::try_from(s).ok());
    if options.report_steps {
        report_for(
            console,
            client,
            &located,
            &component,
            BleReportStatus::Downloading,
        )
        .await?;
    }
    tokio::fs::create_dir_all(dir).await.map_err(|e| {
        ApiError::internal(format!("Cannot create the folder {}: {e}", dir.display()))
    })?;

    progress(progress_of(&dk, QuectelBlePhase::Downloading, 0, total));
    let mut last_sent = Instant::now();
    let mut received = 0;
    let result = client
        .download_package_with_progress(&plan, dir, &mut |bytes| {
            received = bytes;
            let complete = total.is_some_and(|t| bytes >= t);
            if complete || last_sent.elapsed() >= PROGRESS_GAP {
                let phase = if complete {
                    QuectelBlePhase::Verifying
                } else {
                    QuectelBlePhase::Downloading
                };
                progress(progress_of(&dk, phase, bytes, total));
                last_sent = Instant::now();
            }
        })
        .await;
    let audited = result.as_ref().map(|_| ()).map_err(Clone::clone);
    console.audit(
        &format!(
            "quectel.ble.download {}",
            plan.target_version.as_deref().unwrap_or("?")
        ),
        Some(Cloud::Quectel),
        Some(&dk),
        &audited,
    );
    match &result {
        Ok(package) => progress(progress_of(
            &dk,
            QuectelBlePhase::Done,
            package.size,
            Some(package.size),
        )),
        Err(_) => progress(progress_of(&dk, QuectelBlePhase::Failed, received, total)),
    }
    if options.report_steps {
        let step = match &result {
            Ok(_) => BleReportStatus::Downloaded,
            Err(err) if err.code == ErrorKind::Device => BleReportStatus::FailedChecksum,
            Err(_) => BleReportStatus::FailedDownload,
        };
        if let Err(err) = report_for(console, client, &located, &component, step).await {
            tracing::warn!(error = %err.display_line(), step = step.name(), "could not report a Bluetooth download step");
            if result.is_ok() {
                return Err(err.with_hint(
                    "The package was downloaded and verified, but Quectel was not told; report again.",
                ));
            }
        }
    }
    result
}

/// [`ble_download`] as the window shows the result.
pub fn package_view(device_key: &str, package: &VerifiedPackage) -> QuectelBlePackage {
    QuectelBlePackage {
        device_key: device_key.to_string(),
        path: package.path.display().to_string(),
        size: package.size,
        sha256: package.sha256.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_table_marks_outcomes() {
        let table = ble_statuses();
        assert_eq!(table.len(), 13);
        assert!(!table[0].outcome && !table[0].failure);
        let succeeded = table.iter().find(|s| s.name == "succeeded").unwrap();
        assert!(succeeded.outcome && !succeeded.failure);
        assert!(table.iter().filter(|s| s.failure).all(|s| s.outcome));
        assert!(ble_status(13).is_err());
        assert_eq!(ble_status(6).unwrap(), BleReportStatus::FailedChecksum);
    }

    #[test]
    fn download_dir_is_safe() {
        let dir = ble_download_dir(Path::new("/data"), "../x y");
        assert_eq!(dir, Path::new("/data/downloads/quectel/.._x_y"));
        let dots = ble_download_dir(Path::new("/data"), "..");
        assert_eq!(dots, Path::new("/data/downloads/quectel/__"));
        let p = progress_of("d", QuectelBlePhase::Downloading, 50, Some(200));
        assert_eq!(p.percent, 25);
        assert_eq!(
            progress_of("d", QuectelBlePhase::Done, 0, None).percent,
            100
        );
    }
}
