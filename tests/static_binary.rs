//! The wrapper binary users copy into their images: built exactly as the Dockerfile
//! builds it (`scripts/build-static`), fully static (it runs in a chroot that holds
//! nothing but itself), and small (linkerd-await's 1.4 MB is the bar).

use std::path::PathBuf;
use std::process::Command;

const LINKERD_AWAIT_BYTES: u64 = 1_400_000;

fn build() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // A target directory of its own: the outer `cargo test` may hold the default one.
    let target_dir = root.join("target/static");
    let out = Command::new(root.join("scripts/build-static"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .expect("scripts/build-static runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/build-static failed (needs `rustup target add x86_64-unknown-linux-musl`, done by scripts/testbed install):\n{text}"
    );
    let arch = std::env::consts::ARCH;
    target_dir.join(format!("{arch}-unknown-linux-musl/release/daprjob"))
}

#[test]
fn static_small_and_runs_in_an_empty_root() {
    let bin = build();
    let size = std::fs::metadata(&bin).unwrap().len();
    assert!(
        size < LINKERD_AWAIT_BYTES,
        "the wrapper binary is {size} bytes"
    );

    let root = std::env::temp_dir().join(format!("daprjob-chroot-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(&bin, root.join("daprjob")).unwrap();
    // Like the emptyDir mount of binary mode: the destination directory exists.
    std::fs::create_dir(root.join("copy")).unwrap();
    // No libc, no loader, no /proc, no shell: only the binary.
    let run = |args: &[&str]| {
        Command::new("/usr/sbin/chroot")
            .arg(&root)
            .args(args)
            .env_clear()
            .output()
            .expect("chroot runs (the tests run as root)")
    };
    let version = run(&["/daprjob", "--version"]);
    assert!(
        version.status.success(),
        "{}",
        String::from_utf8_lossy(&version.stderr)
    );
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
    // The wrapper runs a job (itself) with no sidecar, and installs itself.
    let exec = run(&["/daprjob", "exec", "--", "/daprjob", "--version"]);
    assert!(
        exec.status.success(),
        "{}",
        String::from_utf8_lossy(&exec.stderr)
    );
    let install = run(&["/daprjob", "install", "/copy"]);
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    assert_eq!(
        std::fs::metadata(root.join("copy/daprjob")).unwrap().len(),
        size
    );
    let missing = run(&["/daprjob", "exec", "--", "/nope"]);
    assert_eq!(missing.status.code(), Some(127));
    std::fs::remove_dir_all(&root).unwrap();
}
