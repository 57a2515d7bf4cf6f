//! Every rendered example validates against the Kubernetes 1.33 and 1.37 schemas in
//! strict mode (`kubernetes-validate` from PyPI), and a broken Job does not.

mod support;

use support::tools;

use std::path::PathBuf;
use std::process::Command;

const VERSIONS: &[&str] = &["1.33.0", "1.37.0"];

fn validate(file: &std::path::Path, version: &str) -> (bool, String) {
    let tool = tools::path_of(tools::KUBERNETES_VALIDATE);
    let out = Command::new(tool)
        .args(["--strict", "--quiet", "-k", version])
        .arg(file)
        .output()
        .expect("kubernetes-validate runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn rendered_examples_pass_strict_validation() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/rendered");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    for file in &files {
        for version in VERSIONS {
            let (ok, text) = validate(file, version);
            assert!(ok, "{} against {version}: {text}", file.display());
        }
    }
}

#[test]
fn a_broken_job_fails_strict_validation() {
    // The control: proves the validator really checks (an unknown field and a wrong type).
    let file = std::env::temp_dir().join(format!("daprjob-broken-{}.yaml", std::process::id()));
    std::fs::write(
        &file,
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: a\n        image: b\n        comand: [x]\n",
    )
    .unwrap();
    for version in VERSIONS {
        let (ok, text) = validate(&file, version);
        assert!(!ok, "strict validation accepted an unknown field: {text}");
    }
    std::fs::remove_file(&file).unwrap();
}
