//! The window may do only what the UI needs: these tests fail when a capability grants more, or when the
//! content security policy would let remote code in.

use std::collections::BTreeSet;

/// Every permission the main window holds, and why.
const ALLOWED_PERMISSIONS: &[&str] = &[
    // `data-changed` notices from the engine.
    "core:event:allow-listen",
    "core:event:allow-unlisten",
    // "Firmware update finished / failed" desktop notifications.
    "notification:allow-is-permission-granted",
    "notification:allow-request-permission",
    "notification:allow-notify",
    // No dialog permission: Rust opens the file dialogs and keeps the chosen paths (file_commands.rs).
];

fn json(path: &str) -> serde_json::Value {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[test]
fn capabilities_grant_nothing_beyond_the_allowlist() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities");
    let mut granted = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let capability = json(&format!("capabilities/{name}"));
        assert_eq!(
            capability["windows"],
            serde_json::json!(["main"]),
            "{name}: main window only"
        );
        assert!(
            capability.get("remote").is_none(),
            "{name}: no remote URL may use IPC"
        );
        for permission in capability["permissions"].as_array().unwrap() {
            let id = permission
                .as_str()
                .or_else(|| permission["identifier"].as_str())
                .unwrap()
                .to_string();
            granted.insert(id);
        }
    }
    let allowed: BTreeSet<String> = ALLOWED_PERMISSIONS.iter().map(|s| s.to_string()).collect();
    let extra: Vec<&String> = granted.difference(&allowed).collect();
    assert!(
        extra.is_empty(),
        "capabilities grant more than the UI uses: {extra:?}"
    );
    for forbidden in ["shell:", "fs:", "http:", "opener:", "process:", "dialog:"] {
        assert!(
            !granted.iter().any(|p| p.starts_with(forbidden)),
            "no {forbidden} permission may be granted"
        );
    }
}

#[test]
fn the_content_security_policy_allows_no_remote_code() {
    let conf = json("tauri.conf.json");
    let csp = &conf["app"]["security"]["csp"];
    assert!(csp.is_object(), "a CSP is set");
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(
        csp["script-src"], "'self'",
        "scripts come only from the bundle"
    );
    assert_eq!(csp["object-src"], "'none'");
    for (directive, value) in csp.as_object().unwrap() {
        let value = value.as_str().unwrap();
        assert!(
            !value.contains("https:") && !value.contains("http://*") && !value.contains('*'),
            "{directive} must not allow remote origins: {value}"
        );
        if directive == "script-src" {
            assert!(!value.contains("unsafe-eval") && !value.contains("unsafe-inline"));
        }
    }
}

/// The `(name: Type, …)` of every `#[tauri::command]` in the shell's sources, by command name.
fn command_parameters() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let source = std::fs::read_to_string(entry.path()).unwrap();
        for (at, marker) in source.match_indices("#[tauri::command]") {
            let rest = &source[at + marker.len()..];
            let Some(name_at) = rest.find("fn ") else {
                continue;
            };
            let signature = &rest[name_at + 3..];
            let name: String = signature
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let open = signature.find('(').unwrap();
            let close = signature
                .find(") ->")
                .or_else(|| signature.find(')'))
                .unwrap();
            found.push((name, signature[open + 1..close].to_string()));
        }
    }
    found
}

#[test]
fn no_command_takes_a_path_from_the_webview() {
    let commands = command_parameters();
    assert!(
        commands.len() > 40,
        "found the commands: {}",
        commands.len()
    );
    for (name, parameters) in &commands {
        let lowered = parameters.to_lowercase();
        assert!(
            !lowered.contains("path") && !lowered.contains("file_name"),
            "{name} takes a path from the webview: ({parameters})"
        );
    }
    // The file commands take what Rust issued, not what the webview typed.
    let add = commands
        .iter()
        .find(|(name, _)| name == "add_firmware")
        .expect("add_firmware is a command");
    assert!(add.1.contains("files: State<'_, ChosenFiles>"), "{}", add.1);
}
