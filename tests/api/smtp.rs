//! A real SMTP server for the tests: `tests/smtp/sink.py` (aiosmtpd, pinned, installed on first
//! use in a virtual environment under `~/.cache/condivisa`, like the contract test's
//! schemathesis) on a free loopback port. The server under test delivers to it over SMTP; the
//! test reads what arrived.
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Deserialize;

const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// The virtual environment's Python, created once per test run (the first caller installs,
/// the others wait for it).
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let home = std::env::var_os("HOME").expect("HOME is set");
        let venv = PathBuf::from(home).join(".cache/condivisa/aiosmtpd-1.4.6");
        let python = venv.join("bin/python");
        let ready = || {
            python.exists()
                && Command::new(&python)
                    .args(["-c", "import aiosmtpd"])
                    .status()
                    .is_ok_and(|s| s.success())
        };
        if !ready() {
            let _ = std::fs::remove_dir_all(&venv);
            let created = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3 runs (the SMTP tests need Python 3 with venv)");
            assert!(created.success(), "python3 -m venv {}", venv.display());
            let installed = Command::new(venv.join("bin/pip"))
                .args(["install", "-q", AIOSMTPD])
                .status()
                .expect("pip runs");
            assert!(installed.success(), "pip install {AIOSMTPD} (needs PyPI)");
        }
        python
    })
}

/// One message as the SMTP server received it, decoded.
#[derive(Debug, Deserialize)]
pub struct Received {
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub content_type: String,
    pub body: Option<String>,
    /// Files attached (decoded).
    #[serde(default)]
    pub attachments: Vec<ReceivedAttachment>,
}

/// A file attached to a received message.
#[derive(Debug, Deserialize)]
pub struct ReceivedAttachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub content_base64: String,
}

impl ReceivedAttachment {
    pub fn bytes(&self) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(&self.content_base64)
            .expect("the sink writes base64")
    }
}

impl Received {
    pub fn body(&self) -> &str {
        self.body.as_deref().unwrap_or_default()
    }

    /// The first link in the body that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> String {
        let start = self
            .body()
            .find(prefix)
            .unwrap_or_else(|| panic!("no link {prefix}… in:\n{}", self.body()));
        self.body()[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }

    /// The `token` parameter of the first link that starts with `prefix`.
    pub fn token(&self, prefix: &str) -> String {
        token_of(&self.link(prefix))
    }
}

/// The `token` parameter of a link.
pub fn token_of(link: &str) -> String {
    link.split_once("token=")
        .unwrap_or_else(|| panic!("no token in {link}"))
        .1
        .to_string()
}

pub struct SmtpSink {
    pub port: u16,
    directory: tempfile::TempDir,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        SmtpSink::start_with(&[])
    }

    /// With extra arguments of `sink.py` (`--reject-first N`).
    pub fn start_with(arguments: &[&str]) -> SmtpSink {
        let directory = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(directory.path())
            .args(arguments)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts");
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink said {line:?}"));
        SmtpSink {
            port,
            directory,
            child,
            stdin,
        }
    }

    /// `SMTP_URL` for the server under test.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.directory.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
            .collect()
    }

    /// Waits (up to 30 s) until `count` messages have arrived and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "{count} messages expected, {} arrived: {received:#?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Closing its standard input ends the sink; kill it should it hang.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
