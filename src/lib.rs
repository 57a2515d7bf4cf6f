//! daprjob: make Dapr-enabled Kubernetes Jobs and CronJobs complete.
