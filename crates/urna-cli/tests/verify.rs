//! `urna board export` and `urna verify` through the binary, on an election that
//! `urna dev` ran: a voter challenges a ballot and casts one, the admin closes the
//! polls, the live board is verified over HTTPS, then exported from the data directory
//! and verified again (the key ceremony's records follow genesis, dev's trustees having
//! run it over the tally service); a changed entry, a wrong pinned key, and a
//! reordered log re-signed with the real board key make `urna verify` fail and name
//! the check.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use urna_sdk::{Choice, Choices, Tls, TrustRoot, Voter};

/// `urna dev` on a data directory, until stopped.
struct Services {
    child: Child,
    info: serde_json::Value,
}

impl Services {
    fn start(data: &Path) -> Self {
        let log = std::fs::File::create(data.join("services.log")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_urna"))
            .args(["dev", "--port-base", "0", "--voters", "3", "--data"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let started = Instant::now();
        loop {
            if let Some(info) = std::fs::read(data.join("dev.json"))
                .ok()
                .and_then(|text| serde_json::from_slice(&text).ok())
            {
                return Self { child, info };
            }
            assert!(child.try_wait().unwrap().is_none(), "urna dev exited");
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "urna dev did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn get(&self, key: &str) -> String {
        self.info[key].as_str().unwrap().to_owned()
    }

    fn voter(&self) -> Voter {
        let endpoints = urna_sdk::Endpoints {
            auth: self.get("auth").parse().unwrap(),
            issuance: self.get("issuance").parse().unwrap(),
            casting: self.get("casting").parse().unwrap(),
            board: self.get("board").parse().unwrap(),
        };
        let ca = std::fs::read(self.get("ca")).unwrap();
        Voter::connect(&endpoints, &Tls::Ca(ca), &self.get("election")).unwrap()
    }

    /// Stops the services as Ctrl-C would and waits for the exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        assert!(self.child.wait().unwrap().success());
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn urna(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urna"))
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn choices() -> Choices {
    let mut choices = Choices::new();
    choices.insert("boathouse".into(), Choice::Marks(vec!["yes".into()]));
    choices.insert("chair".into(), Choice::Marks(vec!["grace".into()]));
    choices.insert("committee".into(), Choice::Marks(vec!["radia".into()]));
    choices.insert(
        "regatta-venue".into(),
        Choice::Scores(vec![("lake".into(), 5)]),
    );
    choices
}

/// Runs an election with `urna dev` in `data`; returns its id and board key.
async fn run_election(data: &Path) -> (String, String) {
    let services = Services::start(data);
    let codes = std::fs::read_to_string(data.join("voting-codes.csv")).unwrap();
    let code = codes
        .lines()
        .find_map(|l| l.strip_prefix("v001,"))
        .unwrap()
        .to_owned();
    let voter = services.voter();
    let election = voter
        .fetch_election(&TrustRoot::Pinned(services.get("board_key")))
        .await
        .unwrap();
    let session = voter.login("v001", &code).await.unwrap();
    let style = voter
        .ballot_style(&election, &session.style_id)
        .await
        .unwrap();
    let credential = voter.credential(&election, &session).await.unwrap();
    let (challenged, opening) = style.encrypt(&credential, &choices()).unwrap();
    voter
        .challenge(&election, &style, &challenged, &opening)
        .await
        .unwrap();
    let (ballot, _) = style.encrypt(&credential, &choices()).unwrap();
    voter.cast(&election, &ballot).await.unwrap();
    let id = services.get("election");
    let dev_json = data.join("dev.json");
    let closed = urna(&["admin", "--dev", dev_json.to_str().unwrap(), "close", &id]);
    assert!(closed.status.success(), "{}", text(&closed));
    let key = services.get("board_key");
    // The live board over the public HTTPS API, with the manifest from its source.
    let url = format!("{}/api/v1/elections/{id}/board/", services.get("http"));
    let (manifest, ca) = (data.join("manifest.yaml"), services.get("ca"));
    let live = urna(&[
        "verify",
        &url,
        "--manifest",
        manifest.to_str().unwrap(),
        "--ca",
        &ca,
        "--board-key",
        &key,
    ]);
    let report = text(&live);
    assert!(live.status.success(), "{report}");
    assert!(
        report.contains(" entries: 1 ballots, 1 spoiled, 1 counted"),
        "{report}"
    );
    assert!(report.contains("credentials issued: 1"), "{report}");
    services.stop();
    (id, key)
}

fn export(data: &Path, id: &str) -> PathBuf {
    let out = data.join("export");
    let store = data.join("store");
    let exported = urna(&[
        "board",
        "export",
        "--data",
        store.to_str().unwrap(),
        "--election",
        id,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(exported.status.success(), "{}", text(&exported));
    out
}

/// The entries of an export of fewer than 256 entries.
fn entries(export: &Path) -> Vec<Vec<u8>> {
    let note = std::fs::read_to_string(export.join("checkpoint")).unwrap();
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    assert!(size < 256);
    let bundle = std::fs::read(export.join(format!("tile/entries/000.p/{size}"))).unwrap();
    let mut entries = Vec::new();
    let mut rest = bundle.as_slice();
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let (entry, tail) = tail.split_at(usize::from(u16::from_be_bytes(*len)));
        entries.push(entry.to_vec());
        rest = tail;
    }
    entries
}

/// The index of the first entry of `kind`.
fn find(entries: &[Vec<u8>], kind: urna_board::EntryKind) -> usize {
    entries
        .iter()
        .position(|e| urna_board::Entry::decode(e).unwrap().kind() == kind)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_election_verifies_and_tampering_fails_the_named_check() {
    let dir = tempfile::tempdir().unwrap();
    let (id, key) = run_election(dir.path()).await;
    let out = export(dir.path(), &id);
    let dir_arg = out.to_str().unwrap();

    let verified = urna(&["verify", dir_arg, "--board-key", &key]);
    let report = text(&verified);
    assert!(verified.status.success(), "{report}");
    assert!(report.contains(&format!("board key: {key}")), "{report}");
    assert!(
        report.contains(" entries: 1 ballots, 1 spoiled, 1 counted"),
        "{report}"
    );
    assert!(
        report.contains("key ceremony: 2 of 3 trustees, qualified dealers 1, 2, 3"),
        "{report}"
    );
    assert!(report.trim_end().ends_with("verified"), "{report}");

    let other = urna_board::NoteSigner::from_seed("urna.local/other", &[9; 32])
        .unwrap()
        .verifier()
        .to_string();
    let pinned = urna(&["verify", dir_arg, "--board-key", &other]);
    assert!(!pinned.status.success());
    assert!(
        text(&pinned).contains("FAILED election keys at entry 1"),
        "{}",
        text(&pinned)
    );

    // An operator with the board key moves the ballot after the polls-closed entry and
    // signs the result: the root matches, the semantic checks do not.
    let honest = entries(&out);
    let ballot = find(&honest, urna_board::EntryKind::Ballot);
    let closed = find(&honest, urna_board::EntryKind::PollsClosed);
    assert_eq!(closed, ballot + 1);
    let resigned = resign_swapped(dir.path(), &id, &out, (ballot, closed)).await;
    let swapped = urna(&["verify", resigned.to_str().unwrap(), "--board-key", &key]);
    let report = text(&swapped);
    assert!(!swapped.status.success(), "{report}");
    assert!(report.contains("ok     tree root"), "{report}");
    assert!(
        report.contains(&format!(
            "FAILED nothing cast after close at entry {closed}"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("FAILED polls closed at entry {ballot}")),
        "{report}"
    );

    // The polls-closed entry's last byte (the credentials issued, 1) changed in place.
    let size = honest.len();
    let bundle = out.join(format!("tile/entries/000.p/{size}"));
    let mut bytes = std::fs::read(&bundle).unwrap();
    let end: usize = honest[..=closed].iter().map(|e| e.len() + 2).sum();
    bytes[end - 1] ^= 1;
    std::fs::write(&bundle, &bytes).unwrap();
    let tampered = urna(&["verify", dir_arg]);
    assert!(!tampered.status.success());
    assert!(
        text(&tampered).contains(&format!("FAILED tree root at entry {size}")),
        "{}",
        text(&tampered)
    );
    assert!(
        text(&tampered).contains(&format!("FAILED credentials issued at entry {closed}")),
        "{}",
        text(&tampered)
    );
}

/// Re-sequences the honest board of election `id` with entries `swap` exchanged, signs
/// it with the board key from the store's secrets, and exports it.
async fn resign_swapped(data: &Path, id: &str, honest: &Path, swap: (usize, usize)) -> PathBuf {
    use urna_store::KeyStore as _;
    let store = urna_store::SqliteStore::open(data.join("store"))
        .await
        .unwrap();
    let seed = *store.secrets(id).await.unwrap().unwrap().board_seed();
    let note = std::fs::read_to_string(honest.join("checkpoint")).unwrap();
    let origin = note.lines().next().unwrap().to_owned();
    let mut entries = entries(honest);
    entries.swap(swap.0, swap.1);
    let signer = urna_board::NoteSigner::from_seed(&origin, &seed).unwrap();
    let mut log = urna_board::Log::open(urna_board::MemoryStore::new(), &origin).unwrap();
    log.integrate(&entries).unwrap();
    log.sign_checkpoint(&signer).unwrap();
    let out = data.join("resigned");
    let yaml = std::fs::read_to_string(honest.join("manifest.yaml")).unwrap();
    urna_verify::export(log.into_store(), &yaml, &out).unwrap();
    out
}
