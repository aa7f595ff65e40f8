//! The files of a download (a OneNET package, a Quectel Bluetooth package), kept private and single-writer. A file is never opened through a symbolic
//! link (a link planted at `<out>.part` would aim the console's writes at any file the user can write),
//! is created 0600 on Unix, and is locked (an advisory lock, which both the window and `otactl` take)
//! from the moment it is opened until it is renamed or deleted, so two processes never write the same
//! partial file. Small records (`.part.json`, the kept task) are replaced whole: a fresh temp file,
//! locked, synced, then renamed over the old one.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ota_core::{ApiError, ErrorKind};

/// How long an open waits for another holder to let go before saying "busy": a fetch that was just
/// dropped (a closed window) releases its file a moment later.
pub(crate) const LOCK_PATIENCE: Duration = Duration::from_secs(3);

/// Why a download file could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    #[error("{} is a symbolic link; the console does not write through links", .0.display())]
    Symlink(PathBuf),
    #[error("{} is not a regular file", .0.display())]
    NotAFile(PathBuf),
    #[error("{} is being written by another download", .0.display())]
    Busy(PathBuf),
    #[error("{} is outside the folder it belongs in ({})", .path.display(), .root.display())]
    Outside { path: PathBuf, root: PathBuf },
    #[error("could not {what} {}: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl FileError {
    fn io(what: &'static str, path: &Path, source: io::Error) -> Self {
        FileError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<FileError> for ApiError {
    fn from(err: FileError) -> Self {
        let message = err.to_string();
        match &err {
            FileError::Symlink(_) | FileError::NotAFile(_) | FileError::Outside { .. } => {
                tracing::warn!(error = %message, "refused a download file");
                ApiError::new(ErrorKind::Validation, message).with_hint(
                    "Something else was put where the console keeps its download; remove it, then fetch again.",
                )
            }
            FileError::Busy(_) => ApiError::new(ErrorKind::Conflict, message).with_hint(
                "Wait for the other download (in the window or otactl) to finish, or pause it.",
            ),
            FileError::Io { what, path, source } => {
                tracing::error!(error = %source, path = %path.display(), what, "download file error");
                let message = match source.kind() {
                    io::ErrorKind::PermissionDenied => {
                        format!("The console may not write {}", path.display())
                    }
                    io::ErrorKind::StorageFull => {
                        format!("The disk is full while saving {}", path.display())
                    }
                    _ => message,
                };
                ApiError::new(ErrorKind::Internal, message).with_hint(
                    "Choose a folder you can write to with enough free space, then fetch again.",
                )
            }
        }
    }
}

/// Whether `path` exists; a symbolic link or anything but a regular file there is refused.
fn existing_regular_file(path: &Path) -> Result<bool, FileError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(FileError::Symlink(path.to_path_buf())),
        Ok(meta) if !meta.is_file() => Err(FileError::NotAFile(path.to_path_buf())),
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(FileError::io("inspect", path, e)),
    }
}

/// Options that never follow a link at the last path component and create files 0600.
fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// What an open that met a link (O_NOFOLLOW: ELOOP) or anything else becomes.
fn open_error(what: &'static str, path: &Path, e: io::Error) -> FileError {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return FileError::Symlink(path.to_path_buf());
    }
    if e.kind() == io::ErrorKind::AlreadyExists {
        // Something appeared between the look and the open (create_new refused it).
        return FileError::NotAFile(path.to_path_buf());
    }
    FileError::io(what, path, e)
}

/// Makes sure what was opened is a regular file, and private.
fn checked(file: File, path: &Path) -> Result<File, FileError> {
    let meta = file
        .metadata()
        .map_err(|e| FileError::io("inspect", path, e))?;
    if !meta.is_file() {
        return Err(FileError::NotAFile(path.to_path_buf()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            // A file of an older version, made under the umask.
            file.set_permissions(fs::Permissions::from_mode(0o600))
                .map_err(|e| FileError::io("protect", path, e))?;
        }
    }
    Ok(file)
}

/// Opens `path` to read and write, creating it (0600) when absent — never through a link.
pub(crate) fn open_private(path: &Path) -> Result<File, FileError> {
    let exists = existing_regular_file(path)?;
    let mut options = private_options();
    options.read(true).write(true);
    if exists {
        options.truncate(false);
    } else {
        options.create_new(true);
    }
    let file = options
        .open(path)
        .map_err(|e| open_error("open", path, e))?;
    checked(file, path)
}

/// Takes `file`'s exclusive lock, waiting up to `patience` for another holder.
pub(crate) fn lock(file: &File, path: &Path, patience: Duration) -> Result<(), FileError> {
    let deadline = Instant::now() + patience;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => return Err(FileError::Busy(path.to_path_buf())),
            Err(TryLockError::Error(e)) => return Err(FileError::io("lock", path, e)),
        }
    }
}

/// Reads a small file (at most `limit` bytes), or None when there is none — never through a link.
pub(crate) fn read_private(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, FileError> {
    if !existing_regular_file(path)? {
        return Ok(None);
    }
    let mut options = private_options();
    options.read(true);
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(open_error("open", path, e)),
    };
    let file = checked(file, path)?;
    let mut body = Vec::new();
    file.take(limit)
        .read_to_end(&mut body)
        .map_err(|e| FileError::io("read", path, e))?;
    Ok(Some(body))
}

/// A temp name no other writer (in this or another process) uses: a crash leaves at most a stray
/// temp file, never a half-written record under the real name.
fn temp_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(
        ".{}-{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    PathBuf::from(name)
}

/// Replaces `path` with `body` whole: a fresh temp file (never an existing one, never a link; 0600),
/// locked until it is renamed over `path` (a link at `path` is replaced, not followed).
pub(crate) fn replace_private(path: &Path, body: &[u8]) -> Result<(), FileError> {
    existing_regular_file(path)?;
    let tmp = temp_path(path);
    let mut options = private_options();
    options.write(true).create_new(true);
    let mut file = options
        .open(&tmp)
        .map_err(|e| open_error("create", &tmp, e))?;
    let written = lock(&file, &tmp, Duration::ZERO)
        .and_then(|()| {
            file.write_all(body)
                .and_then(|()| file.sync_all())
                .map_err(|e| FileError::io("write", &tmp, e))
        })
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| FileError::io("save", path, e)));
    drop(file);
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Deletes `path` if it is there (a link is removed itself, never its target).
pub(crate) fn remove_if_present(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!(error = %e, path = %path.display(), "could not delete a download file");
        }
    }
}

/// Creates `dir` (0700 on Unix) and checks that, links resolved, it lies inside `root`: a link planted
/// in the data folder cannot move a download elsewhere.
pub(crate) fn private_dir_inside(root: &Path, dir: &Path) -> Result<PathBuf, FileError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| FileError::io("create the folder", dir, e))?;
    let real_root = root
        .canonicalize()
        .map_err(|e| FileError::io("find", root, e))?;
    let real_dir = dir
        .canonicalize()
        .map_err(|e| FileError::io("find", dir, e))?;
    if !real_dir.starts_with(&real_root) {
        return Err(FileError::Outside {
            path: dir.to_path_buf(),
            root: root.to_path_buf(),
        });
    }
    Ok(real_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_replaced_whole_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        replace_private(&path, b"one").unwrap();
        replace_private(&path, b"two").unwrap();
        assert_eq!(read_private(&path, 1024).unwrap().unwrap(), b"two");
        assert_eq!(read_private(&path, 2).unwrap().unwrap(), b"tw");
        assert!(read_private(&dir.path().join("none"), 8).unwrap().is_none());
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temp file left: {left:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_are_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, b"keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(open_private(&link), Err(FileError::Symlink(_))));
        assert!(matches!(read_private(&link, 8), Err(FileError::Symlink(_))));
        assert!(matches!(
            replace_private(&link, b"x"),
            Err(FileError::Symlink(_))
        ));
        assert_eq!(fs::read(&target).unwrap(), b"keep");
    }

    #[test]
    fn a_second_lock_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.part");
        let first = open_private(&path).unwrap();
        lock(&first, &path, Duration::ZERO).unwrap();
        let second = open_private(&path).unwrap();
        assert!(matches!(
            lock(&second, &path, Duration::from_millis(60)),
            Err(FileError::Busy(_))
        ));
        drop(first);
        lock(&second, &path, Duration::ZERO).unwrap();
    }
}
