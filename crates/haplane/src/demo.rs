//! `haplane demo`: a real HAProxy on a sample hand-written configuration in
//! a temporary directory, the API on it, and a curl walkthrough. HAProxy is
//! stopped when the demo ends.

use std::net::TcpListener as StdListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use haplane_api::{AppState, Users};
use haplane_dataplane::{Dataplane, ReloadMethod, Settings};
use haplane_haproxy::MasterWorker;
use rand::Rng;

const SAMPLE: &str = include_str!("demo.cfg");

fn free_port() -> anyhow::Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub async fn run(api_port: u16) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new().prefix("haplane-demo-").tempdir()?;
    let password: String = rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(16)
        .map(char::from)
        .collect();
    let (www, app, spare) = (free_port()?, free_port()?, free_port()?);
    let config = dir.path().join("haproxy.cfg");
    let text = SAMPLE
        .replace("@WWW@", &www.to_string())
        .replace("@APP@", &app.to_string())
        .replace("@PASSWORD@", &password)
        .replace("@DIR@", &dir.path().display().to_string());
    std::fs::write(&config, text)?;
    let socket = dir.path().join("master.sock");
    let haproxy = MasterWorker::start(Path::new("haproxy"), &config, &socket)
        .context("cannot start haproxy (is it installed? apt-get install -y haproxy)")?;

    let mut settings = Settings::new(&config);
    settings.transaction_dir = dir.path().join("transactions");
    settings.reload = ReloadMethod::MasterSocket(socket.clone());
    settings.reload_delay = Duration::from_secs(1);
    let dp = Dataplane::open(settings).map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = Arc::new(AppState {
        dp,
        users: Users::single("admin", &password),
        started: Instant::now(),
        maps_dir: dir.path().join("maps"),
        ssl_certs_dir: dir.path().join("certs"),
        general_storage_dir: dir.path().join("general"),
        spoe_dir: dir.path().join("spoe"),
        show_system_info: true,
        body_limit: haplane_api::BODY_LIMIT,
        fleet: None,
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", api_port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{api_port} (use --port)"))?;

    println!(
        "{}",
        walkthrough(
            &dir.path().display().to_string(),
            haproxy.pid(),
            api_port,
            &password,
            www,
            app,
            spare
        )
    );
    let result = crate::serve::run(listener, state, crate::serve::shutdown_signal()).await;
    drop(haproxy);
    println!("HAProxy stopped; {} removed.", dir.path().display());
    result
}

fn walkthrough(
    dir: &str,
    pid: u32,
    port: u16,
    password: &str,
    www: u16,
    app: u16,
    spare: u16,
) -> String {
    format!(
        r#"haplane demo
  HAProxy (pid {pid}) runs {dir}/haproxy.cfg, a hand-written sample; open it to see each change land.
  The API listens on http://127.0.0.1:{port}/v3 - user: admin  password: {password}
  Interactive documentation: http://admin:{password}@127.0.0.1:{port}/v3/docs
  Web console: http://127.0.0.1:{port}/ui (same user)

Try it in another terminal:

  API=http://admin:{password}@127.0.0.1:{port}/v3
  curl -s $API/services/haproxy/configuration/backends; echo
  curl -s http://127.0.0.1:{www}/; echo                # traffic through HAProxy today

  # Group changes in a transaction, on the current version:
  V=$(curl -s $API/services/haproxy/configuration/version)
  T=$(curl -s -X POST "$API/services/haproxy/transactions?version=$V" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  curl -s -X POST -H 'Content-Type: application/json' "$API/services/haproxy/configuration/backends?transaction_id=$T" \
       -d '{{"name":"api","balance":{{"algorithm":"roundrobin"}}}}'; echo
  curl -s -X POST -H 'Content-Type: application/json' "$API/services/haproxy/configuration/backends/api/servers?transaction_id=$T" \
       -d '{{"name":"api1","address":"127.0.0.1","port":{www},"check":"enabled"}}'; echo
  curl -s -X POST -H 'Content-Type: application/json' "$API/services/haproxy/configuration/frontends?transaction_id=$T" \
       -d '{{"name":"api_front","mode":"http","default_backend":"api"}}'; echo
  curl -s -X POST -H 'Content-Type: application/json' "$API/services/haproxy/configuration/frontends/api_front/binds?transaction_id=$T" \
       -d '{{"name":"public","address":"127.0.0.1","port":{spare}}}'; echo
  curl -s -X PUT "$API/services/haproxy/transactions/$T?force_reload=true"; echo

  curl -s http://127.0.0.1:{spare}/; echo              # the new frontend answers
  curl -s $API/services/haproxy/configuration/raw         # your comments are all still there

  # What the runtime can do needs no reload: 201, not 202, and the file has it too:
  V=$(curl -s $API/services/haproxy/configuration/version)
  curl -s -w ' %{{http_code}}\n' -X POST -H 'Content-Type: application/json' "$API/services/haproxy/configuration/backends/app/servers?version=$V" \
       -d '{{"name":"app2","address":"127.0.0.1","port":{app},"weight":50}}'
  curl -s $API/services/haproxy/runtime/backends/app/servers; echo               # the live state
  curl -s "$API/services/haproxy/stats/native?type=server&parent=app"; echo       # statistics
  curl -s $API/services/haproxy/reloads; echo                                     # one reload: the transaction's

  # Every version is kept, with who changed what; see one diff, and the way back:
  curl -s $API/services/haproxy/configuration/history; echo
  V=$(curl -s $API/services/haproxy/configuration/version)
  curl -s $API/services/haproxy/configuration/history/$V/diff
  curl -s -X POST "$API/services/haproxy/configuration/history/$((V-1))/restore?version=$V&force_reload=true"; echo

  # A broken change is refused with HAProxy's own words, and nothing changes:
  V=$(curl -s $API/services/haproxy/configuration/version)
  curl -s -X POST -H 'Content-Type: application/json' "$API/services/haproxy/configuration/backends/api/servers?version=$V" \
       -d '{{"name":"bad","address":"no-such-host.invalid","port":80}}'; echo

  # The API's own figures, for Prometheus:
  curl -s $API/metrics | grep -E '^haplane_(commits|reloads|validations)_total'

Press Ctrl-C to stop (HAProxy stops with it).
"#
    )
}
