//! TypeScript bindings for the window, generated from the Rust types by ts-rs into `ui/src/bindings`.
//! The test below fails when the committed files are stale; `UPDATE_BINDINGS=1 cargo test -p ota-console
//! bindings` rewrites them.

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use ts_rs::TS;

    fn export_all(dir: &Path) {
        macro_rules! export {
            ($($t:ty),* $(,)?) => { $( <$t as TS>::export_all_to(dir).expect(stringify!($t)); )* };
        }
        export!(
            ota_core::ApiError,
            ota_core::ErrorKind,
            ota_core::Account,
            ota_core::NewAccount,
            ota_core::Device,
            ota_core::DeviceQuery,
            ota_core::DevicePage,
            ota_core::FleetFreshness,
            ota_core::AccountFreshness,
            ota_core::DataKind,
            ota_core::store::JobView,
            ota_core::store::JobEvent,
            ota_core::store::JobState,
            ota_core::store::AuditEntry,
            ota_core::progress::JobPhase,
            ota_core::progress::ProgressSample,
            crate::commands::AppInfo,
            ota_core::onenet::OnenetCheck,
            ota_core::onenet::OnenetTask,
            ota_core::onenet::OnenetTaskType,
            ota_core::onenet::OnenetDownloadProgress,
            ota_core::onenet::OnenetDownloadPhase,
            ota_core::onenet::OnenetFetchEnd,
            ota_core::onenet::OnenetFetchOutcome,
            ota_core::onenet::OnenetReportAnswer,
            ota_core::onenet::OnenetResultCode,
            ota_core::onenet::OnenetResultStage,
            ota_core::quectel::QuectelPlanList,
            ota_core::quectel::QuectelPlanRow,
            ota_core::quectel::QuectelPlanState,
            ota_core::quectel::QuectelPlanActions,
            ota_core::quectel::QuectelPlanReadError,
            ota_core::quectel::QuectelPlanAction,
            ota_core::quectel::QuectelPlanItem,
            ota_core::quectel::QuectelWindow,
            ota_core::quectel::QuectelActionResult,
            ota_core::quectel::QuectelActionReport,
            ota_core::quectel::QuectelAutoUpgrade,
            ota_core::quectel::QuectelBleStatus,
            ota_core::quectel::QuectelBlePlan,
            ota_core::quectel::QuectelBlePhase,
            ota_core::quectel::QuectelBleProgress,
            ota_core::quectel::QuectelBlePackage,
            ota_core::quectel::QuectelBleReported,
            crate::progress::DataChanged,
            ota_core::store::AuditQuery,
            ota_core::audit_export::AuditFormat,
            ota_core::library::FirmwareEntry,
            ota_core::library::FirmwarePublication,
            ota_core::library::FirmwareDetails,
            crate::chosen_files::ChosenFile,
            crate::file_commands::AuditExported,
            crate::file_commands::DeviceListFile,
            ota_core::library::FirmwareAdded,
            ota_core::campaign::model::CampaignState,
            ota_core::campaign::model::CampaignDeviceState,
            ota_core::campaign::model::ThresholdAction,
            ota_core::campaign::model::RetryPolicy,
            ota_core::campaign::model::MaintenanceWindow,
            ota_core::campaign::model::CampaignSettings,
            ota_core::campaign::model::DeviceKey,
            ota_core::campaign::model::CampaignTargets,
            ota_core::campaign::model::NewCampaign,
            ota_core::campaign::model::SkipReason,
            ota_core::campaign::model::PreflightExclusion,
            ota_core::campaign::model::ReasonCount,
            ota_core::campaign::model::Preflight,
            ota_core::campaign::model::StateCounts,
            ota_core::campaign::model::WaveSummary,
            ota_core::campaign::model::CampaignView,
            ota_core::campaign::model::FailureGroup,
            ota_core::campaign::model::ProgressPoint,
            ota_core::campaign::model::CampaignDashboard,
            ota_core::campaign::model::CampaignDeviceView,
            ota_core::campaign::model::CampaignDeviceQuery,
            ota_core::campaign::model::CampaignDevicePage,
        );
    }

    fn read_dir(dir: &Path) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "ts") {
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    files.insert(name, std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        files
    }

    #[test]
    fn bindings_are_current() {
        let committed: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
        let fresh = tempfile_dir();
        export_all(&fresh);
        let generated = read_dir(&fresh);
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            std::fs::create_dir_all(&committed).unwrap();
            for (name, text) in &generated {
                std::fs::write(committed.join(name), text).unwrap();
            }
        }
        let existing = read_dir(&committed);
        let _ = std::fs::remove_dir_all(&fresh);
        assert_eq!(
            existing.keys().collect::<Vec<_>>(),
            generated.keys().collect::<Vec<_>>(),
            "ui/src/bindings is stale: run `UPDATE_BINDINGS=1 cargo test -p ota-console bindings`"
        );
        for (name, text) in &generated {
            assert_eq!(
                existing.get(name),
                Some(text),
                "ui/src/bindings/{name} is stale: run `UPDATE_BINDINGS=1 cargo test -p ota-console bindings`"
            );
        }
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ota-bindings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
