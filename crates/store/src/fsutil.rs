//! File-system helpers: durable writes, directory fsync, the data-dir lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// fsyncs a directory, so that entries created, renamed or removed in it
/// survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    // The parent of a relative one-component path (`hedui-data`) is "".
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Creates `dir` (and parents) if missing; fsyncs the parent when this call
/// created it.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent = dir.parent().ok_or_else(|| Error::io(dir, e))?;
            ensure_dir(parent)?;
            match std::fs::create_dir(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
                Err(e) => return Err(Error::io(dir, e)),
            }
        }
        Err(e) => return Err(Error::io(dir, e)),
    }
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: `hedui ingest --data hedui-data` (a relative data
    /// directory of one component, as the README has it) failed with
    /// "I/O error on : No such file or directory": its parent is "".
    #[test]
    fn the_parent_of_a_relative_one_component_path_is_synced_as_dot() {
        let parent = Path::new("hedui-data").parent().unwrap();
        assert_eq!(parent, Path::new(""));
        sync_dir(parent).unwrap();
    }
}

/// Writes `bytes` to a new file at `path` and fsyncs it.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// A writer that counts and blake3-hashes what passes through it.
#[derive(Debug)]
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: blake3::Hasher::new(),
            bytes: 0,
        }
    }

    /// The inner writer, the byte count and the hex blake3 of the bytes.
    pub(crate) fn finish(self) -> (W, u64, String) {
        (
            self.inner,
            self.bytes,
            self.hasher.finalize().to_hex().to_string(),
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// blake3 (hex) and size of a file's bytes.
pub(crate) fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = blake3::Hasher::new();
    let bytes = io::copy(&mut f, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok((bytes, hasher.finalize().to_hex().to_string()))
}

/// The data-dir lock (`<data dir>/lock`, an advisory `flock`).
///
/// A commit holds it shared from its first temporary file to its catalog
/// row; the sweep of leftovers holds it exclusive. So the sweep never sees
/// the work of a commit in flight, in this process or another, and a
/// crashed process's lock is released by the kernel.
#[derive(Debug)]
pub(crate) struct DirLock {
    path: PathBuf,
}

/// A held lock; released on drop.
#[derive(Debug)]
pub(crate) struct LockGuard {
    _file: File,
}

impl DirLock {
    pub(crate) fn new(path: PathBuf) -> Self {
        DirLock { path }
    }

    fn open(&self) -> Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Waits for the lock in shared mode.
    pub(crate) fn shared(&self) -> Result<LockGuard> {
        let file = self.open()?;
        file.lock_shared().map_err(|e| Error::io(&self.path, e))?;
        Ok(LockGuard { _file: file })
    }

    /// Waits for the lock in exclusive mode.
    pub(crate) fn exclusive(&self) -> Result<LockGuard> {
        let file = self.open()?;
        file.lock().map_err(|e| Error::io(&self.path, e))?;
        Ok(LockGuard { _file: file })
    }

    /// Takes the lock in exclusive mode if nobody holds it; `None` if
    /// someone does.
    pub(crate) fn try_exclusive(&self) -> Result<Option<LockGuard>> {
        let file = self.open()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(LockGuard { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(Error::io(&self.path, e)),
        }
    }
}
