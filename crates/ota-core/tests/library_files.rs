//! Adding a file to the firmware library from hostile paths: what reaches the audit log is the file's
//! name, never the path it was given by, and a refused file leaves nothing in the data folder.

mod support;

use std::path::Path;

use ota_core::library::{self, NewFirmware};
use ota_core::store::{AuditEntry, AuditQuery};
use ota_core::{Cloud, ErrorKind};
use support::{FakeCloud, Harness, Script};

fn firmware(path: &Path, version: &str) -> NewFirmware {
    NewFirmware {
        path: path.display().to_string(),
        version: version.into(),
        cloud: Cloud::Vicohome,
        model: None,
        notes: None,
    }
}

fn added_entries(h: &Harness) -> Vec<AuditEntry> {
    h.console
        .store()
        .audit_query(&AuditQuery {
            action: Some("firmware.add".into()),
            ..AuditQuery::default()
        })
        .expect("read the audit log")
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[tokio::test]
async fn the_audit_log_names_the_file_not_the_path_it_came_by() {
    let h = Harness::new(FakeCloud::new([("CAM1", Script::succeeds_after(1))])).await;
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(outside.path().join("drop")).unwrap();
    std::fs::write(outside.path().join("cam-2.0.0.bin"), vec![7u8; 4096]).unwrap();
    let through_dot_dot = outside.path().join("drop/../cam-2.0.0.bin");

    let added = library::add_firmware(&h.console, &firmware(&through_dot_dot, "2.0.0")).unwrap();
    assert_eq!(added.entry.file_name, "cam-2.0.0.bin");
    let refused = library::add_firmware(&h.console, &firmware(Path::new("/dev/zero"), "2.0.1"));
    #[cfg(unix)]
    assert_eq!(refused.unwrap_err().code, ErrorKind::Validation);
    #[cfg(not(unix))]
    assert!(refused.is_err());

    let entries = added_entries(&h);
    let targets: Vec<_> = entries.iter().map(|e| e.target.clone().unwrap()).collect();
    assert_eq!(targets, vec!["zero 2.0.1", "cam-2.0.0.bin 2.0.0"]);
    assert_eq!(entries[0].result, "error");
    let outside_path = outside.path().display().to_string();
    for entry in &entries {
        let recorded = format!("{entry:?}");
        assert!(
            !recorded.contains(&outside_path) && !recorded.contains("/dev/"),
            "a path reached the audit log: {recorded}"
        );
    }
    // Nothing was written beside the source, and the library holds the one package.
    assert_eq!(
        files_under(outside.path()),
        vec!["cam-2.0.0.bin".to_string()]
    );
    let library = files_under(&library::library_dir(h.dir.path()));
    assert_eq!(library, vec![added.entry.sha256.clone()]);
}

/// Team mode: a package added at one desk reaches another machine's library from the team database,
/// checked against its SHA-256; a desk's own file keeps the bytes in its library folder.
#[tokio::test]
async fn another_machine_gets_a_package_from_the_team_database() {
    let h = Harness::new(FakeCloud::new([("CAM1", Script::succeeds_after(1))])).await;
    let source = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(source.path().join("cam-3.0.0.bin"), &bytes).unwrap();
    let added = library::add_firmware(
        &h.console,
        &firmware(&source.path().join("cam-3.0.0.bin"), "3.0.0"),
    )
    .unwrap();
    let here = library::stored_package(&h.console, &added.entry).unwrap();
    assert!(here.starts_with(h.dir.path()));
    if !h.console.store().is_shared() {
        return;
    }
    // Another machine: its own data folder, the same team database.
    let other_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        h.dir.path().join("test-database-url"),
        other_dir.path().join("test-database-url"),
    )
    .unwrap();
    let other = support::console_over(
        other_dir.path(),
        &h.cloud,
        &h.secrets,
        support::fast_options(),
    );
    let there = library::stored_package(&other, &added.entry).unwrap();
    assert!(there.starts_with(other_dir.path()), "{there:?}");
    assert_eq!(std::fs::read(&there).unwrap(), bytes);
}
