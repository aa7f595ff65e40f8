//! OneNET has no device listing: a technician adds devices by id or imports a CSV, and they show in the
//! fleet (also offline, from the cache).

mod common;

use common::*;

#[test]
fn onenet_devices_added_by_id_and_csv_show_in_the_cached_fleet() {
    let data = tempfile::tempdir().unwrap();
    let name = format!("OneNET import test {}", std::process::id());
    let account = AccountToAdd::new("onenet", &name, "https://ota.heclouds.com", "245528");
    let add = account.add(data.path(), &[], "c2VjcmV0LWFjY2Vzcy1rZXk=");
    assert!(add.status.success(), "{}", stderr(&add));

    let csv = data.path().join("fleet.csv");
    std::fs::write(&csv, "dev_id,name,manufacturer,model,firmware\n527776559,Pump 1,102,10201,V1\n527776560,Pump 2,101,10101,V1\n").unwrap();
    let import_csv = ["devices", "import", csv.to_str().unwrap()];
    let import = as_account(data.path(), &name, &import_csv);
    assert!(import.status.success(), "{}", stderr(&import));
    assert!(stderr(&import).contains("Imported 2 devices"));

    let add_valve = ["devices", "add", "--id", "527776561", "--name", "Valve"];
    let one = as_account(data.path(), &name, &add_valve);
    assert!(one.status.success(), "{}", stderr(&one));

    let bad = std::fs::write(&csv, "527776562,ok\nnot-an-id,bad\n");
    bad.unwrap();
    let rejected = as_account(data.path(), &name, &import_csv);
    assert_refused(&rejected, "line 2");

    let list = as_account(
        data.path(),
        &name,
        &["devices", "list", "--cached", "--json"],
    );
    assert!(list.status.success(), "{}", stderr(&list));
    let devices: Vec<serde_json::Value> = serde_json::from_str(&stdout(&list)).unwrap();
    let ids: Vec<&str> = devices.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["527776559", "527776560", "527776561"],
        "the rejected file added nothing"
    );
    assert!(devices.iter().all(|d| d["cloud"] == "onenet"));

    remove_account(data.path(), &name);
}
