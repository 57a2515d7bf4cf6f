//! `daprjob render` end to end: pass-through, input order, List and ResourceList input,
//! JSON output, string quoting, namespaces, the wrapped command.

#[path = "support/cli.rs"]
mod cli;

use cli::daprjob;
use serde_json::Value;

const JOB: &str = "apiVersion: daprjob.dev/v1alpha1
kind: DaprJob
metadata:
  name: job
spec:
  dapr:
    annotations:
      dapr.io/enable-api-logging: \"on\"
      dapr.io/env: \"A=yes,B=no\"
  activeDeadlineSeconds: 60
  template:
    spec:
      containers:
        - name: main
          image: busybox
          command: [\"/bin/echo\", \"it's $(not) `run`\"]
          args: [\"*\", \"{a,b}\", \"\", \"line\\nbreak\"]
";

const CONFIGMAP: &str = "# a comment that must survive
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    kustomize.config.k8s.io/id: 'abc'   # tool annotation
    config.kubernetes.io/index: '0'
data:
  enabled: \"yes\"
  unknownStays: {nested: [1, 2]}
";

fn render(input: &str, extra: &[&str]) -> cli::Run {
    let mut args = vec!["render", "-f", "-"];
    args.extend_from_slice(extra);
    daprjob(&args, input)
}

fn yaml_docs(out: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(out).unwrap()
}

#[test]
fn other_documents_pass_through_byte_for_byte_in_order() {
    let input = format!("{CONFIGMAP}---\n{JOB}---\n{CONFIGMAP}");
    let run = render(&input, &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let docs: Vec<&str> = run
        .stdout
        .split("---\n")
        .filter(|d| !d.is_empty())
        .collect();
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[0], CONFIGMAP);
    assert!(docs[1].contains("kind: Job"));
    assert_eq!(docs[2], CONFIGMAP);
}

#[test]
fn annotation_values_are_strings_and_yaml11_words_stay_quoted() {
    let run = render(JOB, &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("dapr.io/enabled: \"true\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("dapr.io/enable-api-logging: \"on\""),
        "{}",
        run.stdout
    );
    let docs = yaml_docs(&run.stdout);
    let annotations = &docs[0]["spec"]["template"]["metadata"]["annotations"];
    for (key, value) in annotations.as_object().unwrap() {
        assert!(value.is_string(), "{key}: {value}");
    }
}

#[test]
fn the_original_argv_follows_the_wrapper_untouched() {
    let docs = yaml_docs(&render(JOB, &[]).stdout);
    let container = &docs[0]["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<&str> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(&command[..2], ["/bin/sh", "-c"]);
    assert_eq!(command[3], "daprjob");
    assert_eq!(
        &command[4..],
        [
            "/bin/echo",
            "it's $(not) `run`",
            "*",
            "{a,b}",
            "",
            "line\nbreak"
        ]
    );
    assert!(container.get("args").is_none(), "args removed");
    let env: Vec<&str> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        env,
        [
            "DAPRJOB_WAIT_SECONDS",
            "DAPRJOB_SHUTDOWN",
            "DAPRJOB_SHUTDOWN_SECONDS",
            "DAPRJOB_FORCE_SHUTDOWN"
        ]
    );
    assert_eq!(
        docs[0]["spec"]["template"]["spec"]["restartPolicy"],
        "Never"
    );
}

#[test]
fn namespace_only_when_given_and_provenance() {
    let docs = yaml_docs(&render(JOB, &[]).stdout);
    let meta = &docs[0]["metadata"];
    assert!(meta.get("namespace").is_none());
    assert_eq!(meta["labels"]["app.kubernetes.io/created-by"], "daprjob");
    assert_eq!(
        meta["annotations"]["daprjob.dev/generated-from"],
        "DaprJob/job"
    );
    let with_ns = JOB.replace("  name: job\n", "  name: job\n  namespace: team\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{}'\n    owner: me\n");
    let docs = yaml_docs(&render(&with_ns, &[]).stdout);
    assert_eq!(docs[0]["metadata"]["namespace"], "team");
    assert_eq!(docs[0]["metadata"]["annotations"]["owner"], "me");
    assert!(
        docs[0]["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/last-applied-configuration")
            .is_none()
    );
}

#[test]
fn json_output_is_one_list() {
    let input = format!("{CONFIGMAP}---\n{JOB}");
    let run = render(&input, &["-o", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let list: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["items"][0]["kind"], "ConfigMap");
    assert_eq!(list["items"][0]["data"]["enabled"], "yes");
    assert_eq!(list["items"][1]["kind"], "Job");
}

#[test]
fn list_and_resource_list_input() {
    let job: Value = serde_saphyr::from_str(JOB).unwrap();
    let cm: Value = serde_saphyr::from_str(CONFIGMAP).unwrap();
    for (api_version, kind) in [("v1", "List"), ("config.kubernetes.io/v1", "ResourceList")] {
        let list = serde_json::json!({"apiVersion": api_version, "kind": kind, "items": [cm, job]});
        let run = render(&serde_json::to_string(&list).unwrap(), &[]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let docs = yaml_docs(&run.stdout);
        assert_eq!(docs.len(), 2, "{kind} items are expanded in order");
        assert_eq!(docs[0]["kind"], "ConfigMap");
        assert_eq!(docs[1]["kind"], "Job");
    }
    // A List without DaprJobs passes through whole.
    let list = "apiVersion: v1\nkind: List\nitems: []\n";
    assert_eq!(render(list, &[]).stdout, format!("---\n{list}"));
}

#[test]
fn errors_inside_a_list_name_the_item() {
    let bad = JOB.replace("command:", "comand:");
    let job: Value = serde_saphyr::from_str(&bad).unwrap();
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [job]});
    let run = render(&serde_json::to_string(&list).unwrap(), &[]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(
            "document 1, items[0] (DaprJob job): spec.template.spec.containers[0].comand"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn cronjob_carries_the_schedule_and_the_pod_annotations() {
    let cron = JOB.replace("  activeDeadlineSeconds", "  cron:\n    schedule: \"*/5 * * * *\"\n    concurrencyPolicy: Forbid\n  activeDeadlineSeconds");
    let docs = yaml_docs(&render(&cron, &[]).stdout);
    assert_eq!(docs[0]["kind"], "CronJob");
    assert_eq!(docs[0]["spec"]["schedule"], "*/5 * * * *");
    assert_eq!(docs[0]["spec"]["concurrencyPolicy"], "Forbid");
    let template = &docs[0]["spec"]["jobTemplate"]["spec"]["template"];
    assert_eq!(template["metadata"]["annotations"]["dapr.io/app-id"], "job");
    assert_eq!(template["spec"]["restartPolicy"], "Never");
}

#[test]
fn token_secret_reaches_the_job_container() {
    let with_token = JOB.replace("  dapr:\n", "  dapr:\n    apiTokenSecret: dapr-token\n");
    let docs = yaml_docs(&render(&with_token, &[]).stdout);
    let env = &docs[0]["spec"]["template"]["spec"]["containers"][0]["env"][0];
    assert_eq!(env["name"], "DAPR_API_TOKEN");
    assert_eq!(env["valueFrom"]["secretKeyRef"]["name"], "dapr-token");
    assert_eq!(env["valueFrom"]["secretKeyRef"]["key"], "token");
    assert_eq!(
        docs[0]["spec"]["template"]["metadata"]["annotations"]["dapr.io/api-token-secret"],
        "dapr-token"
    );
}

#[test]
fn native_mode_waits_but_never_shuts_down() {
    let native = JOB.replace("  dapr:\n", "  dapr:\n    nativeSidecar: true\n");
    let docs = yaml_docs(&render(&native, &[]).stdout);
    let template = &docs[0]["spec"]["template"];
    assert_eq!(
        template["metadata"]["annotations"]["dapr.io/enable-native-sidecar"],
        "true"
    );
    let env = template["spec"]["containers"][0]["env"].as_array().unwrap();
    let shutdown = env
        .iter()
        .find(|e| e["name"] == "DAPRJOB_SHUTDOWN")
        .unwrap();
    assert_eq!(shutdown["value"], "never");
}

#[test]
fn wrapper_none_only_annotates() {
    let none = JOB.replace("  dapr:\n", "  wrapper:\n    mode: none\n  dapr:\n");
    let docs = yaml_docs(&render(&none, &[]).stdout);
    let container = &docs[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"][0], "/bin/echo");
    assert_eq!(container["args"][0], "*");
    assert!(container.get("env").is_none());
}

#[test]
fn several_files_and_validate() {
    let run = daprjob(
        &[
            "render",
            "-f",
            "examples/db-migrate.yaml",
            "-f",
            "examples/native-sidecar.yaml",
        ],
        "",
    );
    assert_eq!(run.code, Some(0));
    assert_eq!(yaml_docs(&run.stdout).len(), 2);
    let run = daprjob(&["validate", "-f", "examples/"], "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn schema_and_completions() {
    let run = daprjob(&["schema"], "");
    let schema: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(schema["properties"]["kind"]["enum"][0], "DaprJob");
    let run = daprjob(&["completions", "bash"], "");
    assert!(run.stdout.contains("daprjob"));
    let run = daprjob(&["--version"], "");
    assert!(run.stdout.starts_with("daprjob "));
}

#[test]
fn without_f_stdin_is_read_when_it_is_not_a_terminal() {
    let run = daprjob(
        &["render"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("kind: ConfigMap"));
}
