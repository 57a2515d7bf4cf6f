//! Bad input: a clear error naming file, document and field; exit 1; nothing on
//! stdout; never a panic. Warnings go to stderr and keep exit 0.

#[path = "support/cli.rs"]
mod cli;

use cli::daprjob;

const HEAD: &str = "apiVersion: daprjob.dev/v1alpha1\nkind: DaprJob\nmetadata:\n  name: job\n";

/// A DaprJob with `spec` (YAML, indented by two) after a valid head.
fn daprjob_doc(spec: &str) -> String {
    format!("{HEAD}spec:\n{spec}")
}

const POD: &str = "  activeDeadlineSeconds: 60\n  template:\n    spec:\n      containers:\n        - name: main\n          image: busybox\n          command: [\"/bin/true\"]\n";

/// Assert that rendering `input` from stdin fails with `field` and `words` on stderr.
fn fails(input: &str, document: usize, field: &str, words: &str) {
    let run = daprjob(&["render", "-f", "-"], input);
    assert_eq!(run.code, Some(1), "exit code; stderr: {}", run.stderr);
    assert_eq!(run.stdout, "", "nothing on stdout");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("daprjob: error: "))
        .unwrap_or_else(|| panic!("no error line in {:?}", run.stderr));
    let prefix = format!("daprjob: error: <stdin>: document {document}");
    assert!(
        line.starts_with(&prefix),
        "{line:?} should start with {prefix:?}"
    );
    assert!(
        line.contains(&format!("{field}: ")),
        "{line:?} should name {field}"
    );
    assert!(line.contains(words), "{line:?} should say {words:?}");
}

#[test]
fn unknown_field_in_the_pod_template() {
    let input = daprjob_doc(&POD.replace("command:", "comand:"));
    fails(
        &input,
        1,
        "spec.template.spec.containers[0].comand",
        "unknown field",
    );
}

#[test]
fn unknown_fields_in_our_blocks_and_metadata() {
    fails(
        &daprjob_doc(&format!("  dapr:\n    appID: x\n{POD}")),
        1,
        "spec.dapr.appID",
        "unknown field",
    );
    fails(
        &daprjob_doc(&format!("  wrapper:\n    waitSecond: 1\n{POD}")),
        1,
        "spec.wrapper.waitSecond",
        "unknown field",
    );
    fails(
        &daprjob_doc(&format!("  backofLimit: 1\n{POD}")),
        1,
        "spec.backofLimit",
        "unknown field",
    );
    let input = format!("{}  labls: {{a: b}}\nspec:\n{POD}", HEAD);
    fails(&input, 1, "metadata.labls", "unknown field");
}

#[test]
fn wrong_types_name_the_field() {
    fails(
        &daprjob_doc(&format!("  backoffLimit: two\n{POD}")),
        1,
        "spec.backoffLimit",
        "invalid",
    );
    fails(
        &daprjob_doc(&format!("  dapr:\n    logLevel: verbose\n{POD}")),
        1,
        "spec.dapr.logLevel",
        "unknown variant",
    );
    let input = daprjob_doc(&POD.replace("image: busybox", "image: [busybox]"));
    fails(
        &input,
        1,
        "spec.template.spec.containers[0].image",
        "invalid type",
    );
}

#[test]
fn restart_policy_on_failure_is_explained() {
    let input =
        daprjob_doc(&POD.replace("    spec:\n", "    spec:\n      restartPolicy: OnFailure\n"));
    fails(
        &input,
        1,
        "spec.template.spec.restartPolicy",
        "must be Never",
    );
    let input =
        daprjob_doc(&POD.replace("    spec:\n", "    spec:\n      restartPolicy: Always\n"));
    fails(&input, 1, "spec.template.spec.restartPolicy", "fresh pod");
}

#[test]
fn command_is_required() {
    let input = daprjob_doc(&POD.replace(
        "          command: [\"/bin/true\"]\n",
        "          args: [x]\n",
    ));
    fails(
        &input,
        1,
        "spec.template.spec.containers[0].command",
        "ENTRYPOINT",
    );
}

#[test]
fn container_choice() {
    let two = POD.to_string() + "        - name: side\n          image: busybox\n";
    fails(
        &daprjob_doc(&two),
        1,
        "spec.wrapper.container",
        "2 containers",
    );
    fails(
        &daprjob_doc(&format!("  wrapper:\n    container: nope\n{two}")),
        1,
        "spec.wrapper.container",
        "no container named \"nope\"",
    );
}

#[test]
fn name_limits() {
    let long = "a".repeat(64);
    let input = daprjob_doc(POD).replace("name: job", &format!("name: {long}"));
    fails(&input, 1, "metadata.name", "at most 63");
    let cron = "a".repeat(53);
    let input = daprjob_doc(&format!("  cron:\n    schedule: '* * * * *'\n{POD}"))
        .replace("name: job", &format!("name: {cron}"));
    fails(&input, 1, "metadata.name", "at most 52");
    let input = daprjob_doc(POD).replace("name: job", "name: Job_1");
    fails(&input, 1, "metadata.name", "not a valid name");
    let input = daprjob_doc(POD).replace("  name: job\n", "  namespace: x\n");
    fails(&input, 1, "metadata.name", "is required");
}

#[test]
fn app_id_must_be_a_dns_label() {
    fails(
        &daprjob_doc(&format!("  dapr:\n    appId: My_App\n{POD}")),
        1,
        "spec.dapr.appId",
        "DNS-1123",
    );
    let input = daprjob_doc(POD).replace("name: job", "name: job.v2");
    fails(&input, 1, "spec.dapr.appId", "set spec.dapr.appId");
}

#[test]
fn dapr_annotations_rules() {
    let with = |ann: &str| daprjob_doc(&format!("  dapr:\n    annotations:\n      {ann}\n{POD}"));
    fails(
        &with("other.io/x: \"1\""),
        1,
        "spec.dapr.annotations[\"other.io/x\"]",
        "must start with dapr.io/",
    );
    fails(
        &with("dapr.io/enabled: \"false\""),
        1,
        "spec.dapr.annotations[\"dapr.io/enabled\"]",
        "set by daprjob",
    );
    fails(
        &with("dapr.io/app-id: x"),
        1,
        "spec.dapr.annotations[\"dapr.io/app-id\"]",
        "spec.dapr.appId",
    );
    fails(
        &with("dapr.io/log-level: debug"),
        1,
        "spec.dapr.annotations[\"dapr.io/log-level\"]",
        "spec.dapr.logLevel",
    );
    fails(
        &with("dapr.io/metrics-port: nine"),
        1,
        "spec.dapr.annotations[\"dapr.io/metrics-port\"]",
        "integer",
    );
    fails(
        &with("dapr.io/enable-metrics: ture"),
        1,
        "spec.dapr.annotations[\"dapr.io/enable-metrics\"]",
        "boolean",
    );
    // YAML booleans are not strings: quote them.
    fails(
        &with("dapr.io/enable-api-logging: true"),
        1,
        "spec.dapr.annotations.dapr.io/enable-api-logging",
        "expected a string",
    );
}

#[test]
fn template_annotations_must_not_collide() {
    let input = daprjob_doc(&POD.replace(
        "    spec:\n",
        "    metadata:\n      annotations:\n        dapr.io/app-id: other\n    spec:\n",
    ));
    fails(
        &input,
        1,
        "spec.template.metadata.annotations[\"dapr.io/app-id\"]",
        "set by daprjob",
    );
}

#[test]
fn native_sidecar_forbids_a_shutdown_policy() {
    let input = daprjob_doc(&format!(
        "  dapr:\n    nativeSidecar: true\n  wrapper:\n    shutdown: always\n{POD}"
    ));
    fails(&input, 1, "spec.wrapper.shutdown", "must be never");
}

#[test]
fn binary_mode_needs_an_image() {
    fails(
        &daprjob_doc(&format!("  wrapper:\n    mode: binary\n{POD}")),
        1,
        "spec.wrapper.image",
        "--wrapper-image",
    );
    let run = daprjob(
        &[
            "render",
            "-f",
            "-",
            "--wrapper-image",
            "registry.example.com/daprjob:1",
        ],
        &daprjob_doc(&format!("  wrapper:\n    mode: binary\n{POD}")),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("image: registry.example.com/daprjob:1"));
}

#[test]
fn env_owned_by_daprjob() {
    let input = daprjob_doc(&format!(
        "  dapr:\n    apiTokenSecret: tok\n{}",
        POD.replace("          command:", "          env:\n            - name: DAPR_API_TOKEN\n              value: x\n          command:")
    ));
    fails(
        &input,
        1,
        "spec.template.spec.containers[0].env[0]",
        "spec.dapr.apiTokenSecret",
    );
}

#[test]
fn reserved_container_name() {
    let input = daprjob_doc(&POD.replace("name: main", "name: daprd"));
    fails(&input, 1, "spec.template.spec.containers[0].name", "daprd");
}

#[test]
fn sidecar_quantities() {
    let input = daprjob_doc(&format!(
        "  dapr:\n    sidecarResources:\n      limits:\n        memory: 64MB\n{POD}"
    ));
    fails(
        &input,
        1,
        "spec.dapr.sidecarResources.limits.memory",
        "quantity",
    );
}

#[test]
fn unsupported_version_of_our_group() {
    let input = daprjob_doc(POD).replace("v1alpha1", "v9");
    fails(&input, 1, "apiVersion", "not supported");
}

#[test]
fn malformed_yaml_points_at_the_line() {
    let input = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\n---\n{HEAD}spec:\n  template: [oops\n"
    );
    let run = daprjob(&["render", "-f", "-"], &input);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with("daprjob: error: <stdin>: document 2: line 10"),
        "{}",
        run.stderr
    );
}

#[test]
fn errors_in_a_later_document_print_nothing() {
    let good = daprjob_doc(POD);
    let bad = daprjob_doc(&POD.replace("command:", "comand:"));
    let input = format!("{good}---\n{bad}");
    fails(
        &input,
        2,
        "spec.template.spec.containers[0].comand",
        "unknown field",
    );
}

#[test]
fn files_are_named_in_errors() {
    let dir = std::env::temp_dir().join(format!("daprjob-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(&file, daprjob_doc(&POD.replace("command:", "comand:"))).unwrap();
    let run = daprjob(&["render", "-f", file.to_str().unwrap()], "");
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(&format!(
            "{}: document 1 (DaprJob job): spec.template",
            file.display()
        )),
        "{}",
        run.stderr
    );
    let missing = dir.join("missing.yaml");
    let run = daprjob(&["render", "-f", missing.to_str().unwrap()], "");
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("missing.yaml"), "{}", run.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn not_an_object() {
    let run = daprjob(&["render", "-f", "-"], "- a\n- b\n");
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("document 1: expected a Kubernetes object"),
        "{}",
        run.stderr
    );
}

#[test]
fn warnings_keep_exit_zero() {
    let input = daprjob_doc(&format!(
        "  dapr:\n    appPort: 8080\n{}",
        POD.replace("  activeDeadlineSeconds: 60\n", "")
    ));
    let run = daprjob(&["render", "-f", "-"], &input);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("kind: Job"));
    assert!(
        run.stderr
            .contains("daprjob: warning: <stdin>: document 1 (DaprJob job): spec.dapr.appPort: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("spec.activeDeadlineSeconds: not set"),
        "{}",
        run.stderr
    );
}

#[test]
fn garbage_never_panics() {
    for input in [
        "\u{0}",
        "{{{{",
        "kind: DaprJob\napiVersion: daprjob.dev/v1alpha1\n",
        "apiVersion: daprjob.dev/v1alpha1\nkind: DaprJob\nspec: 5\n",
        "---\n---\n",
        "a: &x [*x]\n",
        ":\n",
    ] {
        let run = daprjob(&["render", "-f", "-"], input);
        assert!(
            !run.stderr.contains("panicked"),
            "{input:?}: {}",
            run.stderr
        );
        assert!(
            run.code == Some(0) || run.code == Some(1),
            "{input:?}: {:?}",
            run.code
        );
        if run.code == Some(1) {
            assert_eq!(run.stdout, "");
        }
    }
}

#[test]
fn wrapper_none_warns_that_nothing_shuts_the_sidecar_down() {
    let input = daprjob_doc(&format!("  wrapper:\n    mode: none\n{POD}"));
    let run = daprjob(&["render", "-f", "-"], &input);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("spec.wrapper.mode: none: nothing shuts the sidecar down"),
        "{}",
        run.stderr
    );
}
