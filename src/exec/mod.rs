//! `daprjob exec`: the in-pod wrapper as a binary, for images without a shell.
