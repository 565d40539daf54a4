//! Whole records in a file: a line written is whole or absent.
//!
//! Two servers keep what their clients send in a file, one line (a
//! *record*) at a time: `kv-server --save` (its journal) and `pesto-server`
//! (`write:`). A process can end at any moment — Ctrl-C, `kill -9`, a full
//! disk in the middle of a write — and the file must never keep half a
//! record, nor glue the next one to it. Three rules, one function each:
//!
//! - [`append`]: a record goes at the end of the file whole, or the file is
//!   cut back to where the record began (a failed or short write is undone);
//! - [`cut_torn_tail`] / [`split_torn_tail`]: bytes after the last `\n` are
//!   a record a kill interrupted; at the next start they are cut off;
//! - [`replace`] / [`Temp`]: a whole new version of a file is written to a
//!   temporary file beside it, flushed to the disk, then renamed over it: a
//!   rename is atomic, so the file is the old version or the new one, never
//!   half; [`remove_stale_temps`] removes those a kill left behind.
//!
//! And two rules for a file named on the command line: [`check_path`], it
//! must be a regular file or not exist yet (a directory, a device, a named
//! pipe — opening it would wait for ever — or a socket is refused at once;
//! a symbolic link is followed, and the file it names is the one written);
//! and [`open_locked`], it belongs to one running server: a second one is
//! refused, told which process holds it, before it changes anything.

use std::collections::hash_map::RandomState;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::Why;

/// How many symbolic links may follow one another before we give up (the
/// system's own limit, `ELOOP`, is 40 on Linux).
const MAX_LINKS: usize = 40;

/// How many bytes [`cut_torn_tail`] reads at a time, from the end, looking
/// for the last `\n`.
const TAIL_BLOCK: usize = 8 * 1024;

/// Checks a file named on the command line before anything opens it, and
/// returns the path to write: the file itself, or the file a symbolic link
/// names (a link to a link is followed too).
///
/// The error is one French sentence naming the path, for `fail!`.
pub fn check_path(path: &Path) -> Result<PathBuf, String> {
    let shown = path.display();
    let mut target = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match fs::symlink_metadata(&target) {
            Ok(meta) => meta,
            // Not there yet: it will be created (a dangling link too).
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(target),
            Err(e) => return Err(format!("impossible d'examiner {shown} ({})", Why(&e))),
        };
        let kind = meta.file_type();
        let what = if kind.is_symlink() {
            let link = fs::read_link(&target)
                .map_err(|e| format!("impossible de lire le lien {shown} ({})", Why(&e)))?;
            // A relative link is relative to the folder of the link.
            target = match target.parent() {
                Some(folder) => folder.join(link),
                None => link,
            };
            continue;
        } else if kind.is_file() {
            return Ok(target);
        } else if kind.is_dir() {
            "un dossier"
        } else if kind.is_fifo() {
            "un tube nommé (fifo)"
        } else if kind.is_socket() {
            "une socket"
        } else if kind.is_block_device() || kind.is_char_device() {
            "un périphérique"
        } else {
            "un fichier spécial"
        };
        return Err(if target == path {
            format!("{shown} est {what}, pas un fichier ordinaire")
        } else {
            format!(
                "{shown} mène à {}, qui est {what}, pas un fichier ordinaire",
                target.display()
            )
        });
    }
    Err(format!(
        "{shown} : trop de liens symboliques à suivre (une boucle ?)"
    ))
}

/// Opens `path` (already checked by [`check_path`]) for appending records,
/// creating it if needed, and checks once more what was opened: between
/// the check and the opening, the path may have been replaced.
pub fn open_append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("ce n'est plus un fichier ordinaire"));
    }
    Ok(file)
}

/// What [`append`] and [`cut_torn_tail`] need of a file: writing, its
/// length, cutting it, flushing it to the disk. A [`File`] is one; the unit
/// tests use a file that fails on purpose.
pub trait RecordFile: Write {
    /// The length of the file in bytes.
    fn length(&self) -> io::Result<u64>;
    /// Cuts the file to `len` bytes.
    fn cut(&self, len: u64) -> io::Result<()>;
    /// Forces the data written so far to the disk (`fsync`).
    fn sync(&self) -> io::Result<()>;
}

impl RecordFile for File {
    fn length(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
    fn cut(&self, len: u64) -> io::Result<()> {
        self.set_len(len)
    }
    fn sync(&self) -> io::Result<()> {
        self.sync_data()
    }
}

/// Appends `record` (ending with its `\n`) to `file`, opened in append
/// mode, whole or not at all; with `sync`, it is also on the disk when
/// this returns (it then survives a power cut).
///
/// A write can fail half-way: the disk fills up after the first bytes, or
/// the system takes only part of them. Then the file is cut back to its
/// length before the record, and the error returned: nothing of the
/// record stays, and the next one starts on a clean line.
pub fn append(file: &mut impl RecordFile, record: &[u8], sync: bool) -> io::Result<()> {
    let start = file.length()?;
    append_at(file, start, record, sync)
}

/// [`append`], for a caller that knows the file's length (`start`): one
/// system call fewer per record. `record` may hold several records: they
/// are then all written, or none.
pub fn append_at(
    file: &mut impl RecordFile,
    start: u64,
    record: &[u8],
    sync: bool,
) -> io::Result<()> {
    let written = file
        .write_all(record)
        .and_then(|()| file.flush())
        .and_then(|()| if sync { file.sync() } else { Ok(()) });
    let Err(e) = written else {
        return Ok(());
    };
    match file.cut(start) {
        Ok(()) => Err(e),
        Err(undo) => Err(io::Error::new(
            e.kind(),
            format!(
                "{} ; et le début de l'enregistrement n'a pas pu être retiré ({})",
                Why(&e),
                Why(&undo)
            ),
        )),
    }
}

/// Splits the bytes of a file of records into the whole records and a torn
/// last one (the bytes after the last `\n`, empty if there are none).
pub fn split_torn_tail(bytes: &[u8]) -> (&[u8], &[u8]) {
    let whole = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |last| last + 1);
    bytes.split_at(whole)
}

/// Cuts a torn last record — bytes after the last `\n`, left by a process
/// killed in the middle of a write — off the end of `file`. Returns how
/// many bytes were cut (0 when the file ends with a whole record).
///
/// Only the end of the file is read, from the end backwards, so that a
/// large file costs no more than a small one.
pub fn cut_torn_tail(file: &mut (impl RecordFile + Read + Seek)) -> io::Result<u64> {
    let length = file.length()?;
    let mut block = vec![0u8; TAIL_BLOCK];
    let mut whole = 0;
    let mut end = length;
    while end > 0 {
        let size = (end as usize).min(TAIL_BLOCK);
        let start = end - size as u64;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut block[..size])?;
        if let Some(last) = block[..size].iter().rposition(|&b| b == b'\n') {
            whole = start + last as u64 + 1;
            break;
        }
        end = start;
    }
    if whole < length {
        file.cut(whole)?;
    }
    Ok(length - whole)
}

/// A new version of a file, written beside it under a temporary name,
/// then put in its place by [`Temp::commit`] in one rename, so that no one
/// ever sees the file half-written. Dropped without `commit` (an error on
/// the way), the temporary file is removed.
///
/// The temporary file is created beside the file (a rename only works on
/// one file system), *exclusively* (`create_new`: if anything already has
/// that name, even a link planted there, we do not open it), under a
/// random name no one can guess (`NAME.0123456789abcdef.tmp`), and locked
/// like the file it will replace (see [`open_locked`]): from its creation
/// to its rename it is known to be in use, and [`remove_stale_temps`]
/// leaves it alone.
#[derive(Debug)]
pub struct Temp {
    path: PathBuf,
    file: File,
    committed: bool,
}

impl Temp {
    /// Creates the temporary file that will replace `path` (a path
    /// [`check_path`] returned), with the same permissions.
    pub fn beside(path: &Path) -> io::Result<Temp> {
        let (folder, name) = folder_and_name(path)?;
        let (temp, file) = create_temp(folder, name)?;
        let temp = Temp {
            path: temp,
            file,
            committed: false,
        };
        temp.file.try_lock().map_err(io::Error::from)?;
        if let Ok(old) = fs::metadata(path) {
            temp.file.set_permissions(old.permissions())?;
        }
        Ok(temp)
    }

    /// The temporary file, open for reading and appending.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Forces the temporary file to the disk, renames it over `path`, and
    /// returns it, still locked, open for appending: it is the file now.
    pub fn commit(mut self, path: &Path) -> io::Result<File> {
        // Without this, a power cut soon after the rename could leave an
        // empty file: the rename may reach the disk before the data.
        self.file.sync_all()?;
        // Atomic on one file system: readers see the old file or the new.
        fs::rename(&self.path, path)?;
        self.committed = true;
        // Make the rename itself durable (best effort: not every system
        // lets one open a folder).
        if let Ok((folder, _)) = folder_and_name(path)
            && let Ok(folder) = File::open(folder)
        {
            let _ = folder.sync_all();
        }
        self.file.try_clone()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Replaces the file at `path` (a path [`check_path`] returned) by
/// `bytes` through a [`Temp`], and returns the new file, locked and open
/// for appending.
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<File> {
    let mut temp = Temp::beside(path)?;
    temp.file().write_all(bytes)?;
    temp.commit(path)
}

/// The folder of `path` (`.` for a bare name) and its file name.
fn folder_and_name(path: &Path) -> io::Result<(&Path, &OsStr)> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "pas de nom de fichier"))?;
    Ok((folder, name))
}

/// Creates `NAME.RANDOM.tmp` in `folder`, exclusively, open for appending.
fn create_temp(folder: &Path, name: &OsStr) -> io::Result<(PathBuf, File)> {
    let mut tries = 0;
    loop {
        let mut temp_name = name.to_os_string();
        temp_name.push(format!(".{:016x}.tmp", unguessable()));
        let temp = folder.join(temp_name);
        let opened = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&temp);
        match opened {
            Ok(file) => return Ok((temp, file)),
            // Someone took that name: draw another, a few times.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 8 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// True when `name` is a temporary name [`Temp::beside`] gives for the
/// file `of`: `OF.` then 16 lowercase hexadecimal digits then `.tmp`.
fn is_temp_name(name: &OsStr, of: &OsStr) -> bool {
    let (name, of) = (name.as_encoded_bytes(), of.as_encoded_bytes());
    let Some(rest) = name.strip_prefix(of) else {
        return false;
    };
    let Some(middle) = rest
        .strip_prefix(b".")
        .and_then(|r| r.strip_suffix(b".tmp"))
    else {
        return false;
    };
    middle.len() == 16
        && middle
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// Removes the temporary files that a run killed in the middle of a
/// replacement left beside `path`; returns how many, and their bytes.
///
/// Call it holding `path`'s lock ([`open_locked`]): no other server then
/// writes beside this file. Only what can be proved ours is removed: a
/// regular file (not a link, not a folder) named exactly as [`Temp`] names
/// them for this file, that no one holds locked (a temporary file being
/// written is locked by its writer).
pub fn remove_stale_temps(path: &Path) -> io::Result<(u64, u64)> {
    let (folder, name) = folder_and_name(path)?;
    let (mut count, mut bytes) = (0, 0);
    for entry in fs::read_dir(folder)? {
        let entry = entry?;
        if !is_temp_name(&entry.file_name(), name) {
            continue;
        }
        let stale = entry.path();
        let Ok(meta) = fs::symlink_metadata(&stale) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let Ok(file) = OpenOptions::new().read(true).open(&stale) else {
            continue;
        };
        if file.try_lock().is_err() {
            continue; // being written by someone: not stale
        }
        if fs::remove_file(&stale).is_ok() {
            count += 1;
            bytes += meta.len();
        }
    }
    Ok((count, bytes))
}

/// Why [`open_locked`] could not give the file.
#[derive(Debug)]
pub enum Unavailable {
    /// Another process holds the file's lock: its PID, when the system
    /// says it (`/proc/locks` on Linux).
    InUse(Option<u32>),
    /// The file could not be opened (rights, missing folder…).
    Failed(io::Error),
}

impl Unavailable {
    /// One French sentence naming `path`, without the way out (the
    /// caller knows its option).
    pub fn describe(&self, path: &Path) -> String {
        let shown = path.display();
        match self {
            Unavailable::InUse(Some(pid)) => {
                format!("{shown} est déjà utilisé par un autre serveur (processus {pid})")
            }
            Unavailable::InUse(None) => {
                format!("{shown} est déjà utilisé par un autre processus")
            }
            Unavailable::Failed(e) => format!("impossible d'ouvrir {shown} ({})", Why(e)),
        }
    }
}

/// Opens `path` (a path [`check_path`] returned) for reading and
/// appending records, creating it if needed, and takes its exclusive lock,
/// held as long as the file is open: a data file belongs to one running
/// server. A second server on the same file is refused here, before it
/// has read or changed anything.
///
/// The lock is the system's (`flock`, through std's `File::try_lock`):
/// it goes with the process, even killed with `kill -9`, so no stale lock
/// is ever left. A server that replaces its file ([`Temp`]) locks the new
/// one before the rename; so after taking the lock we check that the file
/// locked is still the one at `path`, and start again if a rename came in
/// between.
pub fn open_locked(path: &Path) -> Result<File, Unavailable> {
    let mut tries = 0;
    loop {
        let file = open_append(path).map_err(Unavailable::Failed)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Unavailable::InUse(lock_holder(&file)));
            }
            Err(fs::TryLockError::Error(e)) => return Err(Unavailable::Failed(e)),
        }
        let locked = file.metadata().map_err(Unavailable::Failed)?;
        match fs::metadata(path) {
            Ok(now) if (now.dev(), now.ino()) == (locked.dev(), locked.ino()) => return Ok(file),
            _ if tries < 8 => tries += 1,
            _ => {
                return Err(Unavailable::Failed(io::Error::other(
                    "le fichier change sans cesse de place",
                )));
            }
        }
    }
}

/// The PID of the process holding `file`'s lock, as Linux lists it in
/// `/proc/locks` (`1: FLOCK ADVISORY WRITE 4242 08:01:1234 0 EOF`: the
/// PID, then the device as major:minor in hexadecimal, and the inode).
/// `None` where the system does not say.
pub fn lock_holder(file: &File) -> Option<u32> {
    let meta = file.metadata().ok()?;
    let dev = meta.dev();
    // The major and minor numbers packed in `st_dev` (glibc's layout).
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let wanted = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let locks = fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // "1:" "FLOCK" "ADVISORY" "WRITE" PID DEV:INODE START END
        let at = fields.iter().position(|f| *f == "FLOCK")?;
        let (pid, id) = (fields.get(at + 3)?, fields.get(at + 4)?);
        if *id == wanted {
            pid.parse().ok()
        } else {
            None
        }
    })
}

/// 64 random bits, from std's own source of randomness: each
/// `RandomState` is keyed by random numbers the system gives the process.
fn unguessable() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

#[cfg(test)]
mod tests;
