//! The fleet (`/v3/fleet/...`): its nodes and its rollouts, on a node that
//! joined one (`--fleet-etcd`); elsewhere these paths answer 404.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use haplane_fleet::{Fleet, FleetError, Rollout, RolloutRequest};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::AppState;

type St = State<Arc<AppState>>;

pub fn routes() -> crate::Routes {
    crate::Routes::default()
        .route("/fleet/nodes", get(nodes))
        .route("/fleet/rollouts", axum::routing::post(start).get(rollouts))
        .route("/fleet/rollouts/{id}", get(rollout).delete(stop))
}

impl From<FleetError> for ApiError {
    fn from(e: FleetError) -> ApiError {
        let status = match &e {
            FleetError::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
            FleetError::Busy(_) | FleetError::Over { .. } => StatusCode::CONFLICT,
            FleetError::NotFound(_) => StatusCode::NOT_FOUND,
            FleetError::Bad(_) => StatusCode::BAD_REQUEST,
            FleetError::Dataplane(d) => return ApiError::from(d.clone()),
        };
        ApiError::new(status, e.to_string())
    }
}

fn fleet(state: &AppState) -> Result<&Arc<Fleet>, ApiError> {
    state.fleet.as_ref().ok_or_else(|| {
        ApiError::not_found("this node is in no fleet (start it with --fleet-etcd and --node-name)")
    })
}

/// A rollout as answered: its record without the configuration's bytes.
fn shown(rollout: &Rollout) -> Value {
    let mut value = serde_json::to_value(rollout).expect("JSON");
    if let Value::Object(map) = &mut value {
        map.remove("raw");
        map.insert(
            "checksum".into(),
            json!(haplane_dataplane::checksum(rollout.raw.as_bytes())),
        );
    }
    value
}

async fn nodes(State(state): St) -> Result<Response, ApiError> {
    let nodes = fleet(&state)?.nodes().await?;
    Ok(Json(serde_json::to_value(nodes).expect("JSON")).into_response())
}

async fn start(State(state): St, body: Bytes) -> Result<Response, ApiError> {
    let fleet = fleet(&state)?;
    let request: RolloutRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("not a rollout: {e}")))?;
    let rollout = fleet.start(request).await?;
    Ok((StatusCode::CREATED, Json(shown(&rollout))).into_response())
}

async fn rollouts(State(state): St) -> Result<Response, ApiError> {
    let list: Vec<Value> = fleet(&state)?.rollouts().await?.iter().map(shown).collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn rollout(State(state): St, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (rollout, _) = fleet(&state)?.rollout(&id).await?;
    Ok(Json(shown(&rollout)).into_response())
}

async fn stop(State(state): St, Path(id): Path<String>) -> Result<Response, ApiError> {
    let rollout = fleet(&state)?.stop(&id).await?;
    Ok(Json(shown(&rollout)).into_response())
}
