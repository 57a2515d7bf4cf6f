//! daprjob: make Dapr-enabled Kubernetes Jobs and CronJobs complete.
//!
//! The library holds the logic; `src/main.rs` is a thin CLI over it.
//! - [`wrapper`]: the in-pod contract shared by the shell and binary wrappers.
//! - [`exec`]: the binary wrapper (`daprjob exec`), std-only so that it builds small.
//! - `api`, `render`, `manifest`, `crd` (feature `render`): the DaprJob model, the
//!   renderer and multi-document I/O.

#[cfg(feature = "render")]
pub mod annotations;
#[cfg(feature = "render")]
pub mod api;
#[cfg(feature = "render")]
pub mod cli;
#[cfg(feature = "render")]
pub mod crd;
pub mod exec;
#[cfg(feature = "render")]
pub mod manifest;
#[cfg(feature = "render")]
pub mod render;
#[cfg(feature = "render")]
mod schema;
pub mod wrapper;
