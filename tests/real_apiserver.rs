//! daprjob's CRD and output against a real kube-apiserver with etcd (`scripts/testbed`),
//! driven by the real kubectl:
//! - the committed CRD installs with a plain client-side `kubectl apply -f`, becomes
//!   Established, and `kubectl explain` shows our descriptions;
//! - every example DaprJob is accepted; invalid ones are rejected by the server's schema
//!   and CEL rules with a message that names the field;
//! - every rendered example passes `kubectl apply --server-side --dry-run=server` and is
//!   created for real;
//! - a DaprJob read back from the server (`kubectl get -o yaml`) renders to the same Job.

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::cli::{daprjob, root};
use support::control_plane::ControlPlane;
use support::tools::text;

const CRD: &str = "crd/daprjob.dev_daprjobs.yaml";

/// The shared control plane with the CRD installed (once per test binary) and the
/// examples' namespaces created.
fn cluster() -> &'static ControlPlane {
    static READY: OnceLock<()> = OnceLock::new();
    let cp = ControlPlane::shared();
    READY.get_or_init(|| {
        let crd = root().join(CRD);
        // Client-side apply: stores the whole CRD in last-applied-configuration, which
        // only fits under 262,144 bytes.
        cp.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);
        cp.kubectl_ok(&[
            "wait",
            "--for=condition=Established",
            "crd/daprjobs.daprjob.dev",
            "--timeout=60s",
        ]);
        for ns in example_namespaces() {
            cp.kubectl_ok(&["create", "namespace", &ns]);
        }
    });
    cp
}

fn examples() -> Vec<PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
}

fn example_namespaces() -> Vec<String> {
    let mut namespaces: Vec<String> = examples()
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            serde_saphyr::from_multiple::<serde_json::Value>(&text).unwrap()
        })
        .filter_map(|doc| doc["metadata"]["namespace"].as_str().map(String::from))
        .collect();
    namespaces.sort();
    namespaces.dedup();
    namespaces
}

fn rendered(example: &Path) -> PathBuf {
    root()
        .join("examples/rendered")
        .join(example.file_name().unwrap())
}

/// Retry `check` for up to `limit` (the API server publishes OpenAPI asynchronously).
fn eventually(limit: Duration, mut check: impl FnMut() -> Result<(), String>) {
    let start = Instant::now();
    loop {
        match check() {
            Ok(()) => return,
            Err(e) if start.elapsed() > limit => panic!("{e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

#[test]
fn crd_is_established_and_explained() {
    let cp = cluster();
    let names = cp.kubectl_ok(&["api-resources", "--api-group=daprjob.dev", "-o", "wide"]);
    assert!(
        names.contains("daprjobs") && names.contains("dj"),
        "{names}"
    );
    for (field, words) in [
        ("daprjob.spec.dapr", "becomes a `dapr.io/*` annotation"),
        ("daprjob.spec.wrapper.shutdown", "on-success"),
        (
            "daprjob.spec.cron.concurrencyPolicy",
            "blocks every later run",
        ),
        ("daprjob.spec.template", "restartPolicy"),
    ] {
        eventually(Duration::from_secs(60), || {
            let out = cp.kubectl(&["explain", field]);
            let got = text(&out);
            // kubectl wraps lines itself: compare with white space folded.
            let folded = got.split_whitespace().collect::<Vec<_>>().join(" ");
            if out.status.success() && folded.contains(words) {
                Ok(())
            } else {
                Err(format!(
                    "kubectl explain {field} does not say {words:?}:\n{got}"
                ))
            }
        });
    }
}

#[test]
fn example_daprjobs_are_accepted_and_listed() {
    let cp = cluster();
    for example in examples() {
        let file = example.to_str().unwrap();
        let dry = cp.kubectl(&[
            "apply",
            "--server-side",
            "--dry-run=server",
            "--field-manager=daprjob-test",
            "-f",
            file,
        ]);
        assert!(dry.status.success(), "{file}: {}", text(&dry));
    }
    // Created for real (each example's own namespace), then listed with our columns.
    let native = root().join("examples/native-sidecar.yaml");
    cp.kubectl_ok(&["create", "-f", native.to_str().unwrap()]);
    let listed = cp.kubectl_ok(&["get", "dj", "-n", "web"]);
    for column in ["APP ID", "SCHEDULE", "WRAPPER", "AGE", "cache-warmup"] {
        assert!(listed.contains(column), "{listed}");
    }
}

/// A DaprJob that is valid but for `spec` (YAML indented by two).
fn with_spec(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: daprjob.dev/v1alpha1\nkind: DaprJob\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n{spec}"
    )
}

const POD: &str = "  template:\n    spec:\n      containers:\n        - name: main\n          image: busybox\n          command: [\"/bin/true\"]\n";

#[test]
fn invalid_daprjobs_are_rejected_with_the_field() {
    let cp = cluster();
    let long = "a".repeat(53);
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "wrong type",
            with_spec("t1", &format!("  backoffLimit: two\n{POD}")),
            &["spec.backoffLimit", "numeric"],
        ),
        (
            "bad enum",
            with_spec("t2", &format!("  dapr:\n    logLevel: verbose\n{POD}")),
            &["spec.dapr.logLevel", "Unsupported value"],
        ),
        (
            "bad wrapper mode",
            with_spec("t3", &format!("  wrapper:\n    mode: sometimes\n{POD}")),
            &["spec.wrapper.mode", "Unsupported value"],
        ),
        (
            "negative wait",
            with_spec("t4", &format!("  wrapper:\n    waitSeconds: -1\n{POD}")),
            &["spec.wrapper.waitSeconds", "greater than or equal to 0"],
        ),
        (
            "app id pattern",
            with_spec("t5", &format!("  dapr:\n    appId: My_App\n{POD}")),
            &["spec.dapr.appId"],
        ),
        (
            "no template",
            with_spec("t6", "  backoffLimit: 1\n"),
            &["spec.template", "Required value"],
        ),
        (
            "CEL: native sidecar needs shutdown never",
            with_spec(
                "t7",
                &format!(
                    "  dapr:\n    nativeSidecar: true\n  wrapper:\n    shutdown: always\n{POD}"
                ),
            ),
            &["spec", "requires wrapper.shutdown: never"],
        ),
        (
            "CEL: annotation keys",
            with_spec(
                "t8",
                &format!("  dapr:\n    annotations:\n      other.io/x: \"1\"\n{POD}"),
            ),
            &["spec.dapr.annotations", "keys must start with dapr.io/"],
        ),
        (
            "CEL: reserved annotations",
            with_spec(
                "t9",
                &format!("  dapr:\n    annotations:\n      dapr.io/enabled: \"false\"\n{POD}"),
            ),
            &["spec.dapr.annotations", "set by daprjob"],
        ),
        (
            "CEL: CronJob name length",
            with_spec(
                &long,
                &format!("  cron:\n    schedule: \"* * * * *\"\n{POD}"),
            ),
            &["52 for a CronJob"],
        ),
        (
            "unknown field (strict field validation)",
            with_spec("t10", &POD.replace("command:", "comand:")),
            &[
                "spec.template.spec.containers[0].comand",
                "not declared in schema",
            ],
        ),
    ];
    for (what, doc, words) in cases {
        let out = cp.kubectl_stdin(
            &["apply", "--server-side", "--dry-run=server", "-f", "-"],
            doc.as_bytes(),
        );
        let got = text(&out);
        assert!(!out.status.success(), "{what}: accepted:\n{doc}");
        for word in words {
            assert!(
                got.contains(word),
                "{what}: the server's message lacks {word:?}:\n{got}"
            );
        }
    }
}

#[test]
fn rendered_examples_pass_server_side_dry_run_and_are_created() {
    let cp = cluster();
    for example in examples() {
        let file = rendered(&example);
        let file = file.to_str().unwrap();
        let dry = cp.kubectl(&[
            "apply",
            "--server-side",
            "--dry-run=server",
            "--field-manager=daprjob",
            "-f",
            file,
        ]);
        assert!(dry.status.success(), "{file}: {}", text(&dry));
        let created = cp.kubectl(&["create", "-f", file]);
        assert!(created.status.success(), "{file}: {}", text(&created));
    }
    let jobs = cp.kubectl_ok(&[
        "get",
        "jobs,cronjobs",
        "-A",
        "-l",
        "app.kubernetes.io/created-by=daprjob",
        "-o",
        "name",
    ]);
    for name in [
        "job.batch/db-migrate",
        "cronjob.batch/nightly-report",
        "job.batch/ledger-close",
    ] {
        assert!(jobs.contains(name), "{jobs}");
    }
}

#[test]
fn daprjobs_read_back_from_the_server_render_the_same() {
    let cp = cluster();
    let example = root().join("examples/db-migrate.yaml");
    let ns = cp.create_namespace("roundtrip");
    let input = std::fs::read_to_string(&example).unwrap();
    let out = cp.kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], input.as_bytes());
    assert!(out.status.success(), "{}", text(&out));
    // kubectl get returns a v1 List with server-set metadata (uid, resourceVersion,
    // managedFields, last-applied-configuration): render must take it as it is.
    let listed = cp.kubectl_ok(&["get", "daprjobs", "-n", &ns, "-o", "yaml"]);
    let run = daprjob(&["render", "-f", "-"], &listed);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let expected = std::fs::read_to_string(rendered(&example))
        .unwrap()
        .replace(
            "  name: db-migrate\n",
            &format!("  name: db-migrate\n  namespace: {ns}\n"),
        );
    assert_eq!(run.stdout, expected);
}
