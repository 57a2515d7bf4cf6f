//! Problems found in a DaprJob: errors stop the render, warnings do not.

use std::fmt;

/// Whether a problem stops the render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The DaprJob cannot be rendered.
    Error,
    /// Rendered, but probably not what the user wants.
    Warning,
}

/// One problem, at a field path of the DaprJob (for example
/// `spec.template.spec.containers[0].command`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Field path inside the document, `kubectl explain` style with `[i]` indexes.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl Diagnostic {
    /// An error at `field`.
    pub fn error(field: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            field: field.into(),
            message: message.into(),
        }
    }

    /// A warning at `field`.
    pub fn warning(field: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            field: field.into(),
            message: message.into(),
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects diagnostics while rendering one DaprJob.
#[derive(Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Record an error.
    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Diagnostic::error(field, message));
    }

    /// Record a warning.
    pub fn warning(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Diagnostic::warning(field, message));
    }

    /// True if any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
}
