//! OneNET package downloads over HTTP: every Range rule and example of the seed, the download faults
//! (`download_cut`, `corrupt_package`, `truncated_body`) with exact `bytes_served` accounting, and the
//! raw HTTP/1.1 an embedded client (OneNET's C SDK) writes and reads.

mod common;

use common::onenet::*;
use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// (Range header, the answer: its status and the part served as start..=end — None for the whole file).
type RangeCase = (Option<&'static str>, (u16, Option<(u64, u64)>));

/// The whole file, 200.
const WHOLE: (u16, Option<(u64, u64)>) = (200, None);

/// Bytes `start..=end` of the file, 206.
const fn part(start: u64, end: u64) -> (u16, Option<(u64, u64)>) {
    (206, Some((start, end)))
}

const LEN: u64 = 1000;

/// Every mode, example and clamping rule of the seed, for a 1000-byte file, plus the forms clients
/// send in the wild (no `bytes=`, spaces) and malformed ones (whole file). One line per rule, its
/// examples side by side.
#[rustfmt::skip]
const RANGE_CASES: &[RangeCase] = &[
    // Mode 1, bytes={start}-: the seed's examples (with and without its spaces).
    (Some("bytes=0-"), WHOLE), (Some("bytes = 0 -"), WHOLE),
    (Some("bytes=2-"), part(2, 999)), (Some("bytes = 2 -"), part(2, 999)), (Some("bytes=999-"), part(999, 999)),
    // start >= len: start = 0.
    (Some("bytes=1000-"), WHOLE), (Some("bytes=5000-"), WHOLE),
    // Mode 2, bytes={start}-{end}: the seed's example.
    (Some("bytes=0-99"), part(0, 99)), (Some("bytes = 0 - 99"), part(0, 99)), (Some("bytes=100-199"), part(100, 199)),
    (Some("bytes=5-5"), part(5, 5)), (Some("bytes=0-998"), part(0, 998)), (Some("bytes=0-999"), WHOLE),
    // end >= len: end = len-1.
    (Some("bytes=990-1000"), part(990, 999)), (Some("bytes=990-99999"), part(990, 999)), (Some("bytes=0-1000"), WHOLE),
    // start > end: start = 0.
    (Some("bytes=500-100"), part(0, 100)), (Some("bytes=1-0"), part(0, 0)),
    // Both past the end: end = len-1, then start > end, so start = 0.
    (Some("bytes=1500-2000"), WHOLE),
    // Mode 3, bytes=-{n}: the seed's example (with and without its spaces).
    (Some("bytes=-100"), part(900, 999)), (Some("bytes = - 100"), part(900, 999)), (Some("bytes=-1"), part(999, 999)),
    (Some("bytes=-999"), part(1, 999)), (Some("bytes=-1000"), WHOLE),
    // n > len: the whole file.
    (Some("bytes=-1001"), WHOLE), (Some("bytes=-5000"), WHOLE),
    // Without "bytes=", as OneNET's C SDK sends it; its 4096-byte chunks pass the end.
    (Some("0-99"), part(0, 99)), (Some("2-"), part(2, 999)), (Some("-100"), part(900, 999)),
    (Some("512-4095"), part(512, 999)), (Some("0-4095"), WHOLE), (Some(" 0 - 99 "), part(0, 99)),
    (Some("BYTES=0-99"), part(0, 99)),
    // Malformed: the whole file.
    (Some("bytes=abc"), WHOLE), (Some("bytes=0x10-"), WHOLE), (Some("bytes=1-2,5-6"), WHOLE), (Some("bytes=--5"), WHOLE),
    (Some("bytes=-"), WHOLE), (Some("bytes="), WHOLE), (Some("bytes 0-99"), WHOLE), (Some("items=0-99"), WHOLE),
    (Some("-"), WHOLE), (Some("bytes=-0"), WHOLE), (Some(""), WHOLE),
    // Absent: the whole file.
    (None, WHOLE),
];

#[tokio::test]
async fn every_range_rule_of_the_seed() {
    let (_sim, d) = Onenet::first_of_a_fresh_sim().await;
    let (task, token) = d.downloading("V9", LEN).await;
    let whole = d.download(&token, None).send().await.unwrap();
    let file = whole.bytes().await.unwrap().to_vec();
    assert_eq!(md5_hex(&file), task["md5"].as_str().unwrap(), "the package");

    for (header, (status, part)) in RANGE_CASES {
        let response = d.download(&token, *header).send().await.unwrap();
        assert_eq!(response.status().as_u16(), *status, "{header:?}");
        let headers = response.headers().clone();
        let content_range = headers
            .get("content-range")
            .map(|v| v.to_str().unwrap().to_string());
        let content_length: u64 = headers["content-length"].to_str().unwrap().parse().unwrap();
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment; filename=\""),
            "{disposition}"
        );
        let body = response.bytes().await.unwrap();
        let (start, end) = part.unwrap_or((0, LEN - 1));
        assert_eq!(
            &body[..],
            &file[start as usize..=end as usize],
            "{header:?}"
        );
        assert_eq!(content_length, end - start + 1, "{header:?}");
        let expected = part.map(|(a, b)| format!("bytes {a}-{b}/{LEN}"));
        assert_eq!(content_range, expected, "{header:?}");
    }
    let served = d.task(&task["task_id"]).await["bytes_served"]
        .as_u64()
        .unwrap();
    let expected: u64 = LEN
        + RANGE_CASES
            .iter()
            .map(|(_, (_, part))| part.map_or(LEN, |(a, b)| b - a + 1))
            .sum::<u64>();
    assert_eq!(served, expected, "every byte handed out is counted once");
}

#[tokio::test]
async fn download_errors_are_one_byte() {
    let (sim, d) = Onenet::first_of_a_fresh_sim().await;
    let other = Onenet::nth(&sim, 1).await;
    let pending = d
        .create_task(json!({"target": "M1", "size": 100, "type": 1}))
        .await;
    let (task, token) = d.downloading("V9", 100).await;
    let one_byte = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("content-length").is_none());
        response.bytes().await.unwrap().to_vec()
    };
    let unknown = client()
        .get(d.url("/ota/south/download/ota_AAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(one_byte(unknown).await, b"3");
    let wrong_device = client()
        .get(d.url(&format!(
            "/ota/south/download/{token}?dev_id={}",
            other.dev_id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(one_byte(wrong_device).await, b"3");
    let not_checked = d
        .download(pending["token"].as_str().unwrap(), None)
        .send()
        .await
        .unwrap();
    assert_eq!(
        one_byte(not_checked).await,
        b"3",
        "pending: token not checked yet"
    );
    assert_eq!(d.report(&token, r#"{"result":101}"#).await["errno"], 0);
    let upgrading = d.download(&token, None).send().await.unwrap();
    assert_eq!(
        upgrading.bytes().await.unwrap().len(),
        100,
        "still served while upgrading"
    );
    assert_eq!(d.report(&token, r#"{"result":201}"#).await["errno"], 0);
    let over = d.download(&token, None).send().await.unwrap();
    assert_eq!(one_byte(over).await, b"1", "the task is over");
    assert_eq!(d.task(&task["task_id"]).await["bytes_served"], 100);
}

#[tokio::test]
async fn a_cut_download_resumes_and_every_byte_is_counted() {
    let (sim, d) = Onenet::first_of_a_fresh_sim().await;
    let size = 4 * 1024 * 1024u64;
    let (task, token) = d.downloading("V9", size).await;
    let md5 = task["md5"].as_str().unwrap().to_string();
    let served = || async {
        d.task(&task["task_id"]).await["bytes_served"]
            .as_u64()
            .unwrap()
    };

    // Without a count the cut happens once.
    let fault = add_fault(&sim, json!({"kind": "download_cut", "target": d.dev_id})).await;
    assert_eq!(fault["count"], 1);
    let cut = d.download(&token, None).send().await.unwrap();
    assert_eq!(cut.headers()["content-length"], size.to_string().as_str());
    let (mut got, failed) = read_body(cut).await;
    assert!(failed, "the body ended in an error, not cleanly");
    assert!(got.len() as u64 <= size / 2, "{}", got.len());
    assert_eq!(served().await, size / 2, "served up to the midpoint");
    assert!(get_json(format!("{}/_sim/faults", sim.url()))
        .await
        .as_array()
        .unwrap()
        .is_empty());

    let resume = d
        .download(&token, Some(&format!("bytes={}-", got.len())))
        .send()
        .await
        .unwrap();
    assert_eq!(resume.status(), 206);
    let (rest, failed) = read_body(resume).await;
    assert!(!failed);
    let resumed_at = got.len() as u64;
    got.extend_from_slice(&rest);
    assert_eq!(md5_hex(&got), md5, "cut + resume gives the package");
    assert_eq!(served().await, size / 2 + (size - resumed_at));

    // A response that starts past the midpoint is cut half way through itself.
    let before = served().await;
    let (part, failed) = cut_download(&sim, &d, &token, "bytes=3145728-").await;
    assert!(failed && part.len() as u64 <= size / 8);
    assert_eq!(served().await - before, size / 8);

    // One that ends before the midpoint is served whole and leaves the fault armed.
    let (part, failed) = cut_download(&sim, &d, &token, "bytes=0-4095").await;
    assert_eq!((part.len(), failed), (4096, false));
    assert_eq!(
        get_json(format!("{}/_sim/faults", sim.url()))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, failed) = read_body(d.download(&token, None).send().await.unwrap()).await;
    assert!(failed);

    // A plain full download serves exactly the package.
    let (fresh, fresh_token) = d.downloading("V10", size).await;
    let (whole, failed) = read_body(d.download(&fresh_token, None).send().await.unwrap()).await;
    assert!(!failed);
    assert_eq!(md5_hex(&whole), fresh["md5"].as_str().unwrap());
    assert_eq!(d.task(&fresh["task_id"]).await["bytes_served"], size);
}

#[tokio::test]
async fn corrupt_and_truncated_packages() {
    let (sim, d) = Onenet::first_of_a_fresh_sim().await;
    let size = 1024 * 1024u64;
    let (task, token) = d.downloading("V9", size).await;
    let good = send_for_bytes(d.download(&token, None)).await;

    fault_once(&sim, "corrupt_package", &d.dev_id).await;
    let bad = d.download(&token, None).send().await.unwrap();
    assert_eq!(bad.status(), 200);
    let bad = bad.bytes().await.unwrap();
    assert_eq!(bad.len() as u64, size);
    assert_ne!(md5_hex(&bad), task["md5"].as_str().unwrap());
    let flipped: Vec<usize> = (0..bad.len()).filter(|&i| bad[i] != good[i]).collect();
    assert_eq!(flipped, [size as usize / 2], "one byte, in the middle");
    let again = send_for_bytes(d.download(&token, None)).await;
    assert_eq!(
        md5_hex(&again),
        task["md5"].as_str().unwrap(),
        "count used up"
    );

    fault_once(&sim, "truncated_body", &d.dev_id).await;
    let short = d
        .download(&token, Some("bytes=1000-"))
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), 206);
    assert_eq!(
        short.headers()["content-length"],
        (size - 1000).to_string().as_str()
    );
    let (part, failed) = read_body(short).await;
    assert!(failed, "less than Content-Length");
    // Half the range is handed to the connection; what hyper had buffered may be lost as it closes.
    assert!(part.len() as u64 <= (size - 1000) / 2, "{}", part.len());
    assert_eq!(&part[..], &good[1000..1000 + part.len()]);
}

/// Arms a one-shot `download_cut` on the device, then downloads `range`: (the bytes read, whether the
/// body ended in an error).
async fn cut_download(sim: &SimHandle, d: &Onenet, token: &str, range: &str) -> (Vec<u8>, bool) {
    fault_once(sim, "download_cut", &d.dev_id).await;
    let response = d.download(token, Some(range)).send().await.unwrap();
    read_body(response).await
}

// ---- A raw HTTP/1.1 client, written like OneNET's C SDK. ----

/// A GET as the C SDK writes it: the request line, `Host`, then `headers` (each a whole line).
fn sdk_get(target: &str, headers: &[&str]) -> String {
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: ota.heclouds.com\r\n");
    for line in headers {
        request.push_str(line);
        request.push_str("\r\n");
    }
    request + "\r\n"
}

/// A JSON POST as the C SDK writes it: lower-case names, `Content-Length:` followed by `padding`.
fn sdk_post(target: &str, auth: &str, body: &str, padding: &str) -> String {
    format!(
        "POST {target} HTTP/1.1\r\nhost: ota.heclouds.com\r\nContent-Type: application/json\r\nConnection: keep-alive\r\nauthorization: {auth}\r\nContent-Length:{padding}{}\r\n\r\n{body}",
        body.len()
    )
}

/// [`exchange`], checking the head is strict HTTP/1.1 as the SDK's parser needs it.
async fn strict_exchange(addr: std::net::SocketAddr, request: &str) -> (String, Vec<u8>) {
    let (head, body) = exchange(addr, request).await;
    assert_strict(&head);
    (head, body)
}

/// The `errno` of a JSON answer.
fn errno(answer: &[u8]) -> Value {
    serde_json::from_slice::<Value>(answer).unwrap()["errno"].clone()
}

/// One request on a new connection; answers the head and the body (by Content-Length, or
/// de-chunked).
async fn exchange(addr: std::net::SocketAddr, request: &str) -> (String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let split = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed inside the head");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..split].to_vec()).unwrap();
    let mut body = buf[split + 4..].to_vec();
    let length = header(&head, "Content-Length").map(|v| v.trim().parse::<usize>().unwrap());
    match length {
        Some(length) => {
            while body.len() < length {
                let mut chunk = vec![0u8; 65536];
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed inside the body");
                body.extend_from_slice(&chunk[..n]);
            }
            assert_eq!(body.len(), length);
        }
        None => {
            assert_eq!(header(&head, "Transfer-Encoding"), Some("chunked"));
            while !body.ends_with(b"0\r\n\r\n") {
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0);
                body.extend_from_slice(&chunk[..n]);
            }
            body = dechunk(&body);
        }
    }
    (head, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line]).unwrap(), 16).unwrap();
        raw = &raw[line + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// A header's value, matching the name case-sensitively, as strict clients do.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n")
        .skip(1)
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

fn title_case(name: &str) -> bool {
    name.split('-').all(|part| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| !c.is_ascii_uppercase())
    })
}

/// What the C SDK needs of every answer: an `HTTP/1.1 ` status line, at most 10 headers, all
/// title-case.
fn assert_strict(head: &str) {
    assert!(head.starts_with("HTTP/1.1 "), "{head}");
    let names: Vec<&str> = head
        .split("\r\n")
        .skip(1)
        .map(|line| line.split(':').next().unwrap())
        .collect();
    assert!(names.len() <= 10, "{head}");
    assert!(names.iter().all(|n| title_case(n)), "{head}");
}

fn status(head: &str) -> u16 {
    head[9..12].parse().unwrap()
}

#[tokio::test]
async fn an_embedded_client_speaking_raw_http_is_answered_as_onenet_does() {
    let (sim, d) = Onenet::first_of_a_fresh_sim().await;
    let size = 10_000u64;
    let task = d
        .create_task(json!({"target": "M2", "size": size, "type": 1}))
        .await;
    let addr = sim.addr();
    let auth = d.token();
    let dev = &d.dev_id;

    // The SDK's version report: lower-case names, space-padded Content-Length.
    let body = r#"{"f_version":"M1"}"#;
    let version = sdk_post(
        &format!("/ota/device/version?dev_id={dev}"),
        &auth,
        body,
        "   ",
    );
    let (_, answer) = strict_exchange(addr, &version).await;
    assert_eq!(errno(&answer), 0);

    // The check exactly as the C SDK writes it: type=1&cdn=true, no manuf/model/version.
    let authorization = format!("Authorization:{auth}");
    let check = sdk_get(
        &format!("/ota/south/check?dev_id={dev}&type=1&cdn=true"),
        &[&authorization],
    );
    let (head, answer) = strict_exchange(addr, &check).await;
    assert_eq!(status(&head), 200);
    assert!(header(&head, "Content-Length").is_some(), "{head}");
    assert!(
        answer.len() < 512,
        "the JSON fits the SDK's buffer: {}",
        answer.len()
    );
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["errno"], 0, "{answer}");
    assert_eq!(answer["data"]["size"], size);
    assert_eq!(answer["data"]["ipPort"], addr.to_string());
    let token = answer["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(token, task["token"].as_str().unwrap());

    // 4096-byte chunks, `Range:a-b` without bytes=, a token check before each; the last passes the end.
    let mut file = Vec::new();
    let mut start = 0u64;
    while start < size {
        let token_check = format!("/ota/south/download/{token}/check?dev_id={dev}");
        let (_, answer) = strict_exchange(addr, &sdk_get(&token_check, &[&authorization])).await;
        assert_eq!(errno(&answer), 0);
        let end = start + 4095;
        let range = format!("Range:{start}-{end}");
        let download = sdk_get(
            &format!("/ota/south/download/{token}"),
            &[&authorization, &range],
        );
        let (head, chunk) = strict_exchange(addr, &download).await;
        let last = end.min(size - 1);
        assert_eq!(status(&head), 206, "{head}");
        assert_eq!(
            header(&head, "Content-Range"),
            Some(format!("bytes {start}-{last}/{size}").as_str()),
            "{head}"
        );
        assert_eq!(
            header(&head, "Content-Length"),
            Some((last - start + 1).to_string().as_str())
        );
        assert!(header(&head, "Content-Disposition").is_some_and(|v| v.starts_with("attachment")));
        assert_eq!(chunk.len() as u64, last - start + 1);
        file.extend_from_slice(&chunk);
        start += 4096;
    }
    assert_eq!(md5_hex(&file), task["md5"].as_str().unwrap());

    // Progress and results through the SDK's progress path.
    for (step, state) in [
        ("100", "upgrading"),
        ("101", "upgrading"),
        ("201", "succeeded"),
    ] {
        let body = format!("{{\"step\":{step}}}");
        let progress = format!("/ota/south/device/download/{token}/progress?dev_id={dev}");
        let (_, answer) = strict_exchange(addr, &sdk_post(&progress, &auth, &body, " ")).await;
        assert_eq!(errno(&answer), 0, "{step}");
        assert_eq!(d.task(&task["task_id"]).await["state"], state, "{step}");
    }
    let version = sdk_get(
        &format!("/ota/device/version?dev_id={dev}"),
        &[&authorization],
    );
    let (_, answer) = exchange(addr, &version).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&answer).unwrap()["data"]["f_version"],
        "M2"
    );

    // A file smaller than one chunk: `0-4095` is the whole file, 200 without Content-Range.
    let small = d
        .create_task(json!({"target": "M3", "size": 3000, "type": 1}))
        .await;
    let small_token = small["token"].as_str().unwrap();
    d.token_check(small_token).await;
    let whole = sdk_get(
        &format!("/ota/south/download/{small_token}"),
        &["Range:0-4095"],
    );
    let (head, chunk) = strict_exchange(addr, &whole).await;
    assert_eq!(status(&head), 200);
    assert_eq!(header(&head, "Content-Range"), None);
    assert_eq!(header(&head, "Content-Length"), Some("3000"));
    assert_eq!(md5_hex(&chunk), small["md5"].as_str().unwrap());

    // A download error: 200, no Content-Length, one byte.
    let unknown = sdk_get(
        "/ota/south/download/ota_AAAAAAAAAAAAAAAAAAAA",
        &["Range:0-4095"],
    );
    let (head, body) = strict_exchange(addr, &unknown).await;
    assert_eq!(status(&head), 200);
    assert_eq!(header(&head, "Content-Length"), None);
    assert_eq!(body, b"3");
}
