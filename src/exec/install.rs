//! `daprjob install DEST`: the init container of binary mode copies the wrapper into a shared
//! `emptyDir` with it, since its `FROM scratch` image has no `cp`.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::say;

/// Usage of `daprjob install`.
pub const USAGE: &str = "\
Usage: daprjob install DEST

Copies this daprjob executable to DEST (a directory: DEST/daprjob), mode 0755,
atomically (a temporary file in the same directory, then rename).
Binary mode's init container runs `daprjob install /.daprjob`.
";

/// The file name used when DEST is a directory.
pub const FILE_NAME: &str = "daprjob";

/// Opens the running executable: `/proc/self/exe`, else `argv[0]` when it is a path.
fn open_self(argv0: &OsStr) -> io::Result<File> {
    match File::open("/proc/self/exe") {
        Ok(f) => Ok(f),
        Err(e) if argv0.as_bytes().contains(&b'/') => File::open(argv0).map_err(|e2| {
            io::Error::new(
                e2.kind(),
                format!(
                    "cannot open /proc/self/exe ({e}) nor {}: {e2}",
                    argv0.display()
                ),
            )
        }),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot open /proc/self/exe: {e}"),
        )),
    }
}

/// Where the binary goes: `dest/daprjob` when `dest` is a directory, else `dest` itself.
pub fn target_path(dest: &Path) -> Result<PathBuf, String> {
    if dest.is_dir() {
        return Ok(dest.join(FILE_NAME));
    }
    if dest.as_os_str().as_bytes().ends_with(b"/") {
        return Err(format!("{}: no such directory", dest.display()));
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(format!(
            "{}: directory {} does not exist",
            dest.display(),
            parent.display()
        ));
    }
    Ok(dest.to_path_buf())
}

/// Copies the running executable to `dest` atomically with mode 0755; returns the final path
/// and the number of bytes written.
pub fn install(dest: &Path, argv0: &OsStr) -> Result<(PathBuf, u64), String> {
    let target = target_path(dest)?;
    let mut src = open_self(argv0).map_err(|e| e.to_string())?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target.file_name().unwrap_or(OsStr::new(FILE_NAME));
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);

    let result = (|| -> io::Result<u64> {
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(&tmp)?;
        let n = io::copy(&mut src, &mut out)?;
        // The umask may have narrowed the mode given at creation.
        out.set_permissions(fs::Permissions::from_mode(0o755))?;
        out.sync_all()?;
        drop(out);
        fs::rename(&tmp, &target)?;
        // Best effort: make the rename itself durable.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(n)
    })();
    match result {
        Ok(n) => Ok((target, n)),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(format!("cannot write {}: {e}", target.display()))
        }
    }
}

/// `daprjob install` with the arguments after `install`; returns the exit code
/// (0 installed, 1 failed, 2 usage error).
pub fn main(argv0: &OsStr, args: &[OsString]) -> i32 {
    let dest = match args {
        [a] if a == "-h" || a == "--help" => {
            print!("{USAGE}");
            return 0;
        }
        [a] if !a.as_bytes().starts_with(b"-") => a,
        [a, b] if a == "--" => b,
        _ => {
            say!("install: expected exactly one destination\n{USAGE}");
            return 2;
        }
    };
    match install(Path::new(dest), argv0) {
        Ok((path, n)) => {
            say!("installed {} ({n} bytes)", path.display());
            0
        }
        Err(e) => {
            say!("install: {e}");
            1
        }
    }
}
