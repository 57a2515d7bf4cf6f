//! Shared helpers for the integration tests: the daprd stand-in for the wrapper matrix,
//! and harnesses that run daprjob's output against real components (a kube-apiserver
//! with etcd, a standalone daprd, and the integration tools: kubectl, kustomize, kpt,
//! Helm 3 and 4, kubernetes-validate).
//!
//! Every real component comes from `scripts/testbed install`, which caches them outside
//! the repository. A test that needs one and cannot find it fails with a message saying
//! so: these tests never skip silently.
//!
//! Each test binary that uses this module declares `mod support;` and uses only part of it.
#![allow(dead_code)]

pub mod cli;
pub mod control_plane;
pub mod daprd;
pub mod fake_daprd;
pub mod http;
pub mod process;
pub mod tools;
