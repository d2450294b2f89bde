//! Opening files the way a scanner of other people's folders must.
//!
//! Discovery saw a regular file, but by the time it is read it may have
//! been swapped for a FIFO (an `open` that waits for a writer forever), a
//! device, or a symbolic link out of the library. Files are opened with
//! `O_NONBLOCK` (a FIFO opens at once instead of blocking) and `O_NOFOLLOW`
//! (a link is refused, not followed), and the opened descriptor, not the
//! path, is checked to be a regular file before a byte is read.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// Opens `path` for reading if, and only if, it is a regular file.
pub fn open_regular(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return Error::NotRegular {
                path: path.to_path_buf(),
                what: "a symbolic link",
            };
        }
        Error::io(path, e)
    })?;
    let kind = file.metadata().map_err(|e| Error::io(path, e))?.file_type();
    if !kind.is_file() {
        return Err(Error::NotRegular {
            path: path.to_path_buf(),
            what: describe_type(&kind),
        });
    }
    Ok(file)
}

fn describe_type(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Reads a whole small file (a sidecar) that must not exceed `limit` bytes.
/// The limit holds even when the size the file system reports lies.
pub fn read_capped(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let file = open_regular(path)?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len > limit {
        return Err(Error::malformed(
            path,
            format!("{what} is implausibly large ({len} bytes)"),
        ));
    }
    let mut out = Vec::with_capacity(len as usize);
    file.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::io(path, e))?;
    if out.len() as u64 > limit {
        return Err(Error::malformed(path, format!("{what} grew while read")));
    }
    Ok(out)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ms-open-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_fifo_named_like_media_is_refused_without_blocking() {
        let d = dir("fifo");
        let p = d.join("song.mp3");
        let made = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .unwrap();
        assert!(made.success());
        // Without O_NONBLOCK this open would wait for a writer forever.
        let err = open_regular(&p).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotRegular {
                    what: "a named pipe",
                    ..
                }
            ),
            "{err}"
        );
        assert!(crate::extract(&p).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_symbolic_link_is_not_followed() {
        let d = dir("link");
        let target = d.join("real.nfo");
        std::fs::write(&target, "<movie><title>x</title></movie>").unwrap();
        let link = d.join("link.nfo");
        std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
        assert!(matches!(
            open_regular(&link),
            Err(Error::NotRegular {
                what: "a symbolic link",
                ..
            })
        ));
        assert!(open_regular(&target).is_ok());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn devices_and_folders_are_refused() {
        assert!(matches!(
            open_regular(Path::new("/dev/zero")),
            Err(Error::NotRegular {
                what: "a device",
                ..
            })
        ));
        assert!(matches!(
            open_regular(Path::new("/")),
            Err(Error::NotRegular { .. })
        ));
    }
}
