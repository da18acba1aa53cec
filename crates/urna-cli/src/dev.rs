//! `urna dev`: every service on loopback, each on its own TLS listener with a
//! throwaway certificate authority, over the embedded store, with an election set up
//! and open so that a person can vote by hand with `urna vote`.
//!
//! The data directory keeps everything between runs (store, boards, certificates,
//! admin token, the manifest used, the voting codes, the trustees' share files), so a
//! second run with the same `--data` continues the same election. The key ceremony
//! (2 of 3) runs over the tally service's gRPC API: by three trustee tasks in this
//! process (share files in `DATA/trustees`, their passphrase beside them: dev only),
//! or with `--trustees external` by three `urna trustee` processes, which dev waits
//! for before opening the election.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow, bail};
use rand::Rng as _;
use tokio::task::JoinSet;
use urna_admin::{Admin, AdminConfig, AdminToken};
use urna_election::{Manifest, format_rfc3339};
use urna_store::{CeremonyPhase, ElectionState, ElectionStore as _, SqliteStore, TallyStore as _};

use crate::files::write_private;
use crate::server::config::VotingCodes;
use crate::server::tls::DevCertificates;
use crate::server::{self, Config, Role, Running};
use crate::trustee::{self, Connection, KdfCost, Polling, ShareFile};

/// The example election `urna dev` opens unless given another manifest.
const CLUB_ELECTION: &str = include_str!("../../../examples/club-election.yaml");

/// The dev trustees' Argon2id cost: their passphrase sits beside their share files,
/// so a costly derivation would protect nothing and only slow every start.
const DEV_KDF: KdfCost = KdfCost {
    memory_kib: 8 * 1024,
    iterations: 1,
    lanes: 1,
};

/// Who runs the key ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Trustees {
    /// Three trustee tasks in this process.
    InProcess,
    /// Three `urna trustee` processes; dev waits for them.
    External,
}

/// Arguments of `urna dev`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data directory, kept between runs (default: a new directory under the
    /// system's temporary directory, printed at start).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The election manifest (default: the club election of examples/, with its
    /// polls open from now for a week).
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// How many voters the roll gets (ids v001, v002, ...).
    #[arg(long, default_value_t = 10)]
    voters: u32,
    /// First port: listeners at base+1..base+6 and base+80 (0: any free ports).
    #[arg(long, default_value_t = 7400)]
    port_base: u16,
    /// Serve without TLS (never for real elections).
    #[arg(long)]
    insecure_plaintext: bool,
    /// Who runs the key ceremony: trustee tasks in this process, or external
    /// `urna trustee` processes (dev prints their commands and waits).
    #[arg(long, value_enum, default_value = "in-process")]
    trustees: Trustees,
    /// Hash the voting codes with a cheap Argon2id (64 KiB, one pass) so that a roll
    /// of many thousands imports in seconds: for load tests, whose codes are
    /// throwaway. The default is the production cost (OWASP's parameters).
    #[arg(long)]
    weak_voting_code_hashes: bool,
}

/// Where `urna dev` is listening: written as `dev.json` for `urna vote --dev`,
/// `urna admin --dev` and `urna trustee --dev`; `state` is `ceremony` while dev waits
/// for external trustees (`board_key` is empty then), `open` once the election is.
#[derive(Debug, serde::Serialize)]
struct DevInfo {
    auth: String,
    issuance: String,
    casting: String,
    board: String,
    admin: String,
    tally: String,
    http: String,
    /// The operations listener (plain text: /livez, /readyz, /metrics, gRPC health).
    ops: String,
    ca: Option<PathBuf>,
    admin_token_file: PathBuf,
    election: String,
    board_key: String,
    data: PathBuf,
    trustees_dir: PathBuf,
    state: &'static str,
}

impl DevInfo {
    fn connection(&self) -> Connection {
        Connection {
            tally: self.tally.clone(),
            board: Some(self.board.clone()),
            ca: self.ca.clone(),
            election: Some(self.election.clone()),
            admin_token_file: Some(self.admin_token_file.clone()),
        }
    }
}

/// Runs `urna dev` until Ctrl-C.
pub async fn run(args: Args) -> Result<()> {
    let data = match &args.data {
        Some(dir) => dir.clone(),
        None => tempfile::Builder::new()
            .prefix("urna-dev-")
            .tempdir()?
            .keep(),
    };
    std::fs::create_dir_all(&data)?;
    let certificates = if args.insecure_plaintext {
        None
    } else {
        Some(DevCertificates::in_dir(&data.join("tls"))?)
    };
    let token_file = data.join("admin-token");
    let token = admin_token(&token_file)?;
    let mut config = Config::dev(data.join("store"), args.port_base);
    if args.weak_voting_code_hashes {
        config.voting_codes = VotingCodes {
            memory_kib: 64,
            iterations: 1,
            lanes: 1,
        };
    }
    let running = server::start(
        &config,
        Role::All,
        certificates.as_ref().map(|c| c.identity.clone()),
        token.clone(),
    )
    .await?;
    let manifest = dev_manifest(&data, args.manifest.as_deref())?;
    let admin = Admin::new(
        running.store.clone(),
        running.boards.clone().context("boards")?,
        AdminConfig {
            rsa_bits: config.rsa_bits,
            code_params: config.voting_codes.params()?,
            ..AdminConfig::default()
        },
    );
    let election = set_up(&running, &admin, &manifest, args.voters, &data).await?;
    let scheme = if certificates.is_some() {
        "https"
    } else {
        "http"
    };
    let url = |addr: Option<std::net::SocketAddr>| {
        addr.map(|a| format!("{scheme}://{a}")).unwrap_or_default()
    };
    let mut info = DevInfo {
        auth: url(running.bound.auth),
        issuance: url(running.bound.issuance),
        casting: url(running.bound.casting),
        board: url(running.bound.board),
        admin: url(running.bound.admin),
        tally: url(running.bound.tally),
        http: url(running.bound.http),
        ops: running
            .bound
            .ops
            .map(|a| format!("http://{a}"))
            .unwrap_or_default(),
        ca: certificates.as_ref().map(|c| c.ca.clone()),
        admin_token_file: token_file,
        election: election.clone(),
        board_key: String::new(),
        data: data.clone(),
        trustees_dir: data.join("trustees"),
        state: "ceremony",
    };
    let info_file = data.join("dev.json");
    if state_of(&running.store, &election).await? == ElectionState::Draft {
        match args.trustees {
            Trustees::InProcess => in_process_ceremony(&info, &token).await?,
            Trustees::External => {
                std::fs::create_dir_all(&info.trustees_dir)?;
                write_info(&info_file, &info)?;
                let size = ceremony_size(&info.connection(), &election).await?;
                print_trustee_commands(&info, &info_file, size);
                tokio::select! {
                    done = wait_for_ceremony(&running.store, &election) => done?,
                    () = server::shutdown_signal() => {
                        return running.run_until(std::future::ready(())).await;
                    }
                }
            }
        }
        admin.open(&election, true).await?;
    }
    if state_of(&running.store, &election).await? == ElectionState::Test {
        admin.open(&election, false).await?;
    }
    let board = running
        .boards
        .as_ref()
        .context("the casting role runs the boards")?
        .get(&election)
        .await?;
    info.board_key = board.verifier().to_string();
    info.state = "open";
    write_info(&info_file, &info)?;
    print_welcome(&info, &info_file, &data);
    running.run_until(server::shutdown_signal()).await
}

/// Writes dev.json atomically (tests and tools poll for it).
fn write_info(file: &Path, info: &DevInfo) -> Result<()> {
    trustee::write_atomic(file, &serde_json::to_vec_pretty(info)?)
}

/// The election's state.
async fn state_of(store: &SqliteStore, election: &str) -> Result<ElectionState> {
    Ok(store
        .election(election)
        .await?
        .context("the election was just created")?
        .state)
}

/// Runs the key ceremony with three trustee tasks in this process, over dev's own
/// tally endpoint: share files `trustee-N.json` in the trustees directory (made on
/// the first run, reopened after a restart), sealed with the passphrase in
/// `passphrase` beside them.
async fn in_process_ceremony(info: &DevInfo, token: &AdminToken) -> Result<()> {
    let dir = &info.trustees_dir;
    std::fs::create_dir_all(dir)?;
    let passphrase = dev_passphrase(&dir.join("passphrase"))?;
    let connection = info.connection();
    let (trustees, _) = ceremony_size(&connection, &info.election).await?;
    let mut tasks = JoinSet::new();
    for index in 1..=trustees {
        let path = dir.join(format!("trustee-{index}.json"));
        let mut file = if path.exists() {
            ShareFile::open(&path, &passphrase)?
        } else {
            ShareFile::create(&path, &format!("dev trustee {index}"), &passphrase, DEV_KDF)?
        };
        let mut tally = connection.tally().await?;
        if file.public().index.is_none() {
            trustee::register(&mut tally, &mut file, &info.election, index, token.expose()).await?;
        }
        tasks.spawn(async move {
            let mut report = |line: &str| tracing::info!("{line}");
            trustee::run_ceremony(&mut tally, &mut file, Polling::default(), &mut report).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// The ceremony's n and k, as the tally service reads them from the manifest.
async fn ceremony_size(connection: &Connection, election: &str) -> Result<(u32, u32)> {
    let state = connection
        .tally()
        .await?
        .get_ceremony_state(urna_proto::v1::GetCeremonyStateRequest {
            election_id: election.to_owned(),
        })
        .await
        .context("reading the ceremony's state")?
        .into_inner();
    Ok((state.trustee_count, state.threshold))
}

/// The dev trustees' passphrase, made on the first run.
fn dev_passphrase(file: &Path) -> Result<String> {
    if file.exists() {
        return Ok(std::fs::read_to_string(file)?.trim().to_owned());
    }
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let passphrase = hex::encode(bytes);
    write_private(file, passphrase.as_bytes())?;
    Ok(passphrase)
}

/// Waits until external trustees have finished the key ceremony.
async fn wait_for_ceremony(store: &SqliteStore, election: &str) -> Result<()> {
    loop {
        match store.ceremony_phase(election).await? {
            CeremonyPhase::Done => return Ok(()),
            CeremonyPhase::Failed => {
                bail!("the key ceremony failed: start again with a new --data")
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// What the external trustees (and the admin, for registration) must run.
fn print_trustee_commands(info: &DevInfo, info_file: &Path, (n, k): (u32, u32)) {
    let dev = info_file.display();
    let dir = info.trustees_dir.display();
    println!(
        "urna dev: election {} is waiting for its key ceremony ({k} of {n} trustees)",
        info.election
    );
    println!("Each trustee N = 1..{n} runs:");
    println!("  urna trustee init --file {dir}/trustee-N.json --name NAME --dev {dev}");
    println!(
        "  urna trustee register --file {dir}/trustee-N.json --index N --dev {dev}   (the admin)"
    );
    println!("  urna trustee ceremony --file {dir}/trustee-N.json --dev {dev}");
    println!("The election opens when the ceremony is done.");
}

/// The admin token in `file`, made on the first run.
fn admin_token(file: &Path) -> Result<AdminToken> {
    if file.exists() {
        let text = std::fs::read_to_string(file)?;
        return Ok(AdminToken::new(text.trim())?);
    }
    let token = AdminToken::generate()?;
    write_private(file, token.expose().as_bytes())?;
    Ok(token)
}

/// The manifest of this data directory: the one used on the first run, kept in
/// `manifest.yaml` (the club example gets polls open from now for a week).
fn dev_manifest(data: &Path, given: Option<&Path>) -> Result<String> {
    let kept = data.join("manifest.yaml");
    if kept.exists() {
        return Ok(std::fs::read_to_string(&kept)?);
    }
    let text = match given {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => open_from_now(CLUB_ELECTION)?,
    };
    std::fs::write(&kept, &text)?;
    Ok(text)
}

/// The manifest with its top-level `start` and `end` replaced: from an hour ago to a
/// week from now.
pub(crate) fn open_from_now(yaml: &str) -> Result<String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let now = i64::try_from(now)?;
    let (start, end) = (format_rfc3339(now - 3600), format_rfc3339(now + 7 * 86_400));
    Ok(yaml
        .lines()
        .map(|line| {
            if line.starts_with("start:") {
                format!("start: {start}")
            } else if line.starts_with("end:") {
                format!("end: {end}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n")
}

/// Creates the election and imports the roll, skipping whatever an earlier run
/// already did. Returns the election id.
async fn set_up(
    running: &Running,
    admin: &Admin<SqliteStore>,
    yaml: &str,
    voters: u32,
    data: &Path,
) -> Result<String> {
    let manifest = Manifest::from_yaml(yaml).map_err(|e| anyhow!("manifest: {e}"))?;
    let id = manifest.id().to_owned();
    admin.create(yaml).await?;
    let roll_imported = data.join("voting-codes.csv").exists();
    if state_of(&running.store, &id).await? == ElectionState::Draft && !roll_imported {
        let styles: Vec<&str> = manifest.ballot_styles().iter().map(|s| s.id()).collect();
        let mut csv = String::from("voter_id,ballot_style\n");
        for n in 1..=voters {
            // Four voters in five get the first style; the rest share the others.
            let style = if n % 5 == 0 && styles.len() > 1 {
                styles[1 + (n as usize / 5) % (styles.len() - 1)]
            } else {
                styles[0]
            };
            csv.push_str(&format!("v{n:03},{style}\n"));
        }
        let imported = admin.import_roll(&id, csv.as_bytes()).await?;
        let mut codes = String::from("voter_id,voting_code\n");
        for code in &imported.codes {
            codes.push_str(&format!(
                "{},{}\n",
                code.voter,
                code.code.display().as_str()
            ));
        }
        write_private(&data.join("voting-codes.csv"), codes.as_bytes())?;
    }
    Ok(id)
}

fn print_welcome(info: &DevInfo, info_file: &Path, data: &Path) {
    let codes = data.join("voting-codes.csv");
    let first = std::fs::read_to_string(&codes)
        .ok()
        .and_then(|text| text.lines().nth(1).map(str::to_owned));
    println!("urna dev: election {} is open", info.election);
    println!("  data        {}", data.display());
    println!("  auth        {}", info.auth);
    println!("  issuance    {}", info.issuance);
    println!("  casting     {}", info.casting);
    println!("  board       {}", info.board);
    println!("  admin       {}", info.admin);
    println!("  tally       {}", info.tally);
    println!("  http        {}", info.http);
    if let Some(ca) = &info.ca {
        println!("  CA          {}", ca.display());
    }
    println!("  board key   {}", info.board_key);
    println!("  codes       {}", codes.display());
    if let Some((voter, code)) = first.as_deref().and_then(|l| l.split_once(',')) {
        println!();
        println!("Vote by hand:");
        println!(
            "  urna vote --dev {} --voter {voter} --code {code}",
            info_file.display()
        );
    }
    println!();
    println!(
        "Ctrl-C stops the services; run again with --data {} to continue.",
        data.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_club_election_is_opened_from_now() {
        let yaml = open_from_now(CLUB_ELECTION).unwrap();
        let m = Manifest::from_yaml(&yaml).unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(m.start() < now && now < m.end());
    }
}
