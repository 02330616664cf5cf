//! The commit pipeline against a real HAProxy 2.6 in master-worker mode.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use haplane_cfg::SectionKind;
use haplane_dataplane::{
    Applied, Dataplane, DataplaneError, ReloadMethod, ReloadMode, ReloadStatus, Settings, Target,
};
use haplane_haproxy::MasterWorker;
use haplane_model::{create_child, create_section, ChildKind};
use serde_json::{json, Map, Value};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// GET / on a loopback port; the status line, or None if nothing answers.
fn get(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

struct Setup {
    _dir: tempfile::TempDir,
    _haproxy: MasterWorker,
    dp: Arc<Dataplane>,
    config: std::path::PathBuf,
    port: u16,
}

const CONFIG: &str = "# _version=1
# hand-written, with comments
global
    maxconn 100

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

# answers by itself
frontend hello
    bind 127.0.0.1:@PORT@
    http-request return status 200 content-type text/plain string hello
";

fn setup(reload: impl FnOnce(&Path) -> ReloadMethod, validate_cmd: Option<&str>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("haproxy.cfg");
    std::fs::write(&config, CONFIG.replace("@PORT@", &port.to_string())).unwrap();
    let socket = dir.path().join("master.sock");
    let haproxy =
        MasterWorker::start(Path::new("haproxy"), &config, &socket).expect("haproxy starts");
    let mut settings = Settings::new(&config);
    settings.transaction_dir = dir.path().join("transactions");
    settings.reload = reload(&socket);
    settings.reload_delay = Duration::from_millis(200);
    settings.validate_cmd = validate_cmd.map(str::to_owned);
    let dp = Dataplane::open(settings).unwrap();
    wait_for(|| get(port).is_some_and(|a| a.contains("hello")));
    Setup {
        _dir: dir,
        _haproxy: haproxy,
        dp,
        config,
        port,
    }
}

fn wait_for(mut ok: impl FnMut() -> bool) {
    for _ in 0..200 {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("condition not met within 5 s");
}

fn master(path: &Path) -> ReloadMethod {
    ReloadMethod::MasterSocket(path.to_path_buf())
}

fn new_frontend(
    port: u16,
) -> impl Fn(&mut haplane_cfg::Document) -> Result<(), haplane_model::ResourceError>
       + Send
       + Sync
       + 'static {
    move |doc| {
        create_section(
            doc,
            SectionKind::Frontend,
            &obj(json!({"name": "added", "mode": "http"})),
        )?;
        create_child(
            doc,
            SectionKind::Frontend,
            "added",
            ChildKind::Bind,
            &obj(json!({"name": "b", "address": "127.0.0.1", "port": port})),
        )?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_change_is_validated_written_and_reloaded() {
    let s = setup(master, None);
    let port = free_port();
    let (_, applied) =
        s.dp.edit(
            Target::Live {
                version: Some(1),
                reload: ReloadMode::Force,
            },
            new_frontend(port),
        )
        .await
        .unwrap();
    let Applied::Committed {
        version,
        reload: Some(reload),
        forced: true,
        ..
    } = applied
    else {
        panic!("{applied:?}")
    };
    assert_eq!(version, 2);
    assert_eq!(
        reload.status,
        ReloadStatus::Succeeded,
        "{}",
        reload.response
    );
    let text = std::fs::read_to_string(&s.config).unwrap();
    assert!(
        text.starts_with("# _version=2\n# hand-written, with comments\n"),
        "{text}"
    );
    // The new frontend answers (it has no backend: 503), the old one still does.
    wait_for(|| get(port).is_some_and(|a| a.contains(" 503 ")));
    assert!(get(s.port).unwrap().contains("hello"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_change_is_refused_with_haproxys_words_and_changes_nothing() {
    let s = setup(master, None);
    let before = std::fs::read(&s.config).unwrap();
    let error =
        s.dp.edit(
            Target::Live {
                version: Some(1),
                reload: ReloadMode::Force,
            },
            |doc| {
                create_section(doc, SectionKind::Backend, &obj(json!({"name": "web"})))?;
                // The model accepts any port a server line can carry up to 65535;
                // an address HAProxy cannot resolve is for HAProxy to refuse.
                create_child(
                    doc,
                    SectionKind::Backend,
                    "web",
                    ChildKind::Server,
                    &obj(json!({"name": "s1", "address": "no-such-host.invalid", "port": 80})),
                )
            },
        )
        .await
        .unwrap_err();
    let DataplaneError::Invalid { message, problems } = &error else {
        panic!("{error:?}")
    };
    assert!(message.contains("no-such-host.invalid"), "{message}");
    let problem = problems
        .iter()
        .find(|p| p.resource.is_some())
        .expect("a located problem");
    assert_eq!(
        problem.resource.as_deref(),
        Some("/backends/web/servers/s1")
    );
    assert_eq!(problem.section.as_deref(), Some("backend web"));
    assert_eq!(
        std::fs::read(&s.config).unwrap(),
        before,
        "the file is untouched"
    );
    assert_eq!(s.dp.snapshot().version, 1);
    assert!(get(s.port).unwrap().contains("hello"));
    // The history's copy, written while HAProxy checked, is gone with the
    // refusal: only the first version is kept, and no temporary file.
    let history = s.config.parent().unwrap().join("transactions/history");
    let mut kept: Vec<String> = std::fs::read_dir(&history)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(kept, ["1.cfg", "1.json"], "{}", history.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_and_transactions() {
    let s = setup(|_| ReloadMethod::None, None);
    let stale =
        s.dp.edit(
            Target::Live {
                version: Some(7),
                reload: ReloadMode::Queue,
            },
            |_| Ok(()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            DataplaneError::VersionMismatch {
                current: 1,
                given: 7
            }
        ),
        "{stale:?}"
    );
    assert!(matches!(
        s.dp.edit(
            Target::Live {
                version: None,
                reload: ReloadMode::Queue
            },
            |_| Ok(())
        )
        .await,
        Err(DataplaneError::NoVersion)
    ));

    let t = s.dp.start_transaction(1).unwrap();
    let other = s.dp.start_transaction(1).unwrap();
    for name in ["a", "b"] {
        let (_, applied) =
            s.dp.edit(Target::Transaction(t.id.clone()), move |doc| {
                create_section(doc, SectionKind::Backend, &obj(json!({"name": name})))
            })
            .await
            .unwrap();
        assert!(matches!(applied, Applied::Transaction));
    }
    assert_eq!(
        s.dp.snapshot().version,
        1,
        "nothing deployed before the commit"
    );
    let (info, applied) =
        s.dp.commit_transaction(&t.id, ReloadMode::Queue)
            .await
            .unwrap();
    assert_eq!(info.status.as_str(), "success");
    assert!(
        matches!(applied, Applied::Committed { version: 2, .. }),
        "{applied:?}"
    );
    let text = std::fs::read_to_string(&s.config).unwrap();
    assert!(
        text.contains("backend a\n") && text.contains("backend b\n"),
        "{text}"
    );
    // The other transaction started on version 1: it is outdated now.
    assert_eq!(
        s.dp.transaction(&other.id).unwrap().status.as_str(),
        "outdated"
    );
    let outdated =
        s.dp.commit_transaction(&other.id, ReloadMode::Queue)
            .await
            .unwrap_err();
    assert!(
        matches!(
            outdated,
            DataplaneError::Outdated {
                base: 1,
                current: 2,
                ..
            }
        ),
        "{outdated:?}"
    );
    // An unchanged commit bumps nothing.
    let (_, applied) =
        s.dp.edit(
            Target::Live {
                version: Some(2),
                reload: ReloadMode::Queue,
            },
            |_| Ok(()),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            applied,
            Applied::Committed {
                version: 2,
                reload: None,
                ..
            }
        ),
        "{applied:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_survive_a_restart() {
    let s = setup(|_| ReloadMethod::None, None);
    let t = s.dp.start_transaction(1).unwrap();
    s.dp.edit(Target::Transaction(t.id.clone()), |doc| {
        create_section(doc, SectionKind::Backend, &obj(json!({"name": "kept"})))
    })
    .await
    .unwrap();
    let reopened = Dataplane::open(s.dp.settings().clone()).unwrap();
    let info = reopened.transaction(&t.id).unwrap();
    assert_eq!((info.version, info.status.as_str()), (1, "in_progress"));
    reopened
        .commit_transaction(&t.id, ReloadMode::Queue)
        .await
        .unwrap();
    assert!(std::fs::read_to_string(&s.config)
        .unwrap()
        .contains("backend kept"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_reloads_are_coalesced_and_verified() {
    let s = setup(master, None);
    let mut ids = Vec::new();
    for version in 1..=3u64 {
        let name = format!("q{version}");
        let (_, applied) =
            s.dp.edit(
                Target::Live {
                    version: Some(version),
                    reload: ReloadMode::Queue,
                },
                move |doc| create_section(doc, SectionKind::Backend, &obj(json!({"name": name}))),
            )
            .await
            .unwrap();
        let Applied::Committed {
            reload: Some(reload),
            forced: false,
            ..
        } = applied
        else {
            panic!("{applied:?}")
        };
        assert_eq!(reload.status, ReloadStatus::InProgress);
        ids.push(reload.id);
    }
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "one reload for three commits: {ids:?}"
    );
    for _ in 0..200 {
        if s.dp.reload(&ids[0]).unwrap().status != ReloadStatus::InProgress {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reload = s.dp.reload(&ids[0]).unwrap();
    assert_eq!(
        reload.status,
        ReloadStatus::Succeeded,
        "{}",
        reload.response
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_reload_restores_the_previous_configuration() {
    // A validate command that accepts anything lets a configuration that
    // HAProxy cannot load reach the reload.
    let s = setup(master, Some("true"));
    let error_free = std::fs::read_to_string(&s.config).unwrap();
    let applied =
        s.dp.replace_raw(
            format!("{error_free}\nfrontend broken\n    bind 127.0.0.1:99999\n").into_bytes(),
            None,
            Some(1),
            ReloadMode::Force,
        )
        .await
        .unwrap();
    let Applied::Committed {
        reload: Some(reload),
        ..
    } = applied
    else {
        panic!("{applied:?}")
    };
    assert_eq!(reload.status, ReloadStatus::Failed, "{}", reload.response);
    assert!(reload.response.contains("restored"), "{}", reload.response);
    let text = std::fs::read_to_string(&s.config).unwrap();
    assert!(
        !text.contains("broken"),
        "the previous configuration is back:\n{text}"
    );
    assert_eq!(s.dp.snapshot().version, 3, "restoring is a new version");
    assert!(
        get(s.port).unwrap().contains("hello"),
        "the old worker kept serving"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_lose_nothing() {
    let s = setup(|_| ReloadMethod::None, Some("true"));
    // 50 writers that each retry on a version conflict: 50 versions, 50 backends.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let dp = Arc::clone(&s.dp);
        tasks.push(tokio::spawn(async move {
            loop {
                let version = dp.snapshot().version;
                let name = format!("w{i}");
                let result = dp
                    .edit(
                        Target::Live {
                            version: Some(version),
                            reload: ReloadMode::Queue,
                        },
                        move |doc| {
                            create_section(doc, SectionKind::Backend, &obj(json!({"name": name})))
                        },
                    )
                    .await;
                match result {
                    Ok(_) => return,
                    Err(DataplaneError::VersionMismatch { .. }) => continue,
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.dp.snapshot().version, 51);
    let text = std::fs::read_to_string(&s.config).unwrap();
    assert_eq!(
        (0..50)
            .filter(|i| text.contains(&format!("backend w{i}\n")))
            .count(),
        50
    );

    // With one shared stale version, exactly one of 20 wins.
    let version = s.dp.snapshot().version;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let dp = Arc::clone(&s.dp);
        tasks.push(tokio::spawn(async move {
            let name = format!("s{i}");
            dp.edit(
                Target::Live {
                    version: Some(version),
                    reload: ReloadMode::Queue,
                },
                move |doc| create_section(doc, SectionKind::Backend, &obj(json!({"name": name}))),
            )
            .await
            .is_ok()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += t.await.unwrap() as usize;
    }
    assert_eq!(wins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_edits_are_seen_on_the_next_request() {
    let s = setup(|_| ReloadMethod::None, None);
    let text = std::fs::read_to_string(&s.config).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(
        &s.config,
        text.replace("# _version=1", "# _version=9") + "\nbackend by_hand\n",
    )
    .unwrap();
    let snapshot = s.dp.snapshot();
    assert_eq!(snapshot.version, 9);
    assert!(snapshot
        .doc
        .find_section(SectionKind::Backend, "by_hand")
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_reload_writes_without_reloading() {
    let s = setup(master, None);
    let text = std::fs::read_to_string(&s.config).unwrap();
    let applied =
        s.dp.replace_raw(
            format!("{text}\nbackend quiet\n").into_bytes(),
            None,
            Some(1),
            ReloadMode::Skip,
        )
        .await
        .unwrap();
    assert!(
        matches!(
            applied,
            Applied::Committed {
                version: 2,
                reload: None,
                ..
            }
        ),
        "{applied:?}"
    );
    assert!(s.dp.reloads().is_empty(), "no reload was asked for");
    assert!(std::fs::read_to_string(&s.config)
        .unwrap()
        .contains("backend quiet"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_command_is_run_and_its_failure_restores() {
    let s = setup(
        |_| ReloadMethod::Command("echo reloading; exit 3".into()),
        None,
    );
    let text = std::fs::read_to_string(&s.config).unwrap();
    let applied =
        s.dp.replace_raw(
            format!("{text}\nbackend refused\n").into_bytes(),
            None,
            Some(1),
            ReloadMode::Force,
        )
        .await
        .unwrap();
    let Applied::Committed {
        reload: Some(reload),
        ..
    } = applied
    else {
        panic!("{applied:?}")
    };
    assert_eq!(reload.status, ReloadStatus::Failed);
    assert!(
        reload.response.starts_with("reloading"),
        "{}",
        reload.response
    );
    assert!(!std::fs::read_to_string(&s.config)
        .unwrap()
        .contains("backend refused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbered_backups_are_kept_up_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("haproxy.cfg");
    let port = free_port();
    std::fs::write(
        &config,
        format!("# _version=1\nglobal\n    maxconn 10\n\nfrontend f\n    bind 127.0.0.1:{port}\n"),
    )
    .unwrap();
    let mut settings = Settings::new(&config);
    settings.transaction_dir = dir.path().join("transactions");
    settings.backups_number = 2;
    settings.backups_dir = Some(dir.path().join("backups"));
    let dp = Dataplane::open(settings).unwrap();
    for version in 1..=4u64 {
        let name = format!("b{version}");
        dp.edit(
            Target::Live {
                version: Some(version),
                reload: ReloadMode::Queue,
            },
            move |doc| create_section(doc, SectionKind::Backend, &obj(json!({"name": name}))),
        )
        .await
        .unwrap();
    }
    let mut kept: Vec<String> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(kept, ["haproxy.cfg.3", "haproxy.cfg.4"]);
    let third = std::fs::read_to_string(dir.path().join("backups/haproxy.cfg.3")).unwrap();
    assert!(
        third.starts_with("# _version=3\n")
            && third.contains("backend b2")
            && !third.contains("backend b3")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_redone_after_a_crash_restores_no_older_configuration_than_the_file() {
    let marker = tempfile::tempdir().unwrap();
    let fail = marker.path().join("fail");
    let command = format!("test ! -e {}", fail.display());
    let s = setup(|_| ReloadMethod::Command(command), None);
    let add = |name: &'static str| {
        move |doc: &mut haplane_cfg::Document| {
            create_section(doc, SectionKind::Backend, &obj(json!({"name": name})))
        }
    };
    // A queued reload, carried out; then a forced one.
    s.dp.edit(
        Target::Live {
            version: Some(1),
            reload: ReloadMode::Queue,
        },
        add("a"),
    )
    .await
    .unwrap();
    wait_for(|| {
        s.dp.reloads()
            .iter()
            .all(|r| r.status == ReloadStatus::Succeeded)
    });
    s.dp.edit(
        Target::Live {
            version: Some(2),
            reload: ReloadMode::Force,
        },
        add("b"),
    )
    .await
    .unwrap();
    // haplane dies while the runtime API applies a change; at the restart
    // the reload that makes it good fails.
    let state = s.dp.settings().transaction_dir.join("reloads.json");
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    saved["runtime_in_flight"] = json!(true);
    std::fs::write(&state, serde_json::to_vec(&saved).unwrap()).unwrap();
    std::fs::write(&fail, "").unwrap();
    let reopened = Dataplane::open(s.dp.settings().clone()).unwrap();
    reopened.clone().finish_interrupted().await;
    assert_eq!(
        reopened.reloads().last().map(|r| r.status),
        Some(ReloadStatus::Failed)
    );
    // What is put back is the file as it was, not the one before `a`.
    let text = std::fs::read_to_string(&s.config).unwrap();
    assert!(
        text.contains("backend a") && text.contains("backend b"),
        "{text}"
    );
}
