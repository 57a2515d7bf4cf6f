//! The shell wrapper: a POSIX sh entrypoint rendered from `templates/entrypoint.sh.hbs`.
