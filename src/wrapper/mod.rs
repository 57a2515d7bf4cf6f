//! The in-pod wrapper contract (see `docs/wrapper-contract.md`), shared by the shell
//! script and the `daprjob exec` binary.

pub mod contract;
#[cfg(feature = "render")]
pub mod shell;
