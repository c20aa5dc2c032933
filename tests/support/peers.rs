//! Starts OpenBao and moto as child processes on free loopback ports.
//!
//! The children are spawned from one thread that lives as long as the test process, with
//! `PR_SET_PDEATHSIG`, so the kernel stops them when the process exits however it exits
//! (test statics are never dropped, so a `Drop` impl could not do it).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use crate::workspace_root;

pub struct Vault {
    pub addr: String,
    pub token: String,
}

pub struct Moto {
    pub endpoint: String,
}

static VAULT: OnceLock<Vault> = OnceLock::new();
static MOTO: OnceLock<Moto> = OnceLock::new();

/// OpenBao with a KV v2 engine at `secret/` (the dev server's default).
pub fn vault() -> &'static Vault {
    VAULT.get_or_init(|| {
        if let (Ok(addr), Ok(token)) = (std::env::var("VAULT_ADDR"), std::env::var("VAULT_TOKEN")) {
            return Vault { addr, token };
        }
        let port = free_port();
        let token = format!("test-root-{}", uuid::Uuid::new_v4().simple());
        spawn_forever(
            "bao",
            &[
                "server".into(),
                "-dev".into(),
                format!("-dev-root-token-id={token}"),
                format!("-dev-listen-address=127.0.0.1:{port}"),
            ],
        );
        let addr = format!("http://127.0.0.1:{port}");
        wait_for_http(&format!("{addr}/v1/sys/health"), "OpenBao");
        Vault { addr, token }
    })
}

/// moto server, for SQS, DynamoDB and Secrets Manager, through
/// `infra/scripts/moto_server.py`, which makes its DynamoDB conditional writes atomic as
/// DynamoDB's are (stock moto checks and writes in two unlocked steps).
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| {
        if let Ok(endpoint) = std::env::var("MOTO_ENDPOINT") {
            return Moto { endpoint };
        }
        let port = free_port();
        let launcher = workspace_root().join("infra/scripts/moto_server.py");
        spawn_forever(
            "python3",
            &[
                launcher.display().to_string(),
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ],
        );
        let endpoint = format!("http://127.0.0.1:{port}");
        wait_for_http(&format!("{endpoint}/moto-api/"), "moto");
        Moto { endpoint }
    })
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The project venv's copy of a tool if there is one, else whatever PATH has.
pub fn tool(name: &str) -> PathBuf {
    let venv = std::env::var_os("PM_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv"));
    let candidate = venv.join("bin").join(name);
    if candidate.exists() {
        candidate
    } else {
        PathBuf::from(name)
    }
}

fn spawn_forever(name: &str, args: &[String]) {
    let program = tool(name);
    let log_dir = workspace_root().join("target").join("test-peers");
    std::fs::create_dir_all(&log_dir).expect("log dir");
    let log_path = log_dir.join(format!("{name}-{}.log", std::process::id()));
    let args = args.to_vec();
    let (sent, received) = mpsc::channel::<Result<(), String>>();
    std::thread::Builder::new()
        .name(format!("peer-{name}"))
        .spawn(move || {
            let log = std::fs::File::create(&log_path).expect("peer log file");
            let mut command = Command::new(&program);
            command
                .args(&args)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log);
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                use std::os::unix::process::CommandExt;
                command.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            match command.spawn() {
                Ok(child) => {
                    let _ = sent.send(Ok(()));
                    // This thread must outlive every test: PDEATHSIG fires when the
                    // spawning thread ends.
                    park_with(child);
                }
                Err(e) => {
                    let _ = sent.send(Err(format!(
                        "cannot start {} ({e}); run `make venv` or put it on PATH",
                        program.display()
                    )));
                }
            }
        })
        .expect("peer thread");
    if let Err(e) = received.recv().expect("peer thread answers") {
        panic!("{e}");
    }
}

fn park_with(_child: Child) -> ! {
    loop {
        std::thread::park();
    }
}

fn wait_for_http(url: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("url has a host")
        .to_string();
    while Instant::now() < deadline {
        if TcpStream::connect(&authority).is_ok() && http_ok(url) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not become ready at {url} within 60 s (see target/test-peers/)");
}

fn http_ok(url: &str) -> bool {
    // A blocking check from a plain thread: tests may call this inside a runtime.
    let url = url.to_string();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()
            .and_then(|rt| {
                rt.block_on(async {
                    reqwest::Client::new()
                        .get(&url)
                        .timeout(Duration::from_secs(2))
                        .send()
                        .await
                        .ok()
                })
            })
            .is_some_and(|r| r.status().is_success())
    })
    .join()
    .unwrap_or(false)
}
