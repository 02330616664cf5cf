//! The one error type of the API: every failure becomes the reference's
//! `{"code": N, "message": "..."}` body with the matching status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haplane_dataplane::DataplaneError;
use haplane_model::{ModelError, ResourceError};
use haplane_runtime::{Refusal, RuntimeError};
use serde_json::{json, Value};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Located problems of a configuration HAProxy refused.
    pub problems: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            problems: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, message = %self.message, "request failed");
        }
        let mut body = json!({"code": self.status.as_u16(), "message": self.message});
        if let Some(problems) = self.problems {
            body["problems"] = problems;
        }
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> ApiError {
        let status = match &e {
            RuntimeError::Refused { kind, .. } => match kind {
                Refusal::NotFound => StatusCode::NOT_FOUND,
                Refusal::AlreadyExists => StatusCode::CONFLICT,
                Refusal::Invalid => StatusCode::BAD_REQUEST,
            },
            RuntimeError::BadArgument(_) => StatusCode::BAD_REQUEST,
            RuntimeError::Connect { .. }
            | RuntimeError::Io { .. }
            | RuntimeError::Timeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
            RuntimeError::Unexpected { .. } => StatusCode::BAD_GATEWAY,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> ApiError {
        ApiError::bad_request(e.to_string())
    }
}

impl From<ResourceError> for ApiError {
    fn from(e: ResourceError) -> ApiError {
        let status = match &e {
            ResourceError::NotFound(_) => StatusCode::NOT_FOUND,
            ResourceError::ParentNotFound(_) => StatusCode::BAD_REQUEST,
            ResourceError::AlreadyExists(_) | ResourceError::Conflict(_) => StatusCode::CONFLICT,
            ResourceError::Invalid(_) => StatusCode::BAD_REQUEST,
            ResourceError::Changed(_) => StatusCode::PRECONDITION_FAILED,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<DataplaneError> for ApiError {
    fn from(e: DataplaneError) -> ApiError {
        let status = match &e {
            DataplaneError::VersionMismatch { .. } => StatusCode::CONFLICT,
            DataplaneError::NoVersion => StatusCode::BAD_REQUEST,
            DataplaneError::Outdated { .. } => StatusCode::NOT_ACCEPTABLE,
            DataplaneError::TransactionNotFound(_)
            | DataplaneError::ReloadNotFound(_)
            | DataplaneError::VersionNotFound(_) => StatusCode::NOT_FOUND,
            DataplaneError::TransactionClosed { .. } => StatusCode::NOT_ACCEPTABLE,
            DataplaneError::TooManyTransactions(_) => StatusCode::TOO_MANY_REQUESTS,
            DataplaneError::Resource(r) => return ApiError::from(r.clone()),
            DataplaneError::Invalid { problems, .. } => {
                let list: Vec<Value> = problems
                    .iter()
                    .map(|p| {
                        // What HAProxy does not say is left out, not null.
                        let mut problem = json!({"message": p.message});
                        if let Some(line) = p.line {
                            problem["line"] = json!(line);
                        }
                        if let Some(file) = &p.file {
                            problem["file"] = json!(file);
                        }
                        if let Some(section) = &p.section {
                            problem["section"] = json!(section);
                        }
                        if let Some(resource) = &p.resource {
                            problem["resource"] = json!(resource);
                        }
                        problem
                    })
                    .collect();
                return ApiError {
                    status: StatusCode::BAD_REQUEST,
                    message: e.to_string(),
                    problems: Some(Value::Array(list)),
                };
            }
            DataplaneError::BadFileName(_) | DataplaneError::BadFile(_) => StatusCode::BAD_REQUEST,
            DataplaneError::FileNotFound(_) => StatusCode::NOT_FOUND,
            DataplaneError::FileExists(_) | DataplaneError::FileInUse(_) => StatusCode::CONFLICT,
            DataplaneError::ReadOnly { .. } => StatusCode::FORBIDDEN,
            DataplaneError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}
