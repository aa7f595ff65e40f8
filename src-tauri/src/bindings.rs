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
            ota_app::ApiError,
            ota_app::ErrorKind,
            ota_app::Account,
            ota_app::NewAccount,
            ota_app::Device,
            ota_app::DeviceQuery,
            ota_app::DevicePage,
            ota_app::FleetFreshness,
            ota_app::AccountFreshness,
            ota_app::DataKind,
            ota_app::jobs::JobView,
            ota_app::jobs::JobEvent,
            ota_app::jobs::JobState,
            ota_app::audit::AuditEntry,
            ota_app::jobs::JobPhase,
            ota_app::jobs::ProgressSample,
            ota_app::vicohome::CameraUpdatePlan,
            ota_app::vicohome::CameraUpdateEvent,
            ota_app::vicohome::LeftOutCamera,
            ota_app::vicohome::LeftOutReason,
            crate::commands::AppInfo,
            ota_app::onenet::OnenetCheck,
            ota_app::onenet::OnenetTask,
            ota_app::onenet::OnenetTaskType,
            ota_app::onenet::OnenetDownloadProgress,
            ota_app::onenet::OnenetDownloadPhase,
            ota_app::onenet::OnenetFetchEnd,
            ota_app::onenet::OnenetFetchOutcome,
            ota_app::onenet::OnenetReportAnswer,
            ota_app::onenet::OnenetResultCode,
            ota_app::onenet::OnenetResultStage,
            ota_app::quectel::QuectelPlanList,
            ota_app::quectel::QuectelPlanRow,
            ota_app::quectel::QuectelPlanState,
            ota_app::quectel::QuectelPlanActions,
            ota_app::quectel::QuectelPlanReadError,
            ota_app::quectel::QuectelPlanAction,
            ota_app::quectel::QuectelPlanItem,
            ota_app::quectel::QuectelWindow,
            ota_app::quectel::QuectelActionResult,
            ota_app::quectel::QuectelActionReport,
            ota_app::quectel::QuectelAutoUpgrade,
            ota_app::quectel::QuectelBleStatus,
            ota_app::quectel::QuectelBlePlan,
            ota_app::quectel::QuectelBlePhase,
            ota_app::quectel::QuectelBleProgress,
            ota_app::quectel::QuectelBlePackage,
            ota_app::quectel::QuectelBleReported,
            ota_app::changes::DataChanged,
            ota_app::audit::AuditQuery,
            ota_app::audit::AuditFormat,
            ota_app::firmware::FirmwareEntry,
            ota_app::firmware::FirmwarePublication,
            ota_app::firmware::FirmwareDetails,
            crate::chosen_files::ChosenFile,
            ota_app::audit::AuditExported,
            ota_app::devices::DeviceListFile,
            ota_app::firmware::FirmwareAdded,
            ota_app::campaigns::CampaignState,
            ota_app::campaigns::CampaignDeviceState,
            ota_app::campaigns::ThresholdAction,
            ota_app::campaigns::RetryPolicy,
            ota_app::campaigns::MaintenanceWindow,
            ota_app::campaigns::CampaignSettings,
            ota_app::campaigns::DeviceKey,
            ota_app::campaigns::CampaignTargets,
            ota_app::campaigns::NewCampaign,
            ota_app::campaigns::SkipReason,
            ota_app::campaigns::PreflightExclusion,
            ota_app::campaigns::ReasonCount,
            ota_app::campaigns::Preflight,
            ota_app::campaigns::StateCounts,
            ota_app::campaigns::WaveSummary,
            ota_app::campaigns::CampaignView,
            ota_app::campaigns::FailureGroup,
            ota_app::campaigns::ProgressPoint,
            ota_app::campaigns::CampaignDashboard,
            ota_app::campaigns::CampaignDeviceView,
            ota_app::campaigns::CampaignDeviceQuery,
            ota_app::campaigns::CampaignDevicePage,
            ota_app::campaigns::CampaignPlan,
            ota_app::campaigns::PlannedWave,
            ota_app::campaigns::CampaignTemplate,
            ota_app::fleet::FleetVersions,
            ota_app::fleet::ModelVersions,
            ota_app::fleet::VersionCount,
            ota_app::fleet::VersionSuccess,
            ota_app::fleet::FailureDay,
            ota_app::campaigns::CampaignWait,
            ota_app::cohorts::TagCount,
            ota_app::cohorts::Cohort,
            ota_app::cohorts::CohortKind,
            ota_app::cohorts::CohortDefinition,
            ota_app::cohorts::NewCohort,
            ota_app::cohorts::CohortDetail,
            ota_app::team::DatabaseMode,
            ota_app::team::TeamDatabaseSource,
            ota_app::team::TeamDatabaseStatus,
            ota_app::webhooks::Webhook,
            ota_app::webhooks::NewWebhook,
            ota_app::webhooks::WebhookDelivery,
            ota_app::webhooks::DeliveryOutcome,
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
