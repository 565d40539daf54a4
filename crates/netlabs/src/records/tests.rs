//! The tests of `records`: torn and failed writes on a file in memory
//! that fails on purpose, then replace and lock on real files.

use super::*;
use std::cell::{Cell, RefCell};
use std::io::Cursor;

use crate::temp::TempDir;

/// A file in memory whose writes can be cut short or fail on purpose:
/// after `room` bytes, `write` takes what fits, then fails like a full
/// disk.
struct Flaky {
    data: RefCell<Cursor<Vec<u8>>>,
    room: Cell<usize>,
    /// Bytes taken per `write` call at most (a short write).
    chunk: usize,
    /// `sync` fails, like an `fsync` on a failing disk.
    sync_fails: bool,
}

impl Flaky {
    fn new(content: &[u8], room: usize, chunk: usize) -> Flaky {
        let mut cursor = Cursor::new(content.to_vec());
        cursor.set_position(content.len() as u64);
        Flaky {
            data: RefCell::new(cursor),
            room: Cell::new(room),
            chunk,
            sync_fails: false,
        }
    }
    fn content(&self) -> Vec<u8> {
        self.data.borrow().get_ref().clone()
    }
}

impl Write for Flaky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.room.get());
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::from_raw_os_error(28)); // ENOSPC
        }
        self.room.set(self.room.get() - n);
        let data = self.data.get_mut();
        let end = data.get_ref().len() as u64;
        data.set_position(end); // append mode
        data.write(&buf[..n])
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Flaky {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.data.get_mut().read(buf)
    }
}

impl Seek for Flaky {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.data.get_mut().seek(to)
    }
}

impl RecordFile for Flaky {
    fn length(&self) -> io::Result<u64> {
        Ok(self.data.borrow().get_ref().len() as u64)
    }
    fn cut(&self, len: u64) -> io::Result<()> {
        self.data.borrow_mut().get_mut().truncate(len as usize);
        Ok(())
    }
    fn sync(&self) -> io::Result<()> {
        if self.sync_fails {
            return Err(io::Error::from_raw_os_error(5)); // EIO
        }
        Ok(())
    }
}

#[test]
fn a_record_goes_whole_through_short_writes() {
    let mut file = Flaky::new(b"un\n", usize::MAX, 3);
    append(&mut file, b"deux mots\n", true).unwrap();
    assert_eq!(file.content(), b"un\ndeux mots\n");
}

#[test]
fn a_write_that_fails_half_way_leaves_nothing_of_the_record() {
    // Room for 5 bytes of the record only, taken 2 by 2, then "disk full".
    let mut file = Flaky::new(b"un\n", 5, 2);
    let e = append(&mut file, b"deux mots\n", false).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(28));
    assert_eq!(
        file.content(),
        b"un\n",
        "cut back to where the record began"
    );
    // Room again: the next record starts on a clean line.
    file.room.set(usize::MAX);
    append(&mut file, b"trois\n", false).unwrap();
    assert_eq!(file.content(), b"un\ntrois\n");
}

#[test]
fn a_write_refused_at_once_changes_nothing() {
    let mut file = Flaky::new(b"", 0, 100);
    assert!(append(&mut file, b"x\n", false).is_err());
    assert_eq!(file.content(), b"");
}

#[test]
fn a_failed_sync_undoes_the_record_too() {
    let mut file = Flaky::new(b"un\n", usize::MAX, 100);
    file.sync_fails = true;
    assert!(append(&mut file, b"deux\n", true).is_err());
    assert_eq!(file.content(), b"un\n");
    // Without sync asked, the same file takes it.
    append(&mut file, b"deux\n", false).unwrap();
    assert_eq!(file.content(), b"un\ndeux\n");
}

#[test]
fn a_torn_tail_is_found_and_cut() {
    assert_eq!(split_torn_tail(b"a\nb\nc"), (&b"a\nb\n"[..], &b"c"[..]));
    assert_eq!(split_torn_tail(b"a\nb\n"), (&b"a\nb\n"[..], &b""[..]));
    assert_eq!(split_torn_tail(b"abc"), (&b""[..], &b"abc"[..]));
    assert_eq!(split_torn_tail(b""), (&b""[..], &b""[..]));

    for (content, kept) in [
        (&b"a\nb\nc"[..], &b"a\nb\n"[..]),
        (b"a\nb\n", b"a\nb\n"),
        (b"sans fin", b""),
        (b"", b""),
    ] {
        let mut file = Flaky::new(content, 0, 1);
        let cut = cut_torn_tail(&mut file).unwrap();
        assert_eq!(file.content(), kept);
        assert_eq!(cut as usize, content.len() - kept.len());
    }
}

#[test]
fn a_torn_tail_longer_than_one_block_is_cut_whole() {
    // The last `\n` is three blocks away from the end.
    let mut content = b"debut\n".to_vec();
    content.extend(std::iter::repeat_n(b'x', 3 * TAIL_BLOCK + 17));
    let mut file = Flaky::new(&content, 0, 1);
    assert_eq!(
        cut_torn_tail(&mut file).unwrap(),
        3 * TAIL_BLOCK as u64 + 17
    );
    assert_eq!(file.content(), b"debut\n");
    // And a file of whole records, larger than a block, is kept.
    let whole: Vec<u8> = b"ligne\n".repeat(TAIL_BLOCK);
    let mut file = Flaky::new(&whole, 0, 1);
    assert_eq!(cut_torn_tail(&mut file).unwrap(), 0);
    assert_eq!(file.content(), whole);
}

/// The names of the files in `dir`, sorted.
fn names(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn replace_leaves_the_new_file_only_and_keeps_appending_to_it() {
    let folder = TempDir::new("records-replace");
    let path = folder.file("data.kv");
    fs::write(&path, b"ancien\n").unwrap();
    let mut file = replace(&path, b"nouveau\n").unwrap();
    append(&mut file, b"suite\n", false).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"nouveau\nsuite\n");
    assert_eq!(names(&folder), ["data.kv"], "no temporary file left");
    // Into a folder that does not exist: an error, nothing created.
    assert!(replace(&folder.file("non/data.kv"), b"x\n").is_err());
}

#[test]
fn a_locked_file_is_refused_with_its_holder_and_temps_are_told_apart() {
    let folder = TempDir::new("records-lock");
    let path = folder.file("data.kv");
    let held = open_locked(&path).unwrap();
    match open_locked(&path) {
        Err(Unavailable::InUse(pid)) => {
            if Path::new("/proc/locks").exists() {
                assert_eq!(pid, Some(std::process::id()));
            }
        }
        other => panic!("not refused: {other:?}"),
    }
    // A replacement is locked before its rename: still held.
    let held = {
        let _old = held;
        replace(&path, b"x\n").unwrap()
    };
    assert!(open_locked(&path).is_err());
    drop(held);
    assert!(open_locked(&path).is_ok());

    let of = OsStr::new("data.kv");
    assert!(is_temp_name(OsStr::new("data.kv.0123456789abcdef.tmp"), of));
    for other in [
        "data.kv.0123456789ABCDEF.tmp",
        "data.kv.0123456789abcdef.tm",
        "data.kv.0123456789abcde.tmp",
        "xdata.kv.0123456789abcdef.tmp",
        "data.kv",
    ] {
        assert!(!is_temp_name(OsStr::new(other), of), "{other}");
    }
}

#[test]
fn temporary_names_are_never_the_same() {
    let names: std::collections::HashSet<u64> = (0..1000).map(|_| unguessable()).collect();
    assert_eq!(names.len(), 1000);
}

#[test]
fn paths_are_checked_before_use() {
    use std::os::unix::fs::symlink;
    let folder = TempDir::new("records-check");
    let file = folder.file("f.txt");
    fs::write(&file, b"x\n").unwrap();
    assert_eq!(check_path(&file).unwrap(), file);
    let absent = folder.file("absent.txt");
    assert_eq!(check_path(&absent).unwrap(), absent);

    let dir = check_path(folder.path()).unwrap_err();
    assert!(
        dir.ends_with("est un dossier, pas un fichier ordinaire"),
        "{dir}"
    );
    let null = check_path(Path::new("/dev/null")).unwrap_err();
    assert!(null.contains("un périphérique"), "{null}");

    // A link is followed, relative to its own folder, even dangling.
    symlink("f.txt", folder.file("lien")).unwrap();
    assert_eq!(check_path(&folder.file("lien")).unwrap(), file);
    symlink("absent.txt", folder.file("pendant")).unwrap();
    assert_eq!(check_path(&folder.file("pendant")).unwrap(), absent);
    symlink("lien", folder.file("lien2")).unwrap();
    assert_eq!(check_path(&folder.file("lien2")).unwrap(), file);
    symlink(".", folder.file("ici")).unwrap();
    let through = check_path(&folder.file("ici")).unwrap_err();
    assert!(through.contains("qui est un dossier"), "{through}");
    symlink("boucle", folder.file("boucle")).unwrap();
    assert!(
        check_path(&folder.file("boucle"))
            .unwrap_err()
            .contains("trop de liens")
    );
}
