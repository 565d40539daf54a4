//! A fresh folder for a test's files, removed with everything in it when
//! the test ends (passed or failed), and varied bytes to fill them: one
//! way for every test of the workspace, unit or end to end.

use std::path::{Path, PathBuf};

/// A fresh, empty folder under the system's temporary folder, named after
/// this process and the caller's `name` (`netlabs-PID-NAME`), removed when
/// dropped.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates the folder, empty (what a killed earlier run left there is
    /// removed first). Two tests of one process must give different names.
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("netlabs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path of `name` in the folder (not created).
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes a file of `len` varied bytes (`pattern(len, PATTERN_SEED)`)
    /// and returns its path.
    pub fn filled(&self, name: &str, len: usize) -> PathBuf {
        let path = self.file(name);
        std::fs::write(&path, pattern(len, PATTERN_SEED))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

/// The seed of the bytes in [`TempDir::filled`]'s files.
pub const PATTERN_SEED: u32 = 0x2545_F491;

/// Varied bytes from a seed (xorshift), so that a lost, changed or
/// reordered byte shows.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_is_fresh_and_goes_away() {
        let path = {
            let dir = TempDir::new("temp-self-test");
            std::fs::write(dir.file("a"), "x").unwrap();
            assert!(dir.file("a").is_file());
            dir.path().to_path_buf()
        };
        assert!(!path.exists());
        let dir = TempDir::new("temp-self-test");
        let file = dir.filled("f", 1000);
        assert_eq!(std::fs::read(file).unwrap(), pattern(1000, PATTERN_SEED));
        assert_ne!(pattern(16, 1), pattern(16, 2));
        let again = TempDir::new("temp-self-test");
        assert_eq!(std::fs::read_dir(again.path()).unwrap().count(), 0);
    }
}
