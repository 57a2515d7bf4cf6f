//! Smoke tests for the real parts of the test bed (`scripts/testbed install`): every tool runs,
//! a real control plane answers kubectl, and a real daprd shuts down through its HTTP API.
//!
//! These tests fail, never skip, when a component is missing: the message says to run
//! `scripts/testbed install`.

mod support;

use std::time::Duration;
use support::control_plane::ControlPlane;
use support::daprd::{Daprd, DaprdOptions, Release};
use support::tools::{self, run_ok, text};

/// `(major, minor)` of the first `X.Y.Z` in `s` (with or without a leading `v`).
fn major_minor(s: &str) -> Option<(u32, u32)> {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|word| {
            let mut parts = word.split('.');
            let major = parts.next()?.parse().ok()?;
            let minor = parts.next()?.parse().ok()?;
            parts.next()?.parse::<u32>().ok()?;
            Some((major, minor))
        })
        .next()
}

#[test]
fn kube_apiserver_runs_and_is_1_33() {
    let out = run_ok(&tools::kubebuilder_asset("kube-apiserver"), &["--version"]);
    let version = text(&out);
    assert_eq!(major_minor(&version), Some((1, 33)), "{version}");
}

#[test]
fn etcd_runs_and_is_3_5_or_newer() {
    let out = run_ok(&tools::kubebuilder_asset("etcd"), &["--version"]);
    let version = text(&out);
    let (major, minor) = major_minor(&version).expect("a version");
    assert!((major, minor) >= (3, 5), "{version}");
}

#[test]
fn daprd_runs_and_is_1_18() {
    let out = run_ok(&tools::tool(tools::DAPRD), &["--version"]);
    let version = text(&out);
    assert_eq!(major_minor(&version), Some((1, 18)), "{version}");
}

#[test]
fn old_daprd_runs_and_has_the_shutdown_bug_range() {
    let out = run_ok(&tools::tool(tools::DAPRD_OLD), &["--version"]);
    let version = text(&out);
    let v = major_minor(&version).expect("a version");
    assert!(((1, 12)..=(1, 17)).contains(&v), "{version}");
}

#[test]
fn kustomize_runs() {
    let out = run_ok(&tools::tool(tools::KUSTOMIZE), &["version"]);
    assert_eq!(
        major_minor(&text(&out)).map(|v| v.0),
        Some(5),
        "{}",
        text(&out)
    );
}

#[test]
fn helm3_runs() {
    let out = run_ok(&tools::tool(tools::HELM3), &["version", "--short"]);
    assert_eq!(
        major_minor(&text(&out)).map(|v| v.0),
        Some(3),
        "{}",
        text(&out)
    );
}

#[test]
fn helm4_runs() {
    let out = run_ok(&tools::tool(tools::HELM4), &["version", "--short"]);
    assert_eq!(
        major_minor(&text(&out)).map(|v| v.0),
        Some(4),
        "{}",
        text(&out)
    );
}

#[test]
fn kubectl_runs() {
    let out = run_ok(&tools::tool(tools::KUBECTL), &["version", "--client"]);
    assert!(text(&out).contains("Client Version"), "{}", text(&out));
}

#[test]
fn kpt_runs() {
    let out = run_ok(&tools::tool(tools::KPT), &["version"]);
    assert!(major_minor(&text(&out)).is_some(), "{}", text(&out));
}

#[test]
fn kubernetes_validate_accepts_a_job_and_rejects_a_bad_one() {
    let validate = tools::tool(tools::KUBERNETES_VALIDATE);
    let dir = support::process::TempDir::new("validate").expect("temp dir");
    let good = dir.path().join("good.yaml");
    let bad = dir.path().join("bad.yaml");
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: busybox\n";
    std::fs::write(&good, job).unwrap();
    std::fs::write(&bad, job.replace("restartPolicy", "restartPolicyy")).unwrap();
    let ok = |path: &std::path::Path| {
        std::process::Command::new(&validate)
            .args(["--strict", "-k", "1.33.0"])
            .arg(path)
            .output()
            .expect("run kubernetes-validate")
    };
    let out = ok(&good);
    assert!(out.status.success(), "{}", text(&out));
    let out = ok(&bad);
    assert!(
        !out.status.success(),
        "strict mode let an unknown field through: {}",
        text(&out)
    );
}

#[test]
fn test_helpers_are_on_path() {
    for name in ["shellcheck", "busybox", "hyperfine", "musl-gcc", "openssl"] {
        tools::on_path(name);
    }
}

#[test]
fn control_plane_answers_kubectl_get_ns() {
    let cp = ControlPlane::shared();
    let out = cp.kubectl_ok(&["get", "ns", "-o", "name"]);
    for ns in ["namespace/default", "namespace/kube-system"] {
        assert!(out.lines().any(|l| l == ns), "no {ns} in:\n{out}");
    }
}

#[test]
fn control_plane_validates_and_stores_a_job() {
    let cp = ControlPlane::shared();
    let ns = cp.create_namespace("smoke");
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hello\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: busybox\n        command: [\"true\"]\n";
    let dry = cp.kubectl_stdin(
        &[
            "apply",
            "-n",
            &ns,
            "--server-side",
            "--dry-run=server",
            "-f",
            "-",
        ],
        job.as_bytes(),
    );
    assert!(dry.status.success(), "{}", text(&dry));
    // The server rejects what a Job may not have, with a message naming the field.
    let bad = cp.kubectl_stdin(
        &[
            "apply",
            "-n",
            &ns,
            "--server-side",
            "--dry-run=server",
            "-f",
            "-",
        ],
        job.replace("Never", "Always").as_bytes(),
    );
    assert!(!bad.status.success(), "restartPolicy Always accepted");
    assert!(text(&bad).contains("restartPolicy"), "{}", text(&bad));
    let created = cp.kubectl_stdin(&["create", "-n", &ns, "-f", "-"], job.as_bytes());
    assert!(created.status.success(), "{}", text(&created));
    let name = cp.kubectl_ok(&["get", "job", "hello", "-n", &ns, "-o", "name"]);
    assert_eq!(name.trim(), "job.batch/hello");
}

/// daprd exits 0 within 15 s (its log in the message if not).
fn assert_exits_0(daprd: &Daprd) {
    let status = daprd.wait_exit(Duration::from_secs(15));
    assert!(
        status.is_some_and(|s| s.success()),
        "daprd did not exit 0 after shutdown: {status:?}\n{}",
        daprd.log_text()
    );
}

#[test]
fn daprd_exits_0_after_shutdown_call() {
    let daprd = Daprd::start(DaprdOptions::default());
    assert!(daprd.is_running());
    let resp = daprd.post("/v1.0/shutdown", &[]).expect("shutdown call");
    assert_eq!(resp.status, 204, "{}", resp.body_text());
    assert_exits_0(&daprd);
}

#[test]
fn daprd_with_api_token_requires_it_for_shutdown() {
    let daprd = Daprd::start(DaprdOptions {
        api_token: Some("s3cret-token".to_string()),
        ..DaprdOptions::default()
    });
    // Health checks are exempt from the token.
    let health = daprd.get("/v1.0/healthz/outbound").expect("healthz");
    assert_eq!(health.status, 204);
    let denied = daprd
        .request("POST", "/v1.0/shutdown", &[])
        .expect("shutdown call without token");
    assert_eq!(denied.status, 401, "{}", denied.body_text());
    let wrong = daprd
        .request("POST", "/v1.0/shutdown", &[("dapr-api-token", "wrong")])
        .expect("shutdown call with a wrong token");
    assert_eq!(wrong.status, 401, "{}", wrong.body_text());
    assert!(daprd.is_running(), "daprd exited on a rejected call");
    let ok = daprd.post("/v1.0/shutdown", &[]).expect("shutdown call");
    assert_eq!(ok.status, 204, "{}", ok.body_text());
    assert_exits_0(&daprd);
}

/// On 1.12.0..=1.17.6 the shutdown call may return 204 and do nothing (dapr/dapr#9949). What a
/// wrapper must do either way: call, check that daprd goes away, call again if it does not.
#[test]
fn old_daprd_exits_when_shutdown_is_retried() {
    let daprd = Daprd::start(DaprdOptions {
        release: Release::Old,
        ..DaprdOptions::default()
    });
    let mut calls = 0;
    let status = loop {
        if let Ok(resp) = daprd.post("/v1.0/shutdown", &[]) {
            assert_eq!(resp.status, 204, "{}", resp.body_text());
        }
        calls += 1;
        if let Some(status) = daprd.wait_exit(Duration::from_secs(2)) {
            break status;
        }
        assert!(
            calls < 10,
            "old daprd still running after {calls} shutdown calls\n{}",
            daprd.log_text()
        );
    };
    assert!(status.success(), "{status:?}\n{}", daprd.log_text());
    eprintln!("old daprd exited 0 after {calls} shutdown call(s)");
}
