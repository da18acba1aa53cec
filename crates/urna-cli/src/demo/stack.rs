//! The demo's processes: `urna dev` serving every tier on loopback over TLS with the
//! embedded store, and the trustees, each a separate `urna trustee` process with its own
//! share file and passphrase. Every process logs to a file in the data directory and
//! is killed if the demo stops early.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use urna_proto::v1::admin_client::AdminClient;
use urna_proto::v1::tally_client::TallyClient;

use crate::files::write_private;

/// How long `urna dev` may take to listen (it generates the election's RSA key and
/// hashes every voting code first).
const START_TIMEOUT: Duration = Duration::from_secs(600);

/// A child process, killed when dropped unless it was waited for.
struct Process {
    name: String,
    log: PathBuf,
    child: Child,
}

impl Process {
    /// Starts `urna args…` with its output in `log`.
    fn spawn(name: &str, args: &[&str], log: &Path) -> Result<Self> {
        let file = std::fs::File::create(log)
            .with_context(|| format!("creating the log {}", log.display()))?;
        let child = Command::new(std::env::current_exe()?)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Self {
            name: name.to_owned(),
            log: log.to_owned(),
            child,
        })
    }

    /// Whether the process has exited (an error if it exited unsuccessfully).
    fn finished(&mut self) -> Result<bool> {
        match self.child.try_wait()? {
            None => Ok(false),
            Some(status) if status.success() => Ok(true),
            Some(status) => bail!(
                "{} failed ({status}); its log, {}, ends:\n{}",
                self.name,
                self.log.display(),
                tail(&self.log)
            ),
        }
    }

    /// Waits until the process exits successfully, at most `timeout`.
    async fn wait(&mut self, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        while !self.finished()? {
            if started.elapsed() > timeout {
                bail!("{} did not finish within {timeout:?}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last lines of a log file.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// What `urna dev` wrote to `dev.json`.
#[derive(Debug, serde::Deserialize)]
pub struct DevInfo {
    pub auth: String,
    pub issuance: String,
    pub casting: String,
    pub board: String,
    pub admin: String,
    pub tally: String,
    pub ca: PathBuf,
    pub admin_token_file: PathBuf,
    pub election: String,
    pub board_key: String,
    /// `open` once the election is (the board key is known from then on).
    #[serde(default)]
    pub state: String,
}

/// `urna dev` running the services.
pub struct Services {
    process: Process,
    /// Its `dev.json`.
    pub file: PathBuf,
    /// What it contains.
    pub info: DevInfo,
}

impl Services {
    /// Starts `urna dev` on `data` (any free ports, a roll of `voters`, the trustees'
    /// ceremony left to separate processes) and waits until it listens.
    pub async fn start(data: &Path, voters: u32, manifest: Option<&Path>) -> Result<Self> {
        let file = data.join("dev.json");
        let voters = voters.to_string();
        let data_arg = data.to_string_lossy();
        let mut args = vec![
            "dev",
            "--data",
            &data_arg,
            "--port-base",
            "0",
            "--voters",
            &voters,
            "--trustees",
            "external",
        ];
        let manifest_arg = manifest.map(|m| m.to_string_lossy().into_owned());
        if let Some(m) = &manifest_arg {
            args.extend(["--manifest", m]);
        }
        let mut process = Process::spawn("urna dev", &args, &data.join("services.log"))?;
        let started = Instant::now();
        loop {
            if let Some(info) = std::fs::read(&file)
                .ok()
                .and_then(|text| serde_json::from_slice::<DevInfo>(&text).ok())
            {
                return Ok(Self {
                    process,
                    file,
                    info,
                });
            }
            if process.finished()? {
                bail!("urna dev exited before it listened");
            }
            if started.elapsed() > START_TIMEOUT {
                bail!("urna dev did not listen within {START_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `urna dev` has opened the election (it does once the trustees'
    /// ceremony is done) and rereads `dev.json`, which then names the board key.
    pub async fn wait_until_open(&mut self) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Some(info) = std::fs::read(&self.file)
                .ok()
                .and_then(|text| serde_json::from_slice::<DevInfo>(&text).ok())
                .filter(|info| info.state == "open")
            {
                self.info = info;
                return Ok(());
            }
            if self.process.finished()? {
                bail!("urna dev exited before the election opened");
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("the election did not open within 2 minutes of the ceremony");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A client of the admin API with the admin token.
    pub async fn admin(&self) -> Result<(AdminClient<Channel>, MetadataValue<Ascii>)> {
        let token = std::fs::read_to_string(&self.info.admin_token_file)
            .context("reading the admin token")?;
        let auth = format!("Bearer {}", token.trim())
            .parse()
            .context("the admin token is not header text")?;
        let channel = channel(&self.info.admin, &self.info.ca).await?;
        Ok((AdminClient::new(channel), auth))
    }

    /// A client of the tally service.
    pub async fn tally(&self) -> Result<TallyClient<Channel>> {
        Ok(
            TallyClient::new(channel(&self.info.tally, &self.info.ca).await?)
                .max_decoding_message_size(urna_tally::grpc::MAX_REQUEST_BYTES),
        )
    }

    /// Stops the services as Ctrl-C would and waits for them to exit.
    pub async fn stop(mut self) -> Result<()> {
        let pid = self.process.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status()?;
        if !sent.success() {
            bail!("could not interrupt urna dev (pid {pid})");
        }
        self.process.wait(Duration::from_secs(60)).await
    }
}

/// A TLS channel to `endpoint` trusting the certificate authority in `ca`.
async fn channel(endpoint: &str, ca: &Path) -> Result<Channel> {
    Endpoint::from_shared(endpoint.to_owned())
        .with_context(|| format!("bad endpoint {endpoint}"))?
        .tls_config(crate::server::tls::client(ca)?)?
        .connect()
        .await
        .with_context(|| format!("connecting to {endpoint}"))
}

/// The trustees: their share files and passphrases under `DATA/trustees`.
pub struct Trustees {
    dir: PathBuf,
    dev: PathBuf,
    count: u32,
}

impl Trustees {
    /// `count` trustees for the services `dev.json` describes, with a fresh share file
    /// each: `urna trustee init`, then the admin registers its public keys.
    pub async fn create(data: &Path, services: &Services, count: u32) -> Result<Self> {
        let dir = data.join("trustees");
        std::fs::create_dir_all(&dir)?;
        let trustees = Self {
            dir,
            dev: services.file.clone(),
            count,
        };
        for index in 1..=count {
            let mut passphrase = [0u8; 16];
            rand::fill(&mut passphrase);
            write_private(
                &trustees.passphrase(index),
                hex::encode(passphrase).as_bytes(),
            )?;
            let name = format!("Trustee {index}");
            trustees
                .run(index, "init", &["--name", &name], Duration::from_secs(60))
                .await?;
            let token = services.info.admin_token_file.to_string_lossy();
            let index_arg = index.to_string();
            trustees
                .run(
                    index,
                    "register",
                    &["--index", &index_arg, "--admin-token-file", &token],
                    Duration::from_secs(60),
                )
                .await?;
        }
        Ok(trustees)
    }

    /// Runs the key ceremony: every trustee's `urna trustee ceremony` process at once,
    /// until all have finished.
    pub async fn ceremony(&self) -> Result<()> {
        let all: Vec<u32> = (1..=self.count).collect();
        self.together(&all, "ceremony").await
    }

    /// The trustees in `present` decrypt the tally, each its own process.
    pub async fn decrypt(&self, present: &[u32]) -> Result<()> {
        self.together(present, "decrypt").await
    }

    /// Trustee `index`'s share file.
    pub fn file(&self, index: u32) -> PathBuf {
        self.dir.join(format!("trustee-{index}.json"))
    }

    fn passphrase(&self, index: u32) -> PathBuf {
        self.dir.join(format!("passphrase-{index}"))
    }

    /// The arguments of `urna trustee <command>` for trustee `index`.
    fn args(&self, index: u32, command: &str, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "trustee".into(),
            command.into(),
            "--dev".into(),
            self.dev.to_string_lossy().into_owned(),
            "--file".into(),
            self.file(index).to_string_lossy().into_owned(),
            "--passphrase-file".into(),
            self.passphrase(index).to_string_lossy().into_owned(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    }

    fn spawn(&self, index: u32, command: &str, extra: &[&str]) -> Result<Process> {
        let args = self.args(index, command, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let log = self.dir.join(format!("trustee-{index}-{command}.log"));
        Process::spawn(&format!("trustee {index}'s {command}"), &args, &log)
    }

    async fn run(&self, index: u32, command: &str, extra: &[&str], limit: Duration) -> Result<()> {
        self.spawn(index, command, extra)?.wait(limit).await
    }

    async fn together(&self, indices: &[u32], command: &str) -> Result<()> {
        let mut running = indices
            .iter()
            .map(|&index| self.spawn(index, command, &[]))
            .collect::<Result<Vec<_>>>()?;
        for process in &mut running {
            process.wait(Duration::from_secs(3600)).await?;
        }
        Ok(())
    }
}
