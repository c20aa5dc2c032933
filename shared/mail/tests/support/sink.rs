//! A running `smtp_sink.py` (aiosmtpd on a free loopback port), stopped and its directory
//! removed on drop. One file for both test suites that need a real SMTP server: pm-mail's
//! own tests and the workspace integration tests include it with `#[path]`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

pub struct SmtpSink {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl SmtpSink {
    /// Starts the sink with `python` (which must have aiosmtpd); with `auth`, AUTH is
    /// required and only that pair is accepted.
    pub fn start(python: &Path, auth: Option<(&str, &str)>) -> SmtpSink {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pm-smtp-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .find_map(|dir| {
                let script = dir.join("shared/mail/tests/support/smtp_sink.py");
                script.exists().then_some(script)
            })
            .expect("smtp_sink.py in the workspace");
        let mut command = Command::new(python);
        command.arg(script).arg(&dir);
        if let Some((user, password)) = auth {
            command.args([user, password]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start smtp_sink.py");
        // Read the port on a thread so a hung sink cannot hang the test.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // Built before the port is known, so a failed start still kills the child.
        let mut sink = SmtpSink {
            child,
            dir,
            port: 0,
        };
        sink.port = rx
            .recv_timeout(Duration::from_secs(15))
            .ok()
            .and_then(|l| l.trim().parse().ok())
            .expect("the SMTP sink reports its port (is aiosmtpd installed?)");
        sink
    }

    /// Whether the n-th (1-based) message has arrived (its envelope is written last).
    pub fn has(&self, n: usize) -> bool {
        self.dir.join(format!("{n}.json")).exists()
    }

    /// The n-th message's raw bytes and envelope (`mail_from`, `rcpt_tos`); call once
    /// [`has`](Self::has) says it arrived.
    pub fn read(&self, n: usize) -> (Vec<u8>, serde_json::Value) {
        let envelope = std::fs::read(self.dir.join(format!("{n}.json"))).expect("envelope");
        (
            std::fs::read(self.dir.join(format!("{n}.eml"))).expect("message"),
            serde_json::from_slice(&envelope).expect("envelope JSON"),
        )
    }

    pub fn count(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Closing stdin asks the sink to stop; kill makes sure it does.
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
