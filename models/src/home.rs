//! imgtag's data directory: where the defaults of every run-time path point
//! (ONNX Runtime in `onnxruntime/`, the model files in `models/`, the
//! label-vector cache in `cache/`, the embedded index in `index/`, the
//! object store in `objects/`), so that the binary works from any directory.
//!
//! Resolved on every call (cheap; nothing cached), first match wins:
//!
//! 1. `$IMGTAG_HOME`, when set and not empty (a relative value is taken from
//!    the working directory, like every relative path of the configuration);
//! 2. `./.imgtag`, when that directory exists in the working directory: a
//!    checkout where `scripts/setup` ran keeps its tests and scripts on the
//!    files it pinned;
//! 3. `$XDG_DATA_HOME/imgtag`, when `XDG_DATA_HOME` is an absolute path (the
//!    XDG Base Directory spec says a relative one is to be ignored);
//! 4. `$HOME/.local/share/imgtag`, when `HOME` is set and not empty;
//! 5. `./.imgtag` otherwise.
//!
//! Only defaults derive from it: a path set in the config file or an
//! `IMGTAG__SECTION__KEY` variable is used as given. `IMGTAG_HOME=DIR
//! scripts/setup` installs the run-time files into `DIR`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The variable naming the data directory explicitly.
pub const HOME_VAR: &str = "IMGTAG_HOME";

/// The data directory's name in a working directory (a repository checkout).
pub const LOCAL_DIR: &str = ".imgtag";

/// Why the data directory is where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `IMGTAG_HOME` names it.
    ImgtagHome,
    /// `./.imgtag` exists in the working directory.
    WorkingDir,
    /// `$XDG_DATA_HOME/imgtag`.
    XdgDataHome,
    /// `$HOME/.local/share/imgtag` (no usable `XDG_DATA_HOME`).
    Home,
    /// `./.imgtag` because neither `IMGTAG_HOME` nor `HOME` is set.
    Fallback,
}

impl Source {
    /// How the directory was chosen, in words for messages.
    pub fn explain(self) -> &'static str {
        match self {
            Self::ImgtagHome => "set by IMGTAG_HOME",
            Self::WorkingDir => "the .imgtag directory in the working directory",
            Self::XdgDataHome => {
                "$XDG_DATA_HOME/imgtag: IMGTAG_HOME is not set and the working directory has no .imgtag"
            }
            Self::Home => {
                "$HOME/.local/share/imgtag: IMGTAG_HOME and XDG_DATA_HOME are not set and the \
                 working directory has no .imgtag"
            }
            Self::Fallback => "./.imgtag: neither IMGTAG_HOME nor HOME is set",
        }
    }
}

/// The data directory and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    /// The directory (relative to the working directory for
    /// [`Source::WorkingDir`] and [`Source::Fallback`], and for a relative
    /// `IMGTAG_HOME`).
    pub path: PathBuf,
    /// Why it is this one.
    pub source: Source,
}

impl DataDir {
    /// Whether `path` lies inside the directory (compared as absolute paths,
    /// without resolving symbolic links).
    pub fn contains(&self, path: &Path) -> bool {
        absolute(path).starts_with(absolute(&self.path))
    }
}

impl std::fmt::Display for DataDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({})",
            absolute(&self.path).display(),
            self.source.explain()
        )
    }
}

/// The data directory of this process, resolved now from its environment and
/// working directory.
pub fn resolve() -> DataDir {
    resolve_with(|name| std::env::var_os(name), Path::new("."))
}

/// The data directory (see the module docs for the order).
pub fn data_dir() -> PathBuf {
    resolve().path
}

/// Where imgtag looked, for messages: the absolute directory and how it was
/// chosen, e.g. `/srv/imgtag (set by IMGTAG_HOME)`.
pub fn describe() -> String {
    resolve().to_string()
}

/// What to do about a missing installed file at `path`: names the data
/// directory and how it was chosen, `scripts/setup` and `IMGTAG_HOME`.
pub fn setup_hint(path: &Path) -> String {
    let dir = resolve();
    let place = if dir.contains(path) {
        format!("imgtag's data directory is {dir}")
    } else {
        format!("this path was configured; imgtag's data directory, not used for it, is {dir}")
    };
    format!(
        "{place}; run `scripts/setup` to install or repair it (`IMGTAG_HOME=DIR scripts/setup` \
         installs into DIR), or set IMGTAG_HOME to a directory scripts/setup filled"
    )
}

/// [`resolve`] over an environment lookup and a working directory (`cwd`
/// only serves to look for `.imgtag`; the result stays relative to it).
pub fn resolve_with(env: impl Fn(&str) -> Option<OsString>, cwd: &Path) -> DataDir {
    let set = |name: &str| env(name).filter(|value| !value.is_empty());
    if let Some(home) = set(HOME_VAR) {
        return DataDir {
            path: PathBuf::from(home),
            source: Source::ImgtagHome,
        };
    }
    if cwd.join(LOCAL_DIR).is_dir() {
        return DataDir {
            path: PathBuf::from(LOCAL_DIR),
            source: Source::WorkingDir,
        };
    }
    if let Some(xdg) = set("XDG_DATA_HOME").map(PathBuf::from)
        && xdg.is_absolute()
    {
        return DataDir {
            path: xdg.join("imgtag"),
            source: Source::XdgDataHome,
        };
    }
    if let Some(home) = set("HOME") {
        return DataDir {
            path: PathBuf::from(home).join(".local/share/imgtag"),
            source: Source::Home,
        };
    }
    DataDir {
        path: PathBuf::from(LOCAL_DIR),
        source: Source::Fallback,
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_in(vars: &[(&str, &str)], cwd: &Path) -> DataDir {
        resolve_with(
            |name| {
                vars.iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| OsString::from(value))
            },
            cwd,
        )
    }

    #[test]
    fn imgtag_home_wins_over_everything() {
        let cwd = tempfile::tempdir().unwrap();
        fs_err::create_dir(cwd.path().join(".imgtag")).unwrap();
        let dir = resolve_in(
            &[
                ("IMGTAG_HOME", "/srv/imgtag"),
                ("XDG_DATA_HOME", "/xdg"),
                ("HOME", "/home/u"),
            ],
            cwd.path(),
        );
        assert_eq!(dir.path, PathBuf::from("/srv/imgtag"));
        assert_eq!(dir.source, Source::ImgtagHome);
        // A relative value stays relative to the working directory.
        let dir = resolve_in(&[("IMGTAG_HOME", "data")], cwd.path());
        assert_eq!(dir.path, PathBuf::from("data"));
    }

    #[test]
    fn an_empty_imgtag_home_counts_as_unset() {
        let cwd = tempfile::tempdir().unwrap();
        let dir = resolve_in(&[("IMGTAG_HOME", ""), ("HOME", "/home/u")], cwd.path());
        assert_eq!(dir.path, PathBuf::from("/home/u/.local/share/imgtag"));
        assert_eq!(dir.source, Source::Home);
    }

    #[test]
    fn a_checkout_keeps_its_own_directory() {
        let cwd = tempfile::tempdir().unwrap();
        fs_err::create_dir(cwd.path().join(".imgtag")).unwrap();
        let dir = resolve_in(
            &[("XDG_DATA_HOME", "/xdg"), ("HOME", "/home/u")],
            cwd.path(),
        );
        assert_eq!(dir.path, PathBuf::from(".imgtag"));
        assert_eq!(dir.source, Source::WorkingDir);
    }

    #[test]
    fn a_file_named_imgtag_is_no_data_directory() {
        let cwd = tempfile::tempdir().unwrap();
        fs_err::write(cwd.path().join(".imgtag"), b"").unwrap();
        let dir = resolve_in(&[("HOME", "/home/u")], cwd.path());
        assert_eq!(dir.source, Source::Home);
    }

    #[test]
    fn xdg_data_home_when_absolute_else_home() {
        let cwd = tempfile::tempdir().unwrap();
        let dir = resolve_in(
            &[("XDG_DATA_HOME", "/xdg"), ("HOME", "/home/u")],
            cwd.path(),
        );
        assert_eq!(dir.path, PathBuf::from("/xdg/imgtag"));
        assert_eq!(dir.source, Source::XdgDataHome);
        for ignored in ["", "relative/data"] {
            let dir = resolve_in(
                &[("XDG_DATA_HOME", ignored), ("HOME", "/home/u")],
                cwd.path(),
            );
            assert_eq!(dir.path, PathBuf::from("/home/u/.local/share/imgtag"));
            assert_eq!(dir.source, Source::Home);
        }
    }

    #[test]
    fn without_home_the_working_directory() {
        let cwd = tempfile::tempdir().unwrap();
        for vars in [&[][..], &[("HOME", "")][..], &[("XDG_DATA_HOME", "x")][..]] {
            let dir = resolve_in(vars, cwd.path());
            assert_eq!(dir.path, PathBuf::from(".imgtag"));
            assert_eq!(dir.source, Source::Fallback);
        }
        // An absolute XDG_DATA_HOME needs no HOME.
        let dir = resolve_in(&[("XDG_DATA_HOME", "/xdg")], cwd.path());
        assert_eq!(dir.path, PathBuf::from("/xdg/imgtag"));
    }

    #[test]
    fn description_names_the_absolute_directory_and_the_reason() {
        let dir = DataDir {
            path: PathBuf::from("/srv/imgtag"),
            source: Source::ImgtagHome,
        };
        assert_eq!(dir.to_string(), "/srv/imgtag (set by IMGTAG_HOME)");
        let local = DataDir {
            path: PathBuf::from(".imgtag"),
            source: Source::WorkingDir,
        };
        let shown = local.to_string();
        let cwd = std::env::current_dir().unwrap();
        assert!(
            shown.starts_with(&cwd.join(".imgtag").display().to_string()),
            "{shown}"
        );
        assert!(dir.contains(Path::new("/srv/imgtag/models/a.onnx")));
        assert!(!dir.contains(Path::new("/srv/imgtag-other/a.onnx")));
        assert!(local.contains(Path::new(".imgtag/models")));
        assert!(local.contains(&cwd.join(".imgtag/onnxruntime/lib.so")));
    }

    #[test]
    fn setup_hint_names_setup_and_imgtag_home() {
        let hint = setup_hint(Path::new("/nonexistent/libonnxruntime.so"));
        assert!(hint.contains("scripts/setup"), "{hint}");
        assert!(hint.contains("IMGTAG_HOME"), "{hint}");
        assert!(hint.contains(&describe()), "{hint}");
        assert!(hint.contains("configured"), "{hint}");
        let inside = setup_hint(&data_dir().join("models/x.onnx"));
        assert!(
            inside.starts_with("imgtag's data directory is "),
            "{inside}"
        );
    }
}
