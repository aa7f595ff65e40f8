use super::*;

#[test]
fn sizes_read_as_people_write_them() {
    assert_eq!(describe_size(300), "300 B");
    assert_eq!(describe_size(12 << 10), "12 KiB");
    assert_eq!(describe_size(3 << 19), "1.5 MiB");
    assert_eq!(describe_size(MAX_PACKAGE_BYTES), "2 GiB");
}

#[test]
fn versions() {
    assert!(validate_version("2.4.1").is_ok());
    assert!(validate_version("v2_rc-1").is_ok());
    for bad in ["", "2 4", "ä", &"1".repeat(33), "2/4"] {
        assert_eq!(
            validate_version(bad).unwrap_err().code,
            ErrorKind::Validation,
            "{bad:?}"
        );
    }
}

#[test]
fn hashes_while_copying() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("fw.bin");
    std::fs::write(&src, b"hello firmware").unwrap();
    let hashed = hash_and_copy(&src, &dir.path().join("lib")).unwrap();
    assert_eq!(hashed.size, 14);
    assert_eq!(hashed.md5, hex(&Md5::digest(b"hello firmware")));
    assert_eq!(hashed.sha256, hex(&Sha256::digest(b"hello firmware")));
    assert_eq!(
        std::fs::read(hashed.temp.path()).unwrap(),
        b"hello firmware"
    );
    let empty = dir.path().join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(
        hash_and_copy(&empty, dir.path()).err().unwrap().code,
        ErrorKind::Validation
    );
    assert_eq!(
        hash_and_copy(&dir.path().join("missing"), dir.path())
            .err()
            .unwrap()
            .code,
        ErrorKind::NotFound
    );
}

/// The files in the library folder (none when it was never made).
fn library_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_link_is_followed_to_a_regular_file_and_dot_dot_is_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("fw.bin");
    std::fs::write(&src, b"linked firmware").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let lib = dir.path().join("lib");
    let through_dot_dot = dir.path().join("sub/../fw.bin");
    assert_eq!(hash_and_copy(&through_dot_dot, &lib).unwrap().size, 15);
    #[cfg(unix)]
    {
        let link = dir.path().join("latest.bin");
        std::os::unix::fs::symlink(&src, &link).unwrap();
        assert_eq!(hash_and_copy(&link, &lib).unwrap().size, 15);
        assert_eq!(file_name_of(&link), "latest.bin");
    }
    // A `..` through a folder that does not exist names no file.
    let nowhere = dir.path().join("missing/../fw.bin");
    assert!(hash_and_copy(&nowhere, &lib).is_err());
    // Only the library folder was written to, and only temp files that went with their handles.
    assert!(library_files(&lib).is_empty(), "{:?}", library_files(&lib));
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_at_once_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.bin");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let lib = dir.path().join("lib");
    let (tx, rx) = std::sync::mpsc::channel();
    let (from, into) = (fifo.clone(), lib.clone());
    std::thread::spawn(move || {
        let _ = tx.send(hash_and_copy(&from, &into).err());
    });
    let err = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("adding a FIFO must not block")
        .expect("a FIFO is refused");
    assert_eq!(err.code, ErrorKind::Validation);
    assert!(
        err.message.contains("not a regular file"),
        "{}",
        err.message
    );
    assert!(library_files(&lib).is_empty());
}

#[cfg(unix)]
#[test]
fn a_device_is_refused_directly_and_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let err = hash_and_copy(Path::new("/dev/zero"), &lib).err().unwrap();
    assert_eq!(err.code, ErrorKind::Validation);
    assert!(
        err.message.starts_with("zero is not a regular file"),
        "{}",
        err.message
    );
    let link = dir.path().join("firmware.bin");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let err = hash_and_copy(&link, &lib).err().unwrap();
    assert!(
        err.message.contains("not a regular file"),
        "{}",
        err.message
    );
    assert!(library_files(&lib).is_empty());
    let folder = hash_and_copy(dir.path(), &lib).err().unwrap();
    assert!(folder.message.contains("is a folder"), "{}", folder.message);
}

#[test]
fn a_file_over_the_cap_is_refused_before_anything_is_copied() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("disk.img");
    // Sparse: 2 GiB + 1 byte that take no room on disk.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(MAX_PACKAGE_BYTES + 1)
        .unwrap();
    let lib = dir.path().join("lib");
    let err = hash_and_copy(&huge, &lib).err().unwrap();
    assert_eq!(err.code, ErrorKind::Validation);
    assert!(
        err.message == "disk.img is 2.0 GiB; the library takes packages of up to 2 GiB.",
        "{}",
        err.message
    );
    assert!(!lib.exists(), "nothing was written for a refused file");
}
