//! What the tests over real HTTP share: HAProxy 2.6 in master-worker mode
//! and the `haplane` binary beside it, on loopback ports.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use haplane_haproxy::MasterWorker;
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use serde_json::Value;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET / on a loopback port; the whole answer, or None.
pub fn traffic(port: u16) -> Option<String> {
    traffic_path(port, "/")
}

/// GET PATH on a loopback port; the whole answer, or None.
pub fn traffic_path(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

/// GET PATH on a loopback port; the status line.
pub fn status_of(port: u16, path: &str) -> Option<String> {
    traffic_path(port, path).and_then(|a| a.lines().next().map(str::to_owned))
}

pub fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{what}: not within 10 s");
}

pub const CONFIG: &str = "# _version=1
# Hand-written: every line of this file must survive the API's changes.
global
    maxconn 200   # a trailing comment

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

userlist api
    user admin insecure-password s3cret

# The application: HAProxy answers by itself.
frontend app
    bind 127.0.0.1:@APP@
    http-request return status 200 content-type text/plain string hello-from-app
";

fn spawn_haplane(args: &[String]) -> Child {
    spawn_haplane_with(args, &[])
}

fn spawn_haplane_with(args: &[String], env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_haplane"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("haplane starts")
}

/// haplane, stopped by its PID when dropped.
pub struct Haplane(pub Child);

impl Drop for Haplane {
    fn drop(&mut self) {
        // Already reaped: its PID may belong to another process by now.
        if matches!(self.0.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct World {
    /// haplane's command line.
    pub args: Vec<String>,
    pub dir: tempfile::TempDir,
    pub haproxy: MasterWorker,
    pub haplane: Haplane,
    pub api: String,
    pub app_port: u16,
    pub client: Client,
}

impl World {
    pub fn start(extra: &[&str]) -> World {
        World::start_with(CONFIG, extra)
    }

    /// Starts HAProxy on `template` (`@APP@`: a free port for the
    /// application, `@DIR@`: the test's directory) and haplane beside it.
    pub fn start_with(template: &str, extra: &[&str]) -> World {
        World::start_prepared(template, extra, |_| {})
    }

    /// Like `start_with`, with `prepare` run on the directory first (to
    /// write the files the configuration names).
    pub fn start_prepared(template: &str, extra: &[&str], prepare: impl FnOnce(&Path)) -> World {
        World::start_on(Path::new("haproxy"), template, extra, prepare)
    }

    /// Like `start_prepared`, on the HAProxy binary `haproxy` (haplane is
    /// told to use it too).
    pub fn start_on(
        haproxy_bin: &Path,
        template: &str,
        extra: &[&str],
        prepare: impl FnOnce(&Path),
    ) -> World {
        World::start_set(
            haproxy_bin,
            &[("haproxy.cfg", template)],
            &["haproxy.cfg"],
            extra,
            prepare,
        )
    }

    /// Starts HAProxy and haplane on a configuration of several files
    /// (`files`: path in the test's directory and template, as for
    /// `start_with`), loaded from `sources` (files or directories of the
    /// test's directory, in order: `-f` of HAProxy, `-c` of haplane).
    pub fn start_set(
        haproxy_bin: &Path,
        files: &[(&str, &str)],
        sources: &[&str],
        extra: &[&str],
        prepare: impl FnOnce(&Path),
    ) -> World {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path());
        let app_port = free_port();
        for (name, template) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let text = template
                .replace("@APP@", &app_port.to_string())
                .replace("@DIR@", &dir.path().display().to_string());
            std::fs::write(&path, text).unwrap();
        }
        let sources: Vec<std::path::PathBuf> = sources.iter().map(|s| dir.path().join(s)).collect();
        let socket = dir.path().join("master.sock");
        let configs: Vec<&Path> = sources.iter().map(|p| p.as_path()).collect();
        let haproxy =
            MasterWorker::start_files(haproxy_bin, &configs, &socket).expect("haproxy starts");
        let port = free_port();
        let mut args: Vec<String> = sources
            .iter()
            .flat_map(|s| ["-c".to_owned(), s.display().to_string()])
            .collect();
        args.extend(
            [
                "-m",
                socket.to_str().unwrap(),
                "-u",
                "api",
                "--port",
                &port.to_string(),
                "--reload-delay",
                "1",
                "-t",
                dir.path().join("transactions").to_str().unwrap(),
                "-b",
                haproxy_bin.to_str().unwrap(),
            ]
            .iter()
            .map(|a| a.to_string()),
        );
        args.extend(
            extra
                .iter()
                .map(|a| a.replace("@DIR@", &dir.path().display().to_string())),
        );
        let child = spawn_haplane(&args);
        let world = World {
            args,
            api: format!("http://127.0.0.1:{port}/v3"),
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            haplane: Haplane(child),
            haproxy,
            dir,
            app_port,
        };
        wait_for("haplane answers", || world.get("/health").is_ok());
        wait_for("haproxy serves", || traffic(app_port).is_some());
        world
    }

    /// Kills haplane (SIGKILL, by its handle) and starts it again with
    /// the same command line.
    pub fn kill_and_restart(&mut self) {
        self.restart_with_env(&[]);
    }

    /// Kills haplane and starts it again with the same command line and
    /// `env` added to its environment.
    pub fn restart_with_env(&mut self, env: &[(&str, &str)]) {
        let _ = self.haplane.0.kill();
        let _ = self.haplane.0.wait();
        self.haplane.0 = spawn_haplane_with(&self.args, env);
        wait_for("haplane answers again", || self.get("/health").is_ok());
    }

    pub fn config(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("haproxy.cfg")).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    pub fn get(&self, path: &str) -> reqwest::Result<Response> {
        self.client
            .get(self.url(path))
            .basic_auth("admin", Some("s3cret"))
            .send()
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        self.send_as(("admin", "s3cret"), method, path, &[], body)
    }

    /// A request as `user` (name, password) with extra headers; the
    /// status, the JSON body (or its text) and the headers.
    pub fn send_as(
        &self,
        user: (&str, &str),
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, self.url(path))
            .basic_auth(user.0, Some(user.1));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value, headers)
    }
}

pub fn tls_file(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/tls")
            .join(name),
    )
    .unwrap()
}

/// Sends `file_upload` as multipart/form-data.
pub fn upload(
    w: &World,
    method: &str,
    path: &str,
    name: &str,
    contents: &str,
) -> (StatusCode, String) {
    let boundary = "haplane-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file_upload\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{contents}\r\n--{boundary}--\r\n"
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let (status, text, _) = send_raw(w, method, path, &content_type, body.into_bytes());
    (status, text)
}

/// Sends `body` as is, with its content type; the answer as text.
pub fn send_raw(
    w: &World,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let response = w
        .client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            w.url(path),
        )
        .basic_auth("admin", Some("s3cret"))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, response.text().unwrap(), headers)
}
