//! The whole path a user takes: `daprjob render` a DaprJob, then run the job container
//! exactly as the kubelet would (its `command`, its `args`, its `env`, with the Secret
//! reference resolved), against the daprd stand-in. Shell mode under dash, bash and
//! busybox sh; binary mode with the built binary in place of `/.daprjob/daprjob`.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::cli::render_job_container;
use support::fake_daprd::{Behaviour, FakeDaprd};

const TOKEN: &str = "s3cr3t token with spaces";

fn daprjob_yaml(mode: &str) -> String {
    format!(
        r#"apiVersion: daprjob.dev/v1alpha1
kind: DaprJob
metadata:
  name: rendered-run
spec:
  dapr:
    apiTokenSecret: dapr-token
  wrapper:
    mode: {mode}
    waitSeconds: 5
    shutdownSeconds: 5
  activeDeadlineSeconds: 60
  template:
    spec:
      containers:
        - name: job
          image: any
          command: ["/bin/sh", "-c", "printf '%s\n' \"$@\" > \"$OUT\"; exit 42", "job"]
          args: ["it's", "$(id)", "`id`", "*", "{{a,b}}", "", "two\nlines"]
          env:
            - name: OUT
              value: OUTFILE
"#
    )
}

/// The job container of the rendered Job: (command, env).
fn render(mode: &str, out: &str) -> (Vec<String>, Vec<(String, String)>) {
    let input = daprjob_yaml(mode).replace("OUTFILE", out);
    let rendered = render_job_container(&input, &["--wrapper-image", "img"], "job", |name, key| {
        assert_eq!((name, key), ("dapr-token", "token"));
        TOKEN.to_string()
    });
    (rendered.command, rendered.env)
}

fn run_rendered(mode: &str, program: &[&str]) {
    let dir = std::env::temp_dir().join(format!(
        "daprjob-rendered-{mode}-{}-{}",
        program.len(),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("argv");
    let (command, env) = render(mode, out.to_str().unwrap());
    let fake = FakeDaprd::start(
        Behaviour::default()
            .ready_after_ms(300)
            .require_token(TOKEN),
    );

    // The kubelet runs command[0]; here it is replaced by the program under test.
    let mut argv: Vec<String> = program.iter().map(|s| s.to_string()).collect();
    argv.extend(command[1..].iter().cloned());
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("DAPR_HTTP_PORT", fake.port().to_string())
        .envs(env)
        .stdin(Stdio::null())
        .status()
        .unwrap();

    assert_eq!(
        status.code(),
        Some(42),
        "{mode} under {program:?}: the job's exit code"
    );
    let got = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        got, "it's\n$(id)\n`id`\n*\n{a,b}\n\ntwo\nlines\n",
        "argv reached the job exactly"
    );
    assert!(
        fake.wait_stopped(Duration::from_secs(5)),
        "the sidecar was shut down"
    );
    let calls = fake.shutdown_calls();
    assert!(!calls.is_empty());
    assert_eq!(
        calls[0].header("dapr-api-token"),
        Some(TOKEN),
        "the token from the Secret"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shell_mode_under_dash() {
    run_rendered("shell", &["/usr/bin/dash"]);
}

#[test]
fn shell_mode_under_bash() {
    run_rendered("shell", &["/usr/bin/bash"]);
}

#[test]
fn shell_mode_under_busybox_sh() {
    run_rendered("shell", &["/usr/bin/busybox", "sh"]);
}

#[test]
fn binary_mode() {
    run_rendered("binary", &[env!("CARGO_BIN_EXE_daprjob")]);
}
