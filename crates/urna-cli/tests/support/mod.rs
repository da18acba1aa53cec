//! The `urna serve` and `urna trustee` processes the tests that run the real binary
//! start: each process on listeners of its own, the admin's connection file, and the
//! key ceremony of three trustees.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The listeners of one `urna serve` process, each on a port that was free.
pub struct Ports(BTreeMap<&'static str, u16>);

impl Ports {
    const SERVICES: [&'static str; 8] = [
        "auth", "issuance", "casting", "board", "admin", "tally", "http", "ops",
    ];

    fn free() -> Self {
        // Hold every listener until all ports are chosen, so none repeats.
        let held: Vec<(&'static str, TcpListener)> = Self::SERVICES
            .iter()
            .map(|s| (*s, TcpListener::bind("127.0.0.1:0").unwrap()))
            .collect();
        Self(
            held.iter()
                .map(|(s, l)| (*s, l.local_addr().unwrap().port()))
                .collect(),
        )
    }

    pub fn url(&self, service: &str) -> String {
        format!("http://127.0.0.1:{}", self.0[service])
    }

    fn yaml(&self) -> String {
        let mut yaml = String::from("listen:\n");
        for (service, port) in &self.0 {
            yaml.push_str(&format!("  {service}: 127.0.0.1:{port}\n"));
        }
        yaml
    }
}

/// One `urna serve` process, killed when dropped.
pub struct Serve {
    child: Option<Child>,
    pub ports: Ports,
    log: PathBuf,
}

impl Serve {
    /// Starts `urna serve <role>` with `common` plus its own listeners, and waits
    /// until the last listener it binds (ops) accepts.
    pub fn start(dir: &Path, name: &str, role: &str, common: &str) -> Self {
        let ports = Ports::free();
        let config = dir.join(format!("{name}.yaml"));
        std::fs::write(&config, format!("{common}{}", ports.yaml())).unwrap();
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_urna"))
            .args(["serve", role, "--insecure-plaintext", "--config"])
            .arg(&config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut serve = Self {
            child: Some(child),
            ports,
            log,
        };
        let last = SocketAddr::from(([127, 0, 0, 1], serve.ports.0["ops"]));
        let started = Instant::now();
        while TcpStream::connect_timeout(&last, Duration::from_millis(200)).is_err() {
            if let Some(status) = serve.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("urna serve {name} exited with {status}: {}", serve.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "urna serve {name} did not start: {}",
                serve.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        serve
    }

    /// Writes the dev.json-shaped file through which `urna admin --dev` and
    /// `urna trustee --dev` reach this process (plain text: there is no CA), with the
    /// admin token file `dir/admin-token`.
    pub fn connection_file(&self, dir: &Path, election: &str) -> PathBuf {
        let connection = dir.join("connection.json");
        let info = serde_json::json!({
            "admin": self.ports.url("admin"),
            "tally": self.ports.url("tally"),
            "board": self.ports.url("board"),
            "admin_token_file": dir.join("admin-token"),
            "election": election,
        });
        std::fs::write(&connection, info.to_string()).unwrap();
        connection
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no drain, the database sees its connections drop.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `urna <args>`, which must succeed; its stdout.
pub fn urna(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_urna"))
        .args(args)
        .output()
        .unwrap();
    succeeded(args, &out)
}

pub fn succeeded(args: &[&str], out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "urna {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs the key ceremony: three `urna trustee` processes (init, register, then
/// ceremony concurrently), their share files in `dir`.
pub fn ceremony(dir: &Path, conn: &str) {
    let passphrase = dir.join("passphrase");
    std::fs::write(&passphrase, "a trustee's passphrase\n").unwrap();
    let trustee = |command: &str, n: u32, extra: &[&str]| -> Vec<String> {
        let share = dir.join(format!("trustee-{n}.json"));
        let mut args: Vec<String> = vec!["trustee".into(), command.into(), "--file".into()];
        args.push(share.to_str().unwrap().to_owned());
        for a in [
            "--passphrase-file",
            passphrase.to_str().unwrap(),
            "--dev",
            conn,
        ] {
            args.push(a.to_owned());
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        urna(&args)
    };
    for n in 1..=3u32 {
        let name = format!("trustee {n}");
        run(trustee(
            "init",
            n,
            &["--name", &name, "--kdf-memory-kib", "64"],
        ));
        run(trustee("register", n, &["--index", &n.to_string()]));
    }
    let ceremonies: Vec<_> = (1..=3u32)
        .map(|n| {
            let args = trustee("ceremony", n, &["--timeout", "60"]);
            let child = Command::new(env!("CARGO_BIN_EXE_urna"))
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (args, child)
        })
        .collect();
    for (args, child) in ceremonies {
        let out = child.wait_with_output().unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert!(succeeded(&args, &out).contains("done"));
    }
}
