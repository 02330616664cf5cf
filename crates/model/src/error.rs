//! Errors in JSON given to the model: each names the field and says what
//! would be right.

/// Why a JSON value cannot become configuration lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("unknown field '{field}'")]
    UnknownField { field: String },
    #[error("field '{field}': {message}")]
    InvalidValue { field: String, message: String },
    #[error("field '{field}' is required")]
    MissingField { field: String },
    #[error("field '{field}' is not accepted in a {section} section")]
    OutOfScope {
        field: String,
        section: &'static str,
    },
}

impl ModelError {
    /// The same error about item `index` of a list (`[3].port`).
    pub fn at_item(self, index: usize) -> ModelError {
        let at = |field: String| format!("[{index}].{field}");
        match self {
            ModelError::UnknownField { field } => ModelError::UnknownField { field: at(field) },
            ModelError::InvalidValue { field, message } => ModelError::InvalidValue {
                field: at(field),
                message,
            },
            ModelError::MissingField { field } => ModelError::MissingField { field: at(field) },
            ModelError::OutOfScope { field, section } => ModelError::OutOfScope {
                field: at(field),
                section,
            },
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> ModelError {
        ModelError::InvalidValue {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The JSON field the error is about.
    pub fn field(&self) -> &str {
        match self {
            ModelError::UnknownField { field }
            | ModelError::InvalidValue { field, .. }
            | ModelError::MissingField { field }
            | ModelError::OutOfScope { field, .. } => field,
        }
    }
}
