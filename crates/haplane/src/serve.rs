//! Serving the API: the engine and users from the options, HTTP and TLS
//! listeners, graceful shutdown on SIGTERM/SIGINT.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use haplane_api::{AppState, Users};
use haplane_cfg::Document;
use haplane_dataplane::{Dataplane, ReloadMethod, Settings};
use tokio::net::TcpListener;

use crate::cli::{Options, Tls};

/// The engine's settings from the options.
pub fn settings(options: &Options) -> Settings {
    let mut settings = Settings::new(&options.config_file);
    settings.config_sources = options.config_sources.clone();
    settings.read_only_files = options.read_only_files.clone();
    settings.read_only = options.read_only;
    settings.haproxy_bin = options.haproxy_bin.clone();
    settings.validate_cmd = options.validate_cmd.clone();
    settings.validate_files_before = options.validate_files_before.clone();
    settings.validate_files_after = options.validate_files_after.clone();
    settings.transaction_dir = options.transaction_dir.clone();
    settings.history_dir = options.history_dir.clone();
    settings.history_size = options.history_size;
    settings.max_open_transactions = options.max_open_transactions;
    settings.backups_number = options.backups_number;
    settings.backups_dir = options.backups_dir.clone();
    settings.reload_delay = options.reload_delay;
    settings.reload = match (&options.master_runtime, &options.reload_cmd) {
        (_, Some(cmd)) if options.reload_by_service => ReloadMethod::Command(cmd.clone()),
        (Some(socket), _) => ReloadMethod::MasterSocket(socket.clone()),
        (None, Some(cmd)) => ReloadMethod::Command(cmd.clone()),
        (None, None) => ReloadMethod::None,
    };
    settings
}

/// The API's users: the userlist named by `--userlist`, in
/// `--userlist-file` or else in the HAProxy configuration.
pub fn users(options: &Options) -> anyhow::Result<Users> {
    let file = options
        .userlist_file
        .as_ref()
        .unwrap_or(&options.config_file);
    let bytes = match &options.userlist_file {
        Some(file) => std::fs::read(file)
            .with_context(|| format!("--userlist-file {}: cannot read it", file.display()))?,
        None => haplane_dataplane::read_configuration(&settings(options))
            .map_err(|e| anyhow::anyhow!("--config-file {}: {e}", file.display()))?,
    };
    let users =
        Users::from_userlist(&Document::parse(bytes), &options.userlist).with_context(|| {
            format!(
                "--userlist {}: there is no userlist {0} in {}",
                options.userlist,
                file.display()
            )
        })?;
    // Users of the served configuration follow it; a separate file does not change.
    let users = match options.userlist_file {
        None => users.following(&options.userlist),
        Some(_) => users,
    };
    if users.is_empty() {
        bail!(
            "--userlist {}: the userlist has no user with a password",
            options.userlist
        );
    }
    Ok(users)
}

/// Serves until SIGTERM or SIGINT.
pub async fn serve(options: Options) -> anyhow::Result<()> {
    let started = Instant::now();
    let users = users(&options)?;
    let dp = Dataplane::open(settings(&options))
        .map_err(|e| anyhow::anyhow!("--config-file {}: {e}", options.config_file.display()))?;
    // A reload promised before the last stop is carried out now.
    tokio::spawn(Arc::clone(&dp).finish_interrupted());
    for dir in [
        &options.maps_dir,
        &options.ssl_certs_dir,
        &options.general_storage_dir,
        &options.spoe_dir,
    ] {
        haplane_dataplane::remove_leftovers(dir);
    }
    // A fleet node registers and follows the fleet's rollouts.
    let fleet = options.fleet.as_ref().map(|f| {
        let settings = haplane_fleet::FleetSettings {
            endpoints: f.endpoints.clone(),
            node_name: f.node_name.clone(),
            address: options.host.clone(),
            prefix: f.prefix.clone(),
            ttl: 5,
            state_dir: options.transaction_dir.clone(),
        };
        haplane_fleet::Fleet::new(settings, Arc::clone(&dp))
    });
    if let Some(fleet) = &fleet {
        tracing::info!(node = fleet.node_name(), "joining the fleet");
        tokio::spawn(Arc::clone(fleet).run());
    }
    let state = Arc::new(AppState {
        dp,
        users,
        started,
        maps_dir: options.maps_dir.clone(),
        ssl_certs_dir: options.ssl_certs_dir.clone(),
        general_storage_dir: options.general_storage_dir.clone(),
        spoe_dir: options.spoe_dir.clone(),
        show_system_info: options.show_system_info,
        body_limit: options.max_body_size,
        fleet,
    });
    let addr = format!("{}:{}", options.host, options.port);
    let listener = TcpListener::bind(&addr)
        .await
        .with_context(|| format!("--host/--port {addr}: cannot listen"))?;
    drop_privileges(&options)?;
    if let Some(path) = &options.pid_file {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .with_context(|| format!("--pid-file {}: cannot write it", path.display()))?;
    }
    tracing::info!(address = %listener.local_addr()?, config = %options.config_file.display(), "serving the API");
    if !options.disable_inotify {
        tokio::spawn(Arc::clone(&state.dp).follow_file(std::time::Duration::from_secs(1)));
    }
    tracing::debug!(
        restart_cmd = options.restart_cmd.as_deref().unwrap_or(""),
        "restart command",
    );
    if let Some(tls) = &options.tls {
        let app = haplane_api::app(Arc::clone(&state));
        let config = tls_config(tls)?;
        let tls_addr: SocketAddr =
            format!("{}:{}", tls.host, tls.port)
                .parse()
                .with_context(|| {
                    format!(
                        "--tls-host/--tls-port {}:{}: not an address",
                        tls.host, tls.port
                    )
                })?;
        tracing::info!(address = %tls_addr, client_certificates = tls.ca.is_some(), "serving the API over TLS");
        tokio::spawn(async move {
            let acceptor = SubjectAcceptor(axum_server::tls_rustls::RustlsAcceptor::new(config));
            let server = axum_server::bind(tls_addr).acceptor(acceptor);
            if let Err(e) = server.serve(app.into_make_service()).await {
                tracing::error!(error = %e, "the TLS listener stopped");
            }
        });
    }
    // Ready: a systemd service of `Type=notify` is started.
    notify_service_manager("READY=1");
    let result = run(listener, state, shutdown_signal()).await;
    notify_service_manager("STOPPING=1");
    result
}

/// Tells the service manager `state` (`sd_notify`): a datagram to the
/// socket `NOTIFY_SOCKET` names (a path, or `@NAME` in the abstract
/// namespace), when there is one.
fn notify_service_manager(state: &str) {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let target = target.to_string_lossy().into_owned();
    let address = match target.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes()),
        None => SocketAddr::from_pathname(&target),
    };
    let sent = address.and_then(|address| {
        let socket = UnixDatagram::unbound()?;
        socket.send_to_addr(state.as_bytes(), &address)
    });
    if let Err(e) = sent {
        tracing::warn!(socket = %target, error = %e, "cannot notify the service manager");
    }
}

/// Accepts TLS connections and gives each request the subject of the
/// client's certificate (`haplane_api::ClientSubject`), for the history
/// and the access log.
#[derive(Clone)]
struct SubjectAcceptor(axum_server::tls_rustls::RustlsAcceptor);

impl<I, S> axum_server::accept::Accept<I, S> for SubjectAcceptor
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: Send + 'static,
{
    type Stream = tokio_rustls::server::TlsStream<I>;
    type Service = WithSubject<S>;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = std::io::Result<(Self::Stream, Self::Service)>> + Send>,
    >;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let handshake = self.0.accept(stream, service);
        Box::pin(async move {
            let (stream, service) = handshake.await?;
            let subject = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|der| {
                    x509_parser::parse_x509_certificate(der)
                        .ok()
                        .map(|(_, cert)| cert.subject().to_string())
                })
                .map(haplane_api::ClientSubject);
            Ok((
                stream,
                WithSubject {
                    inner: service,
                    subject,
                },
            ))
        })
    }
}

/// A connection's service that puts the client's subject in each request.
#[derive(Clone)]
struct WithSubject<S> {
    inner: S,
    subject: Option<haplane_api::ClientSubject>,
}

impl<S, B> tower::Service<axum::http::Request<B>> for WithSubject<S>
where
    S: tower::Service<axum::http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: axum::http::Request<B>) -> Self::Future {
        if let Some(subject) = &self.subject {
            request.extensions_mut().insert(subject.clone());
        }
        self.inner.call(request)
    }
}

/// `--gid` then `--uid`: the API runs as that group and user from here on
/// (after its listeners are bound).
fn drop_privileges(options: &Options) -> anyhow::Result<()> {
    if let Some(gid) = options.gid {
        nix::unistd::setgid(nix::unistd::Gid::from_raw(gid))
            .with_context(|| format!("--gid {gid}: cannot set it"))?;
    }
    if let Some(uid) = options.uid {
        nix::unistd::setuid(nix::unistd::Uid::from_raw(uid))
            .with_context(|| format!("--uid {uid}: cannot set it"))?;
    }
    Ok(())
}

/// How long requests still running at shutdown may take to finish.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_millis(1500);

/// Serves `state` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish for at most [`SHUTDOWN_GRACE`]. A write cut
/// short leaves the old or the new file (writes are atomic) and was never
/// acknowledged.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        let _ = signalled.send(());
    };
    let server = axum::serve(listener, haplane_api::app(state))
        .with_graceful_shutdown(shutdown)
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result?,
        () = async {
            if on_signal.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still running at shutdown were cut short");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}

fn tls_config(tls: &Tls) -> anyhow::Result<axum_server::tls_rustls::RustlsConfig> {
    let read = |path: &std::path::Path, what: &str| -> anyhow::Result<Vec<u8>> {
        std::fs::read(path).with_context(|| format!("--{what} {}: cannot read it", path.display()))
    };
    let certs: Vec<_> =
        rustls_pemfile::certs(&mut read(&tls.certificate, "tls-certificate")?.as_slice())
            .collect::<Result<_, _>>()
            .with_context(|| {
                format!(
                    "--tls-certificate {}: not a PEM certificate",
                    tls.certificate.display()
                )
            })?;
    let key = rustls_pemfile::private_key(&mut read(&tls.key, "tls-key")?.as_slice())
        .ok()
        .flatten()
        .with_context(|| format!("--tls-key {}: no PEM private key in it", tls.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?;
    let builder = match &tls.ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_pemfile::certs(&mut read(ca, "tls-ca")?.as_slice()) {
                roots.add(cert.with_context(|| {
                    format!("--tls-ca {}: not a PEM certificate", ca.display())
                })?)?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .with_context(|| format!("--tls-ca {}: cannot verify clients with it", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .context("--tls-certificate/--tls-key: they do not match")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(config),
    ))
}
