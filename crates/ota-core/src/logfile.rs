//! The app's log file, capped in size: `ota-console.log` rolls over to `ota-console.log.1` … `.N` when it
//! reaches its cap, so a console left running for weeks never fills the disk. Files are private to the
//! user (see [`crate::private_files`]).
//!
//! Hand-written rather than `tracing-appender` (whose rolling is by time only) or `tauri-plugin-log` (which
//! logs through the `log` facade, creates files with the umask's mode and does not serve `otactl`).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::private_files::open_private_append;

/// 5 MiB a file, the current one and 4 older: at most 25 MiB of logs.
pub const DEFAULT_MAX_BYTES: u64 = 5 * 1024 * 1024;
pub const DEFAULT_KEEP: usize = 4;

pub struct RotatingLog {
    path: PathBuf,
    file: File,
    written: u64,
    max_bytes: u64,
    keep: usize,
}

impl RotatingLog {
    /// Appends to `path`, rolling it over once it would pass `max_bytes`; keeps `keep` older files.
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> io::Result<Self> {
        let file = open_private_append(path)?;
        let written = file.metadata()?.len();
        Ok(Self {
            path: path.to_path_buf(),
            file,
            written,
            max_bytes: max_bytes.max(1),
            keep,
        })
    }

    fn rolled(&self, n: usize) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn roll_over(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.keep == 0 {
            // Nothing kept: start the same file again.
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(self.rolled(self.keep));
            for n in (1..self.keep).rev() {
                match std::fs::rename(self.rolled(n), self.rolled(n + 1)) {
                    Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
                    _ => {}
                }
            }
            std::fs::rename(&self.path, self.rolled(1))?;
        }
        self.file = open_private_append(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

impl Write for RotatingLog {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.max_bytes {
            self.roll_over()?;
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_over_at_its_cap_and_keeps_only_so_many_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ota-console.log");
        let mut log = RotatingLog::open(&path, 100, 2).unwrap();
        for i in 0..10 {
            // 40 bytes a line: two lines fit in 100 bytes, the third rolls over.
            writeln!(log, "line {i:02} {}", "x".repeat(31)).unwrap();
        }
        log.flush().unwrap();
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert!(size(&path) <= 100, "the current file stays under its cap");
        assert!(size(&dir.path().join("ota-console.log.1")) > 0);
        assert!(size(&dir.path().join("ota-console.log.2")) > 0);
        assert!(
            !dir.path().join("ota-console.log.3").exists(),
            "older files beyond `keep` are deleted"
        );
        let newest = std::fs::read_to_string(&path).unwrap();
        assert!(newest.contains("line 09"), "{newest}");
        let total: u64 = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(
            total <= 300,
            "at most (keep + 1) × cap bytes on disk: {total}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600);
            }
        }
    }

    #[test]
    fn appends_to_what_an_earlier_run_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "earlier\n").unwrap();
        let mut log = RotatingLog::open(&path, 1000, 1).unwrap();
        writeln!(log, "now").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "earlier\nnow\n");
    }
}
