//! `urna dev`: every service on loopback, each on its own TLS listener with a
//! throwaway certificate authority, over the embedded store, with an election set up
//! and open so that a person can vote by hand with `urna vote`.
//!
//! The data directory keeps everything between runs (store, boards, certificates,
//! admin token, the manifest used, the voting codes), so a second run with the same
//! `--data` continues the same election. The key ceremony is run in-process among
//! three local trustees (2 of 3); the trustees' shares live only in this process
//! (the ceremony over gRPC with trustee processes comes with the tally service).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow};
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_admin::{Admin, AdminConfig, AdminToken};
use urna_election::{Manifest, format_rfc3339};
use urna_store::{ElectionState, ElectionStore as _, JointKey, KeyStore as _};

use crate::demo::trustees::Ceremony;
use crate::files::write_private;
use crate::server::tls::DevCertificates;
use crate::server::{self, Config, Role, Running};

/// The example election `urna dev` opens unless given another manifest.
const CLUB_ELECTION: &str = include_str!("../../../examples/club-election.yaml");

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
}

/// Where `urna dev` is listening: written as `dev.json` for `urna vote --dev` and
/// `urna admin --dev`.
#[derive(Debug, serde::Serialize)]
struct DevInfo {
    auth: String,
    issuance: String,
    casting: String,
    board: String,
    admin: String,
    tally: String,
    http: String,
    ca: Option<PathBuf>,
    admin_token_file: PathBuf,
    election: String,
    board_key: String,
    data: PathBuf,
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
    let config = Config::dev(data.join("store"), args.port_base);
    let running = server::start(
        &config,
        Role::All,
        certificates.as_ref().map(|c| c.identity.clone()),
        token.clone(),
    )
    .await?;
    let manifest = dev_manifest(&data, args.manifest.as_deref())?;
    let election = set_up(&running, &config, &manifest, args.voters, &data).await?;
    let board = running
        .boards
        .as_ref()
        .context("the casting role runs the boards")?
        .get(&election)
        .await?;
    let scheme = if certificates.is_some() {
        "https"
    } else {
        "http"
    };
    let url = |addr: Option<std::net::SocketAddr>| {
        addr.map(|a| format!("{scheme}://{a}")).unwrap_or_default()
    };
    let info = DevInfo {
        auth: url(running.bound.auth),
        issuance: url(running.bound.issuance),
        casting: url(running.bound.casting),
        board: url(running.bound.board),
        admin: url(running.bound.admin),
        tally: url(running.bound.tally),
        http: url(running.bound.http),
        ca: certificates.as_ref().map(|c| c.ca.clone()),
        admin_token_file: token_file,
        election: election.clone(),
        board_key: board.verifier().to_string(),
        data: data.clone(),
    };
    let info_file = data.join("dev.json");
    std::fs::write(&info_file, serde_json::to_vec_pretty(&info)?)?;
    print_welcome(&info, &info_file, &data);
    running.run_until(server::shutdown_signal()).await
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
fn open_from_now(yaml: &str) -> Result<String> {
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

/// Creates the election, imports the roll, runs the key ceremony and opens the polls,
/// skipping whatever an earlier run already did. Returns the election id.
async fn set_up(
    running: &Running,
    config: &Config,
    yaml: &str,
    voters: u32,
    data: &Path,
) -> Result<String> {
    let manifest = Manifest::from_yaml(yaml).map_err(|e| anyhow!("manifest: {e}"))?;
    let store = &running.store;
    let boards = running.boards.clone().context("boards")?;
    let admin = Admin::new(
        store.clone(),
        boards,
        AdminConfig {
            rsa_bits: config.rsa_bits,
            ..AdminConfig::default()
        },
    );
    let id = manifest.id().to_owned();
    admin.create(yaml).await?;
    let state = store
        .election(&id)
        .await?
        .context("the election was just created")?
        .state;
    if state == ElectionState::Draft {
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
        let mut rng = ChaCha20Rng::from_rng(&mut rand::rng());
        let ceremony = Ceremony::run(&manifest.fingerprint(), 3, 2, &mut rng)?;
        let key = JointKey {
            key: ceremony.public_key().element().to_bytes(),
            ceremony: Vec::new(),
        };
        store.set_joint_key(&id, key).await?;
        admin.open(&id, true).await?;
    }
    if store.election(&id).await?.map(|e| e.state) == Some(ElectionState::Test) {
        admin.open(&id, false).await?;
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
