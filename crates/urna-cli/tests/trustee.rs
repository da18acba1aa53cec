//! Trustees as processes, end to end through the real binary: `urna dev --trustees
//! external` waits while three `urna trustee` processes (init, register, ceremony) run
//! the key ceremony over the tally service; the election opens, a voter votes, the
//! admin closes the polls, and two of the three trustees (`urna trustee decrypt`)
//! decrypt the totals, which must be what was voted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
use urna_proto::v1;
use urna_proto::v1::tally_client::TallyClient;
use urna_sdk::{Choice, Choices, Endpoints, Tls, TrustRoot, Voter};

/// A running `urna dev --trustees external`, killed when dropped.
struct Dev {
    child: Child,
    data: PathBuf,
}

impl Dev {
    fn start(data: &Path) -> Self {
        let log = std::fs::File::create(data.join("services.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_urna"))
            .args(["dev", "--trustees", "external", "--port-base", "0"])
            .args(["--voters", "5", "--data"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self {
            child,
            data: data.to_owned(),
        }
    }

    fn info_file(&self) -> PathBuf {
        self.data.join("dev.json")
    }

    /// dev.json once its `state` is `state`.
    fn wait_for(&mut self, state: &str) -> serde_json::Value {
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read(self.info_file())
                && let Ok(info) = serde_json::from_slice::<serde_json::Value>(&text)
                && info["state"] == state
            {
                return info;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("urna dev exited with {status}: {}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "dev.json never said {state}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.data.join("services.log")).unwrap_or_default()
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `urna <args>`, which must succeed; its stdout.
fn urna(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_urna"))
        .args(args)
        .output()
        .unwrap();
    succeeded(args, &out)
}

fn succeeded(args: &[&str], out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "urna {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The trustees' files for a `urna dev --trustees external` run.
struct Panel {
    dev: String,
    pass: String,
    dir: PathBuf,
}

impl Panel {
    /// Reads dev.json's trustees directory and writes a passphrase file.
    fn new(dev: &Dev, info: &serde_json::Value, scratch: &Path) -> Self {
        let passphrase = scratch.join("passphrase");
        std::fs::write(&passphrase, "a trustee's passphrase\n").unwrap();
        Self {
            dev: dev.info_file().to_str().unwrap().to_owned(),
            pass: passphrase.to_str().unwrap().to_owned(),
            dir: PathBuf::from(info["trustees_dir"].as_str().unwrap()),
        }
    }

    /// Trustee `n`'s share file.
    fn share(&self, n: u32) -> String {
        self.dir
            .join(format!("trustee-{n}.json"))
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// `urna trustee <command>` for trustee `n` with the share file, passphrase and
    /// dev.json, then `extra`.
    fn args(&self, command: &str, n: u32, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec!["trustee".into(), command.into(), "--file".into()];
        args.push(self.share(n));
        for a in ["--passphrase-file", &self.pass, "--dev", &self.dev] {
            args.push(a.to_owned());
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    }

    /// Runs `urna trustee <command>` for trustee `n`, which must succeed; its stdout.
    fn run(&self, command: &str, n: u32, extra: &[&str]) -> String {
        let args = self.args(command, n, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        urna(&args)
    }

    /// Trustee `n` makes its share file and the admin registers it.
    fn enrol(&self, n: u32) {
        let name = format!("trustee {n}");
        let printed = self.run("init", n, &["--name", &name, "--kdf-memory-kib", "64"]);
        assert!(printed.contains("signing key"), "{printed}");
        self.run("register", n, &["--index", &n.to_string()]);
    }

    /// Starts trustee `n`'s `urna trustee ceremony` process.
    fn start_ceremony(&self, n: u32) -> (Vec<String>, Child) {
        let args = self.args("ceremony", n, &["--timeout", "120"]);
        let child = Command::new(env!("CARGO_BIN_EXE_urna"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        (args, child)
    }

    /// Waits for a ceremony process, which must succeed; its stdout.
    fn finish(process: (Vec<String>, Child)) -> String {
        let (args, child) = process;
        let out = child.wait_with_output().unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        succeeded(&args, &out)
    }
}

fn members_choices() -> Choices {
    let mut choices = Choices::new();
    choices.insert("boathouse".into(), Choice::Marks(vec!["yes".into()]));
    choices.insert("chair".into(), Choice::Marks(vec!["grace".into()]));
    choices.insert(
        "committee".into(),
        Choice::Marks(vec!["radia".into(), "frances".into()]),
    );
    choices.insert(
        "regatta-venue".into(),
        Choice::Scores(vec![("lake".into(), 5), ("river".into(), 2)]),
    );
    choices
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_trustee_processes_run_the_ceremony_and_two_decrypt_the_tally() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = Dev::start(dir.path());
    let info = dev.wait_for("ceremony");
    let panel = Panel::new(&dev, &info, dir.path());
    let dev_arg = panel.dev.clone();
    for n in 1..=3u32 {
        panel.enrol(n);
    }
    let status = urna(&["trustee", "status", "--file", &panel.share(2)]);
    assert!(status.contains("club-agm-2026") && status.contains("ceremony not done"));

    // The three ceremonies run side by side, each its own process.
    let ceremonies: Vec<_> = (1..=3u32).map(|n| panel.start_ceremony(n)).collect();
    for process in ceremonies {
        let printed = Panel::finish(process);
        assert!(
            printed.contains("dealing round") && printed.contains("done"),
            "{printed}"
        );
    }
    let status = urna(&["trustee", "status", "--file", &panel.share(1)]);
    assert!(!status.contains("ceremony not done"), "{status}");

    // dev opens the election once the ceremony is done; one member votes.
    let info = dev.wait_for("open");
    let url = |key: &str| info[key].as_str().unwrap().to_owned();
    let ca = std::fs::read(url("ca")).unwrap();
    let election_id = url("election");
    let endpoints = Endpoints {
        auth: url("auth").parse().unwrap(),
        issuance: url("issuance").parse().unwrap(),
        casting: url("casting").parse().unwrap(),
        board: url("board").parse().unwrap(),
    };
    let voter = Voter::connect(&endpoints, &Tls::Ca(ca.clone()), &election_id).unwrap();
    let election = voter
        .fetch_election(&TrustRoot::Pinned(url("board_key")))
        .await
        .unwrap();
    let codes: BTreeMap<String, String> =
        std::fs::read_to_string(dir.path().join("voting-codes.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(','))
            .map(|(v, c)| (v.to_owned(), c.to_owned()))
            .collect();
    let session = voter.login("v001", &codes["v001"]).await.unwrap();
    let style = voter
        .ballot_style(&election, &session.style_id)
        .await
        .unwrap();
    let credential = voter.credential(&election, &session).await.unwrap();
    let (ballot, _) = style.encrypt(&credential, &members_choices()).unwrap();
    voter.cast(&election, &ballot).await.unwrap();

    let closed = urna(&["admin", "--dev", &dev_arg, "close", &election_id]);
    assert!(closed.contains("Closed"), "{closed}");

    // Trustees 1 and 3 decrypt; trustee 2 stays away.
    for n in [1u32, 3] {
        let printed = panel.run("decrypt", n, &["--timeout", "60"]);
        assert!(
            printed.contains("partial decryptions accepted"),
            "{printed}"
        );
    }

    let channel = Endpoint::from_shared(url("tally"))
        .unwrap()
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let results = TallyClient::new(channel)
        .get_results(v1::GetResultsRequest {
            election_id: election_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let totals: BTreeMap<(String, String), u64> = results
        .contests
        .iter()
        .flat_map(|c| {
            c.totals
                .iter()
                .map(|t| ((c.contest_id.clone(), t.option_id.clone()), t.total))
        })
        .collect();
    let total = |contest: &str, option: &str| totals[&(contest.to_owned(), option.to_owned())];
    assert_eq!(total("chair", "grace"), 1);
    assert_eq!(total("chair", "ada"), 0);
    assert_eq!(total("committee", "radia"), 1);
    assert_eq!(total("committee", "frances"), 1);
    assert_eq!(total("committee", "john"), 0);
    assert_eq!(total("regatta-venue", "lake"), 5);
    assert_eq!(total("regatta-venue", "river"), 2);
    assert_eq!(total("regatta-venue", "canal"), 0);
    assert!(results.contests.iter().all(|c| c.ballots == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_closes_the_dealing_round_when_a_trustee_never_deals() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = Dev::start(dir.path());
    let info = dev.wait_for("ceremony");
    let panel = Panel::new(&dev, &info, dir.path());
    for n in 1..=3u32 {
        panel.enrol(n);
    }
    let election = info["election"].as_str().unwrap().to_owned();
    // Trustees 1 and 2 run the ceremony; trustee 3 never shows up.
    let running: Vec<_> = (1..=2u32).map(|n| panel.start_ceremony(n)).collect();
    let status = || urna(&["admin", "--dev", &panel.dev, "status", &election]);
    let started = Instant::now();
    while status().matches("registered, dealt").count() < 2 {
        assert!(started.elapsed() < Duration::from_secs(60), "{}", status());
        std::thread::sleep(Duration::from_millis(200));
    }
    let closed = urna(&["admin", "--dev", &panel.dev, "close-round", &election]);
    assert!(closed.contains("Complaints"), "{closed}");
    // The two check their shares and confirm: the key is fixed without trustee 3.
    for process in running {
        let printed = Panel::finish(process);
        assert!(printed.contains("done"), "{printed}");
    }
    dev.wait_for("open");
    let shown = status();
    assert!(shown.contains("no dealing"), "{shown}");
}
