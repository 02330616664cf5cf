//! A small client of etcd's v3 API through its JSON gateway (`/v3/kv/...`,
//! `/v3/lease/...` on the client URL, served by etcd 3.4 and later): keys
//! and values are base64, 64-bit numbers are strings. Each call tries the
//! endpoints in turn; when none answers, it is `Unreachable`.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

#[derive(Debug, Clone, thiserror::Error)]
pub enum EtcdError {
    #[error("etcd is unreachable ({0})")]
    Unreachable(String),
    #[error("etcd answered: {0}")]
    Answer(String),
}

/// A key's value and its modification revision (for compare-and-swap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kv {
    pub key: String,
    pub value: Vec<u8>,
    pub mod_revision: i64,
}

/// A comparison of a transaction.
#[derive(Debug, Clone)]
pub enum Compare {
    /// The key does not exist.
    Absent(String),
    /// The key was last modified at this revision.
    ModRevision(String, i64),
}

/// A write of a transaction.
#[derive(Debug, Clone)]
pub enum Op {
    Put(String, Vec<u8>),
    Delete(String),
}

#[derive(Debug, Clone)]
pub struct Etcd {
    endpoints: Vec<String>,
    http: reqwest::Client,
}

fn b64(text: &[u8]) -> String {
    B64.encode(text)
}

fn number(value: &Value) -> i64 {
    match value {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

impl Etcd {
    pub fn new(endpoints: Vec<String>) -> Etcd {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .connect_timeout(Duration::from_secs(1))
            .build()
            .expect("an HTTP client");
        let endpoints = endpoints
            .into_iter()
            .map(|e| e.trim_end_matches('/').to_owned())
            .collect();
        Etcd { endpoints, http }
    }

    async fn call(&self, path: &str, body: Value) -> Result<Value, EtcdError> {
        let mut last = String::from("no endpoint");
        for endpoint in &self.endpoints {
            let url = format!("{endpoint}{path}");
            match self.http.post(&url).json(&body).send().await {
                Ok(response) => {
                    let status = response.status();
                    let value: Value = response
                        .json()
                        .await
                        .map_err(|e| EtcdError::Answer(e.to_string()))?;
                    if !status.is_success() {
                        let message = value["message"].as_str().unwrap_or("").to_owned();
                        return Err(EtcdError::Answer(format!("{status} {message}")));
                    }
                    return Ok(value);
                }
                Err(e) => last = format!("{url}: {e}"),
            }
        }
        Err(EtcdError::Unreachable(last))
    }

    fn kvs(value: &Value) -> Vec<Kv> {
        let decode = |v: &Value| B64.decode(v.as_str().unwrap_or("")).unwrap_or_default();
        value["kvs"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|kv| Kv {
                        key: String::from_utf8_lossy(&decode(&kv["key"])).into_owned(),
                        value: decode(&kv["value"]),
                        mod_revision: number(&kv["mod_revision"]),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn get(&self, key: &str) -> Result<Option<Kv>, EtcdError> {
        let answer = self
            .call("/v3/kv/range", json!({"key": b64(key.as_bytes())}))
            .await?;
        Ok(Etcd::kvs(&answer).into_iter().next())
    }

    /// Every key starting with `prefix`, in key order.
    pub async fn prefix(&self, prefix: &str) -> Result<Vec<Kv>, EtcdError> {
        let mut end = prefix.as_bytes().to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        let answer = self
            .call(
                "/v3/kv/range",
                json!({"key": b64(prefix.as_bytes()), "range_end": b64(&end)}),
            )
            .await?;
        Ok(Etcd::kvs(&answer))
    }

    /// Puts `value` at `key`, attached to `lease` when given.
    pub async fn put(&self, key: &str, value: &[u8], lease: Option<i64>) -> Result<(), EtcdError> {
        let mut body = json!({"key": b64(key.as_bytes()), "value": b64(value)});
        if let Some(lease) = lease {
            body["lease"] = json!(lease.to_string());
        }
        self.call("/v3/kv/put", body).await.map(|_| ())
    }

    /// Applies `ops` if every comparison holds; whether it did.
    pub async fn txn(&self, compare: &[Compare], ops: &[Op]) -> Result<bool, EtcdError> {
        let compare: Vec<Value> = compare
            .iter()
            .map(|c| match c {
                Compare::Absent(key) => json!({"key": b64(key.as_bytes()), "target": "VERSION",
                    "result": "EQUAL", "version": "0"}),
                Compare::ModRevision(key, revision) => json!({"key": b64(key.as_bytes()),
                    "target": "MOD", "result": "EQUAL", "mod_revision": revision.to_string()}),
            })
            .collect();
        let success: Vec<Value> = ops
            .iter()
            .map(|op| match op {
                Op::Put(key, value) => {
                    json!({"request_put": {"key": b64(key.as_bytes()), "value": b64(value)}})
                }
                Op::Delete(key) => json!({"request_delete_range": {"key": b64(key.as_bytes())}}),
            })
            .collect();
        let answer = self
            .call(
                "/v3/kv/txn",
                json!({"compare": compare, "success": success}),
            )
            .await?;
        Ok(answer["succeeded"].as_bool().unwrap_or(false))
    }

    /// A lease of `ttl` seconds; its id.
    pub async fn grant(&self, ttl: u64) -> Result<i64, EtcdError> {
        let answer = self
            .call("/v3/lease/grant", json!({"TTL": ttl.to_string()}))
            .await?;
        match number(&answer["ID"]) {
            0 => Err(EtcdError::Answer(format!("no lease in {answer}"))),
            id => Ok(id),
        }
    }

    /// Renews a lease; false when it has expired (a new one is needed).
    pub async fn keep_alive(&self, lease: i64) -> Result<bool, EtcdError> {
        // The gateway answers a stream: its first message is the answer.
        let mut last = String::from("no endpoint");
        for endpoint in &self.endpoints {
            let url = format!("{endpoint}/v3/lease/keepalive");
            let sent = self
                .http
                .post(&url)
                .json(&json!({"ID": lease.to_string()}))
                .send()
                .await;
            let mut response = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = format!("{url}: {e}");
                    continue;
                }
            };
            let mut text = Vec::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                text.extend_from_slice(&chunk);
                if let Ok(value) = serde_json::from_slice::<Value>(&text) {
                    return Ok(number(&value["result"]["TTL"]) > 0);
                }
            }
            return Err(EtcdError::Answer(
                String::from_utf8_lossy(&text).into_owned(),
            ));
        }
        Err(EtcdError::Unreachable(last))
    }
}
