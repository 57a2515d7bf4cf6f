//! Settings of `daprjob exec`: the contract's environment variables, each overridden by its
//! flag, parsed and validated before anything runs (an invalid value is exit 78).

use std::ffi::{OsStr, OsString};
use std::fmt;

use crate::wrapper::contract::{
    DEFAULT_SHUTDOWN_SECONDS, DEFAULT_WAIT_SECONDS, ENV_DAPR_API_TOKEN, ENV_DAPR_HTTP_PORT,
    ENV_DISABLED, ENV_FORCE_SHUTDOWN, ENV_SHUTDOWN, ENV_SHUTDOWN_SECONDS, ENV_WAIT_SECONDS,
};

/// When the wrapper shuts the sidecar down after the job (`DAPRJOB_SHUTDOWN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// After every run, whatever its exit code (the default).
    Always,
    /// Only when the wrapper's exit code is 0.
    OnSuccess,
    /// Never (native sidecar mode: Kubernetes stops the sidecar).
    Never,
}

impl Policy {
    /// The policy's spelling in the environment and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Always => "always",
            Policy::OnSuccess => "on-success",
            Policy::Never => "never",
        }
    }

    /// Whether the shutdown phase runs for a wrapper exit code.
    pub fn applies_to(self, code: i32) -> bool {
        match self {
            Policy::Always => true,
            Policy::OnSuccess => code == 0,
            Policy::Never => false,
        }
    }
}

/// Validated settings of one `daprjob exec` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// daprd's HTTP port on 127.0.0.1; `None` means no sidecar: run the command plainly.
    pub port: Option<u16>,
    /// Value of the `dapr-api-token` header on shutdown calls.
    pub token: Option<Vec<u8>>,
    /// Bound on the readiness wait; `0` skips the wait.
    pub wait_seconds: u32,
    /// Shutdown policy.
    pub shutdown: Policy,
    /// Bound on the whole shutdown phase.
    pub shutdown_seconds: u32,
    /// Send `Dapr-Force-Shutdown: true` once 2/3 of the shutdown budget has passed.
    pub force_shutdown: bool,
    /// Global off switch: run the command plainly.
    pub disabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: None,
            token: None,
            wait_seconds: DEFAULT_WAIT_SECONDS,
            shutdown: Policy::Always,
            shutdown_seconds: DEFAULT_SHUTDOWN_SECONDS,
            force_shutdown: false,
            disabled: false,
        }
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Run `command` (never empty) under `config`.
    Run {
        /// The settings.
        config: Config,
        /// The job's argv, exactly as given.
        command: Vec<OsString>,
    },
    /// `-h`/`--help`: print the usage and exit 0.
    Help,
}

/// A configuration or usage error; the wrapper exits 78 without running anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// Usage of `daprjob exec`, printed by `--help`.
pub const USAGE: &str = "\
Usage: daprjob exec [FLAGS] -- CMD [ARGS...]

Waits for the Dapr sidecar, runs CMD with exactly ARGS, shuts the sidecar down,
and exits with CMD's exit code (128+N if it died of signal N).

Flags (each overrides its environment variable):
  --dapr-http-port N        DAPR_HTTP_PORT            unset: no sidecar, run CMD plainly
  --wait-seconds N          DAPRJOB_WAIT_SECONDS      readiness wait bound (default 60, 0 = no wait)
  --shutdown POLICY         DAPRJOB_SHUTDOWN          always | on-success | never (default always)
  --shutdown-seconds N      DAPRJOB_SHUTDOWN_SECONDS  shutdown phase bound (default 30)
  --force-shutdown[=BOOL]   DAPRJOB_FORCE_SHUTDOWN    end with Dapr-Force-Shutdown: true (default false)
  --disabled[=BOOL]         DAPRJOB_DISABLED          run CMD plainly, no wait, no shutdown
  -h, --help                print this help
DAPR_API_TOKEN (environment only) is sent as dapr-api-token on the shutdown call.

Exit codes of the wrapper's own: 69 sidecar not ready in time (CMD did not run),
78 configuration error, 126/127 CMD not executable/not found, 128+N signal N.
";

fn utf8<'a>(what: &str, v: &'a OsStr) -> Result<&'a str, ConfigError> {
    match v.to_str() {
        Some(s) => Ok(s),
        None => err(format!("{what}: not valid UTF-8")),
    }
}

/// Parses a number: 1 to 6 ASCII decimal digits (leading zeros ignored), no sign, no spaces.
fn parse_uint(what: &str, v: &OsStr) -> Result<u32, ConfigError> {
    let s = utf8(what, v)?;
    if s.is_empty() || s.len() > 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!("{what}: {s:?} is not a number of 1 to 6 digits"));
    }
    Ok(s.bytes().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

fn parse_seconds(what: &str, v: &OsStr) -> Result<u32, ConfigError> {
    parse_uint(what, v)
}

fn parse_port(what: &str, v: &OsStr) -> Result<u16, ConfigError> {
    match parse_uint(what, v)? {
        n @ 1..=65_535 => Ok(n as u16),
        n => err(format!("{what}: {n} is not a port (1 to 65535)")),
    }
}

/// Booleans: `true`/`false` in any case, `1`/`0`.
fn parse_bool(what: &str, v: &OsStr) -> Result<bool, ConfigError> {
    let s = utf8(what, v)?;
    if s == "1" || s.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if s == "0" || s.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        err(format!(
            "{what}: {s:?} is not a boolean (true, false, 1, 0)"
        ))
    }
}

fn parse_policy(what: &str, v: &OsStr) -> Result<Policy, ConfigError> {
    match utf8(what, v)? {
        "always" => Ok(Policy::Always),
        "on-success" => Ok(Policy::OnSuccess),
        "never" => Ok(Policy::Never),
        s => err(format!(
            "{what}: {s:?} is not a policy (always, on-success, never)"
        )),
    }
}

/// The setting a flag or variable names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Port,
    Wait,
    Shutdown,
    ShutdownSeconds,
    Force,
    Disabled,
}

fn apply(config: &mut Config, key: Key, what: &str, v: &OsStr) -> Result<(), ConfigError> {
    match key {
        Key::Port => config.port = Some(parse_port(what, v)?),
        Key::Wait => config.wait_seconds = parse_seconds(what, v)?,
        Key::Shutdown => config.shutdown = parse_policy(what, v)?,
        Key::ShutdownSeconds => config.shutdown_seconds = parse_seconds(what, v)?,
        Key::Force => config.force_shutdown = parse_bool(what, v)?,
        Key::Disabled => config.disabled = parse_bool(what, v)?,
    }
    Ok(())
}

const ENV_KEYS: [(&str, Key); 6] = [
    (ENV_DAPR_HTTP_PORT, Key::Port),
    (ENV_WAIT_SECONDS, Key::Wait),
    (ENV_SHUTDOWN, Key::Shutdown),
    (ENV_SHUTDOWN_SECONDS, Key::ShutdownSeconds),
    (ENV_FORCE_SHUTDOWN, Key::Force),
    (ENV_DISABLED, Key::Disabled),
];

/// Flags: name, key, whether the value may be omitted (booleans: bare flag means `true`).
const FLAGS: [(&str, Key, bool); 6] = [
    ("--dapr-http-port", Key::Port, false),
    ("--wait-seconds", Key::Wait, false),
    ("--shutdown", Key::Shutdown, false),
    ("--shutdown-seconds", Key::ShutdownSeconds, false),
    ("--force-shutdown", Key::Force, true),
    ("--disabled", Key::Disabled, true),
];

/// Parses the arguments after `exec` and the environment (through `env`).
///
/// A flag always wins over its variable, which is then not even read; a later flag wins over an
/// earlier one. The off switch (`--disabled`, `DAPRJOB_DISABLED`) is decided first: when it is
/// on, no other setting is checked. An empty variable counts as
/// unset (as `${VAR:-default}` does in the shell wrapper). Flags end at `--` or at the first
/// argument that does not start with `-`; everything from there on is the command, untouched.
pub fn parse(
    args: &[OsString],
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Invocation, ConfigError> {
    // Flags first: a setting given as a flag never looks at its variable.
    let mut flags: Vec<(Key, &'static str, OsString)> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let bytes = arg.as_encoded_bytes();
        if bytes == b"--" {
            i += 1;
            break;
        }
        if !bytes.starts_with(b"-") || bytes == b"-" {
            break;
        }
        if bytes == b"-h" || bytes == b"--help" {
            return Ok(Invocation::Help);
        }
        let s = utf8("flag", arg)?;
        let (name, inline) = match s.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (s, None),
        };
        let Some(&(flag, key, optional)) = FLAGS.iter().find(|(f, _, _)| *f == name) else {
            return err(format!("unknown flag {name} (see daprjob exec --help)"));
        };
        let value: OsString = match inline {
            Some(v) => v.into(),
            None if optional => "true".into(),
            None => {
                i += 1;
                match args.get(i) {
                    Some(v) => v.clone(),
                    None => return err(format!("{flag}: missing value")),
                }
            }
        };
        flags.push((key, flag, value));
        i += 1;
    }

    let command = args[i..].to_vec();
    if command.is_empty() {
        return err("no command given: daprjob exec [FLAGS] -- CMD [ARGS...]");
    }

    let mut config = Config::default();
    // The value of `key`: its last flag, else its variable (empty counts as unset).
    let value = |key: Key, var: &'static str| -> Option<(&'static str, OsString)> {
        match flags.iter().rev().find(|(k, _, _)| *k == key) {
            Some((_, flag, v)) => Some((*flag, v.clone())),
            None => env(var).filter(|v| !v.is_empty()).map(|v| (var, v)),
        }
    };
    // The off switch first: when it is on, nothing else is even looked at.
    if let Some((what, v)) = value(Key::Disabled, ENV_DISABLED) {
        apply(&mut config, Key::Disabled, what, &v)?;
    }
    if config.disabled {
        return Ok(Invocation::Run { config, command });
    }
    for (name, key) in ENV_KEYS {
        if key != Key::Disabled
            && let Some((what, v)) = value(key, name)
        {
            apply(&mut config, key, what, &v)?;
        }
    }
    if let Some(token) = env(ENV_DAPR_API_TOKEN).filter(|v| !v.is_empty()) {
        let bytes = token.into_encoded_bytes();
        if config.port.is_some() && bytes.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
            return err(format!(
                "{ENV_DAPR_API_TOKEN}: contains a line break or NUL, which no HTTP header can carry (a secret file with a trailing newline?)"
            ));
        }
        config.token = Some(bytes);
    }
    Ok(Invocation::Run { config, command })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<(Config, Vec<String>), ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        match parse(&args, |k| env.get(k).map(OsString::from))? {
            Invocation::Run { config, command } => Ok((
                config,
                command
                    .into_iter()
                    .map(|c| c.into_string().unwrap())
                    .collect(),
            )),
            Invocation::Help => panic!("help"),
        }
    }

    #[test]
    fn defaults() {
        let (c, cmd) = run(&["--", "echo", "hi"], &[]).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(cmd, ["echo", "hi"]);
    }

    #[test]
    fn env_then_flags() {
        let env = [
            ("DAPR_HTTP_PORT", "3500"),
            ("DAPRJOB_WAIT_SECONDS", "5"),
            ("DAPRJOB_SHUTDOWN", "never"),
            ("DAPRJOB_SHUTDOWN_SECONDS", "7"),
            ("DAPRJOB_FORCE_SHUTDOWN", "TRUE"),
            ("DAPRJOB_DISABLED", "0"),
            ("DAPR_API_TOKEN", "s3cret"),
        ];
        let (c, _) = run(&["x"], &env).unwrap();
        assert_eq!(c.port, Some(3500));
        assert_eq!(c.wait_seconds, 5);
        assert_eq!(c.shutdown, Policy::Never);
        assert_eq!(c.shutdown_seconds, 7);
        assert!(c.force_shutdown && !c.disabled);
        assert_eq!(c.token.as_deref(), Some(&b"s3cret"[..]));
        let (c, _) = run(
            &[
                "--dapr-http-port",
                "4000",
                "--wait-seconds=0",
                "--shutdown",
                "on-success",
                "--shutdown-seconds",
                "9",
                "--force-shutdown=false",
                "--disabled=false",
                "--",
                "x",
            ],
            &env,
        )
        .unwrap();
        assert_eq!(c.port, Some(4000));
        assert_eq!(c.wait_seconds, 0);
        assert_eq!(c.shutdown, Policy::OnSuccess);
        assert_eq!(c.shutdown_seconds, 9);
        assert!(!c.force_shutdown && !c.disabled);
    }

    #[test]
    fn bare_boolean_flags_mean_true() {
        let (c, _) = run(&["--force-shutdown", "--", "x"], &[]).unwrap();
        assert!(c.force_shutdown);
        let (c, _) = run(&["--disabled", "--", "x"], &[]).unwrap();
        assert!(c.disabled);
    }

    #[test]
    fn command_is_untouched() {
        let (_, cmd) = run(&["--", "--wait-seconds", "-h", "--", ""], &[]).unwrap();
        assert_eq!(cmd, ["--wait-seconds", "-h", "--", ""]);
        let (_, cmd) = run(&["--shutdown", "never", "sh", "--help"], &[]).unwrap();
        assert_eq!(cmd, ["sh", "--help"]);
    }

    #[test]
    fn empty_env_is_unset() {
        let (c, _) = run(&["x"], &[("DAPR_HTTP_PORT", ""), ("DAPRJOB_SHUTDOWN", "")]).unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn bad_values() {
        for (args, env) in [
            (&["--wait-seconds", "-1", "x"][..], &[][..]),
            (&["--wait-seconds", "1.5", "x"], &[]),
            (&["--wait-seconds", " 1", "x"], &[]),
            (&["--wait-seconds=", "x"], &[]),
            (&["--wait-seconds"], &[]),
            (&["--shutdown", "sometimes", "x"], &[]),
            (&["--force-shutdown=yes", "x"], &[]),
            (&["--dapr-http-port", "0", "x"], &[]),
            (&["--dapr-http-port", "65536", "x"], &[]),
            (&["--bogus", "x"], &[]),
            (&["--"], &[]),
            (&[], &[]),
            (&["x"], &[("DAPRJOB_WAIT_SECONDS", "abc")]),
            (&["x"], &[("DAPRJOB_DISABLED", "yes")]),
            (
                &["x"],
                &[("DAPRJOB_SHUTDOWN_SECONDS", "99999999999999999999")],
            ),
            (&["x"], &[("DAPRJOB_SHUTDOWN_SECONDS", "0000001")]),
            (
                &["x"],
                &[("DAPR_HTTP_PORT", "1"), ("DAPR_API_TOKEN", "tok\n")],
            ),
        ] {
            assert!(run(args, env).is_err(), "{args:?} {env:?} should fail");
        }
    }

    #[test]
    fn a_flag_shadows_a_bad_variable() {
        let (c, _) = run(
            &["--wait-seconds", "3", "--wait-seconds", "4", "x"],
            &[("DAPRJOB_WAIT_SECONDS", "abc")],
        )
        .unwrap();
        assert_eq!(c.wait_seconds, 4);
    }

    #[test]
    fn numbers() {
        let (c, _) = run(
            &["--wait-seconds", "000042", "--shutdown-seconds=999999", "x"],
            &[],
        )
        .unwrap();
        assert_eq!((c.wait_seconds, c.shutdown_seconds), (42, 999_999));
        let (c, _) = run(&["x"], &[("DAPR_HTTP_PORT", "065535")]).unwrap();
        assert_eq!(c.port, Some(65535));
    }

    #[test]
    fn disabled_first_and_alone() {
        let bad = [("DAPRJOB_WAIT_SECONDS", "x"), ("DAPR_HTTP_PORT", "http")];
        let (c, _) = run(&["x"], &[bad[0], bad[1], ("DAPRJOB_DISABLED", "true")]).unwrap();
        assert!(c.disabled);
        let (c, _) = run(&["--disabled", "x"], &bad).unwrap();
        assert!(c.disabled);
        assert!(
            run(
                &["--disabled=false", "x"],
                &[("DAPRJOB_DISABLED", "1"), bad[0]]
            )
            .is_err()
        );
        assert!(run(&["x"], &[("DAPRJOB_DISABLED", "maybe")]).is_err());
        assert!(run(&["--disabled"], &[]).is_err(), "still needs a command");
    }

    #[test]
    fn help() {
        let h = parse(&["--shutdown=never".into(), "-h".into()], |_| None).unwrap();
        assert_eq!(h, Invocation::Help);
    }
}
