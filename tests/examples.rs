//! Every example renders to its committed expected output, deterministically, and the
//! committed CRD is what `daprjob crd` prints. `scripts/regenerate` refreshes both.

#[path = "support/cli.rs"]
mod cli;

use std::fs;

use cli::{daprjob, render_file, root};

fn examples() -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "at least five examples");
    paths
}

#[test]
fn examples_match_their_expected_output() {
    for example in examples() {
        let run = render_file(example.strip_prefix(root()).unwrap());
        assert_eq!(run.code, Some(0), "{}: {}", example.display(), run.stderr);
        let expected_path = root()
            .join("examples/rendered")
            .join(example.file_name().unwrap());
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        assert!(
            run.stdout == expected,
            "{} is stale: run scripts/regenerate (and review the diff)",
            expected_path.display()
        );
        let again = render_file(example.strip_prefix(root()).unwrap());
        assert_eq!(run.stdout, again.stdout, "deterministic output");
    }
}

#[test]
fn rendered_examples_are_clean_for_server_side_apply() {
    for example in examples() {
        let out = render_file(example.strip_prefix(root()).unwrap()).stdout;
        assert!(!out.contains("status:"), "{}", example.display());
        assert!(!out.contains("creationTimestamp"), "{}", example.display());
        assert!(!out.contains(": null"), "{}", example.display());
        assert!(!out.contains("managed-by"), "{}", example.display());
        // Only emptyDir is an empty object that someone asked for.
        for line in out
            .lines()
            .filter(|l| l.ends_with("{}") || l.ends_with("[]"))
        {
            assert!(
                line.trim() == "- emptyDir: {}" || line.trim() == "emptyDir: {}",
                "{line}"
            );
        }
    }
}

#[test]
fn the_whole_examples_directory_renders_in_name_order() {
    let run = daprjob(&["render", "-f", "examples/"], "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut expected = String::new();
    for example in examples() {
        expected.push_str(
            &fs::read_to_string(
                root()
                    .join("examples/rendered")
                    .join(example.file_name().unwrap()),
            )
            .unwrap(),
        );
    }
    assert!(
        run.stdout == expected,
        "render -f examples/ differs from examples/rendered/*: run scripts/regenerate"
    );
}

#[test]
fn committed_crd_is_current() {
    let run = daprjob(&["crd"], "");
    assert_eq!(run.code, Some(0));
    let committed = fs::read_to_string(root().join("crd/daprjob.dev_daprjobs.yaml")).unwrap();
    assert!(
        run.stdout == committed,
        "crd/daprjob.dev_daprjobs.yaml is stale: run scripts/regenerate"
    );
    // Semantically too: the committed YAML parses to the generated object.
    let committed: serde_json::Value = serde_saphyr::from_str(&committed).unwrap();
    let generated = serde_json::to_value(daprjob::crd::crd()).unwrap();
    assert_eq!(committed, generated);
}
