//! Reading `-f FILE|DIR|-` inputs the way kubectl does.

use std::io::Read;
use std::path::{Path, PathBuf};

/// One input text and the name to report it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The path as given, or `<stdin>`.
    pub name: String,
    /// The whole text.
    pub text: String,
}

/// A file or directory that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// I/O failure on a path.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not UTF-8.
    #[error("{path}: not UTF-8 text")]
    NotUtf8 {
        /// The path.
        path: String,
    },
    /// A directory held no manifest files.
    #[error("{path}: no .yaml, .yml or .json files found (use -R to recurse)")]
    EmptyDirectory {
        /// The path.
        path: String,
    },
    /// No `-f` and stdin is a terminal.
    #[error("no input: give -f FILE, -f DIR or -f - (stdin)")]
    NoInput,
    /// `-` was given more than once.
    #[error("-f - (stdin) can be given only once")]
    StdinTwice,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InputError + '_ {
    move |source| InputError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

fn read_file(path: &Path) -> Result<Source, InputError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let text = String::from_utf8(bytes).map_err(|_| InputError::NotUtf8 {
        path: path.display().to_string(),
    })?;
    Ok(Source {
        name: path.display().to_string(),
        text,
    })
}

/// Manifest files in `dir`, sorted by name; with `recursive`, subdirectories too.
fn collect_dir(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io(dir))?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recursive {
                collect_dir(&path, recursive, out)?;
            }
        } else if is_manifest(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Read every `-f` argument: `-` is stdin, a directory contributes its `.yaml`, `.yml`
/// and `.json` files in name order (recursively with `recursive`), a file is read as is.
pub fn read_paths(paths: &[String], recursive: bool) -> Result<Vec<Source>, InputError> {
    let mut sources = Vec::new();
    let mut stdin_used = false;
    for arg in paths {
        if arg == "-" {
            if stdin_used {
                return Err(InputError::StdinTwice);
            }
            stdin_used = true;
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(io(Path::new("<stdin>")))?;
            let text = String::from_utf8(bytes).map_err(|_| InputError::NotUtf8 {
                path: "<stdin>".to_string(),
            })?;
            sources.push(Source {
                name: "<stdin>".to_string(),
                text,
            });
            continue;
        }
        let path = Path::new(arg);
        let meta = std::fs::metadata(path).map_err(io(path))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            collect_dir(path, recursive, &mut files)?;
            if files.is_empty() {
                return Err(InputError::EmptyDirectory { path: arg.clone() });
            }
            for file in files {
                sources.push(read_file(&file)?);
            }
        } else {
            sources.push(read_file(path)?);
        }
    }
    Ok(sources)
}
