//! The voter's path end to end through the real binary: `urna dev` runs every service
//! on its own TLS listener (127.0.0.1, ephemeral ports) over the embedded store, and
//! the tests drive it only through the SDK and raw gRPC, as a voter or an attacker
//! would. Each test captures the services' logs and checks that no voter id appears
//! beside anything about a ballot.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject as _;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use urna_proto::v1;
use urna_proto::v1::casting_client::CastingClient;
use urna_proto::v1::tally_client::TallyClient;
use urna_sdk::{
    Choice, Choices, Election, Endpoints, Error, Style, Tls, TrustRoot, Voter, VoterCredential,
};

/// A running `urna dev`.
struct Dev {
    child: Child,
    data: PathBuf,
    info: serde_json::Value,
}

impl Dev {
    /// Starts `urna dev` on `data` (continuing an earlier run's election if any) and
    /// waits until it has written its dev.json.
    fn start(data: &Path, manifest: Option<&Path>) -> Self {
        Self::start_with(data, manifest, &[])
    }

    /// [`Dev::start`] with more environment variables.
    fn start_with(data: &Path, manifest: Option<&Path>, env: &[(&str, &str)]) -> Self {
        let info_file = data.join("dev.json");
        let _ = std::fs::remove_file(&info_file);
        std::fs::create_dir_all(data).unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.join("services.log"))
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_urna"));
        command
            .args(["dev", "--port-base", "0", "--voters", "12", "--data"])
            .arg(data)
            .env(
                "RUST_LOG",
                "debug,h2=info,hyper=info,tower=info,rustls=info",
            )
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(manifest) = manifest {
            command.arg("--manifest").arg(manifest);
        }
        let mut child = command.spawn().unwrap();
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read(&info_file)
                && let Ok(info) = serde_json::from_slice(&text)
            {
                return Self {
                    child,
                    data: data.to_owned(),
                    info,
                };
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("urna dev exited with {status}: {}", self::log(data));
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "urna dev did not start: {}",
                self::log(data)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the services as Ctrl-C would (graceful drain) and waits for the exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "urna dev exited with {exit}");
    }

    /// A plain HTTP/1.1 GET to the public API over TLS (trusting the dev CA); the whole
    /// response as text.
    async fn https_get(&self, path: &str) -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let url = self.url("http");
        let addr = url.trim_start_matches("https://").to_owned();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&self.ca()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        let _ = tls.read_to_end(&mut response).await;
        String::from_utf8_lossy(&response).into_owned()
    }

    /// Runs `urna admin --dev dev.json <args>` and returns what it printed.
    fn admin(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_urna"))
            .arg("admin")
            .arg("--dev")
            .arg(self.data.join("dev.json"))
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "urna admin {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    fn url(&self, service: &str) -> String {
        self.info[service].as_str().unwrap().to_owned()
    }

    fn election(&self) -> String {
        self.url("election")
    }

    fn ca(&self) -> Vec<u8> {
        std::fs::read(self.info["ca"].as_str().unwrap()).unwrap()
    }

    fn voter(&self) -> Voter {
        let endpoints = Endpoints {
            auth: self.url("auth").parse().unwrap(),
            issuance: self.url("issuance").parse().unwrap(),
            casting: self.url("casting").parse().unwrap(),
            board: self.url("board").parse().unwrap(),
        };
        Voter::connect(&endpoints, &Tls::Ca(self.ca()), &self.election()).unwrap()
    }

    /// A voter of the dev election logged in as `id` with its voting code, with the
    /// election, its ballot style and its credential.
    async fn logged_in(&self, id: &str) -> (Voter, Election, Style, VoterCredential) {
        let voter = self.voter();
        let election = voter.fetch_election(&self.trust()).await.unwrap();
        let session = voter.login(id, &self.codes()[id]).await.unwrap();
        let style = voter
            .ballot_style(&election, &session.style_id)
            .await
            .unwrap();
        let credential = voter.credential(&election, &session).await.unwrap();
        (voter, election, style, credential)
    }

    fn trust(&self) -> TrustRoot {
        TrustRoot::Pinned(self.url("board_key"))
    }

    /// The voting codes `urna dev` wrote, by voter id.
    fn codes(&self) -> BTreeMap<String, String> {
        std::fs::read_to_string(self.data.join("voting-codes.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(','))
            .map(|(v, c)| (v.to_owned(), c.to_owned()))
            .collect()
    }

    /// A raw gRPC channel to a service, over TLS with the dev CA.
    async fn channel(&self, service: &str) -> Channel {
        Endpoint::from_shared(self.url(service))
            .unwrap()
            .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(self.ca())))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log(data: &Path) -> String {
    std::fs::read_to_string(data.join("services.log")).unwrap_or_default()
}

/// No log line names a voter next to anything about a ballot, and a voter id appears
/// only on lines about a refused login (so successes, which a shared log would place
/// next to casting's lines, name nobody).
fn assert_no_voter_beside_ballots(data: &Path, voters: &[&str], codes: &[String]) {
    let log = log(data);
    assert!(!log.is_empty(), "no logs were captured");
    for line in log.lines() {
        let lower = line.to_ascii_lowercase();
        let about_ballot = ["ballot", "tracking", "cast", "receipt", "nullifier"]
            .iter()
            .any(|w| lower.contains(w))
            || codes.iter().any(|c| line.contains(c.as_str()));
        let refusal = lower.contains("login failed") || lower.contains("refused");
        for voter in voters {
            let named = line.contains(&format!("\"{voter}\""));
            assert!(
                !named || (refusal && !about_ballot),
                "a log line names voter {voter}: {line}"
            );
        }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_voter_casts_challenges_recasts_and_checks_the_receipt_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(dir.path(), None);
    let codes = dev.codes();
    let voter = dev.voter();
    let election = voter.fetch_election(&dev.trust()).await.unwrap();
    assert_eq!(election.id(), dev.election());

    // v001 has the members' style: a referendum, a plurality, an approval and a score
    // contest — every homomorphic kind the club election has.
    let session = voter.login("v001", &codes["v001"]).await.unwrap();
    let style = voter
        .ballot_style(&election, &session.style_id)
        .await
        .unwrap();
    assert_eq!(style.contests().len(), 4);
    let credential = voter.credential(&election, &session).await.unwrap();

    // Benaloh challenge: the spoiled ballot is published opened and never counts.
    let (challenged, opening) = style.encrypt(&credential, &members_choices()).unwrap();
    let spoiled = voter
        .challenge(&election, &style, &challenged, &opening)
        .await
        .unwrap();
    assert!(spoiled.spoiled);

    let (ballot, _) = style.encrypt(&credential, &members_choices()).unwrap();
    let receipt = voter.cast(&election, &ballot).await.unwrap();
    assert!(!receipt.spoiled && !receipt.supersedes_previous);
    assert_eq!(receipt.tracking_code, ballot.tracking_code());
    // A spoiled ballot can never be cast.
    assert!(voter.cast(&election, &challenged).await.is_err());
    // The same bytes again: the original receipt (an idempotent retry).
    let again = voter.cast(&election, &ballot).await.unwrap();
    assert_eq!(
        (again.leaf_index, again.tracking_code),
        (receipt.leaf_index, receipt.tracking_code)
    );
    // last-counts: a new ballot with the same credential supersedes the first.
    let mut changed = members_choices();
    changed.insert("chair".into(), Choice::Marks(vec!["ada".into()]));
    let (second, _) = style.encrypt(&credential, &changed).unwrap();
    let superseding = voter.cast(&election, &second).await.unwrap();
    assert!(superseding.supersedes_previous);
    assert!(superseding.leaf_index > receipt.leaf_index);

    // A junior (style without the referendum) votes too.
    let junior = codes
        .keys()
        .find(|v| v[1..].parse::<u32>().is_ok_and(|n| n.is_multiple_of(5)))
        .unwrap()
        .clone();
    let junior_session = voter.login(&junior, &codes[&junior]).await.unwrap();
    assert_eq!(junior_session.style_id, "juniors");
    let junior_style = voter
        .ballot_style(&election, &junior_session.style_id)
        .await
        .unwrap();
    let junior_credential = voter.credential(&election, &junior_session).await.unwrap();
    let mut choices = members_choices();
    choices.remove("boathouse");
    let (junior_ballot, _) = junior_style.encrypt(&junior_credential, &choices).unwrap();
    voter.cast(&election, &junior_ballot).await.unwrap();

    // The first receipt is still included in the newer tree, consistently.
    let rechecked = voter.recheck(&election, &receipt).await.unwrap();
    assert!(rechecked.checkpoint.size() > rechecked.previous.size());

    // The public HTTP API, over TLS with the same CA: the receipt's ballot is there.
    let short = receipt.short_code.clone();
    let view = dev
        .https_get(&format!("/api/v1/elections/{}", dev.election()))
        .await;
    assert!(
        view.starts_with("HTTP/1.1 200") && view.contains("club-agm-2026"),
        "{view}"
    );
    let verify = dev
        .https_get(&format!(
            "/api/v1/bulletin-board/verify?election={}&receipt={short}",
            dev.election()
        ))
        .await;
    assert!(verify.starts_with("HTTP/1.1 200"), "{verify}");
    // The tally service listens beside them, over TLS, for the trustees.
    let mut tally = TallyClient::new(dev.channel("tally").await);
    let unknown = tally
        .get_ceremony_state(v1::GetCeremonyStateRequest {
            election_id: "no-such-election".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let missing = dev.https_get("/api/v1/elections/no-such-election").await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

    // Restart: every acknowledged ballot is kept and the board only grew.
    dev.stop();
    let dev = Dev::start(dir.path(), None);
    let voter = dev.voter();
    let election = voter.fetch_election(&dev.trust()).await.unwrap();
    for kept in [&receipt, &superseding, &spoiled] {
        let rechecked = voter.recheck(&election, kept).await.unwrap();
        assert!(rechecked.checkpoint.size() >= kept_size(&rechecked.previous));
    }
    // The credential issued before the restart still casts (last-counts).
    let (third, _) = style.encrypt(&credential, &members_choices()).unwrap();
    assert!(
        voter
            .cast(&election, &third)
            .await
            .unwrap()
            .supersedes_previous
    );
    dev.stop();

    let voters: Vec<&str> = codes.keys().map(String::as_str).collect();
    let tracking: Vec<String> = [&receipt, &superseding, &spoiled]
        .iter()
        .flat_map(|r| [hex(&r.tracking_code), r.short_code.clone()])
        .collect();
    assert_no_voter_beside_ballots(dir.path(), &voters, &tracking);
}

fn kept_size(checkpoint: &urna_board::Checkpoint) -> u64 {
    checkpoint.size()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The club election with `revoting: once`.
fn once_manifest(dir: &Path) -> PathBuf {
    let yaml = include_str!("../../../examples/club-election.yaml")
        .replace("revoting: last-counts", "revoting: once")
        .replace("id: club-agm-2026", "id: club-once-2026");
    // Polls open from the start of 2026 to the end of the century.
    let yaml: String = yaml
        .lines()
        .map(|l| {
            if l.starts_with("start:") {
                "start: 2026-01-01T00:00:00Z".to_owned()
            } else if l.starts_with("end:") {
                "end: 2099-12-31T00:00:00Z".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("once.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn once_means_one_ballot_per_credential_and_bad_input_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = once_manifest(dir.path());
    let data = dir.path().join("data");
    let dev = Dev::start(&data, Some(&manifest));
    let codes = dev.codes();
    let (voter, election, style, credential) = dev.logged_in("v001").await;

    // 200 different ballots of one credential, cast at once: exactly one is accepted,
    // every other is refused as a used credential.
    let ballots: Vec<_> = (0..200)
        .map(|_| style.encrypt(&credential, &members_choices()).unwrap().0)
        .collect();
    let tasks: Vec<_> = ballots
        .iter()
        .map(|ballot| {
            let voter = voter.clone();
            let election = election.clone();
            let ballot = ballot.clone();
            tokio::spawn(async move { voter.cast(&election, &ballot).await })
        })
        .collect();
    let mut accepted = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(receipt) => accepted.push(receipt),
            Err(Error::AlreadyCast(_)) => refused += 1,
            Err(e) => panic!("unexpected outcome: {e}"),
        }
    }
    assert_eq!((accepted.len(), refused), (1, 199));
    let winner = &accepted[0];
    let winning = ballots
        .iter()
        .find(|b| b.tracking_code() == winner.tracking_code)
        .unwrap();
    // Its identical retry gets the original receipt.
    let retry = voter.cast(&election, winning).await.unwrap();
    assert_eq!(retry.leaf_index, winner.leaf_index);

    // Raw gRPC, as an attacker would send it: each refusal is precise and stores
    // nothing.
    let mut casting = CastingClient::new(dev.channel("casting").await);
    let size_before = voter
        .recheck(&election, winner)
        .await
        .unwrap()
        .checkpoint
        .size();
    let cast = |election_id: &str, ballot: Vec<u8>| v1::CastBallotRequest {
        election_id: election_id.to_owned(),
        ballot,
    };
    let id = dev.election();
    let loser = ballots
        .iter()
        .find(|b| b.tracking_code() != winner.tracking_code)
        .unwrap();
    let mut tampered = winning.to_bytes();
    let last = tampered.len() - 100;
    tampered[last] ^= 1;
    let cases: Vec<(&str, v1::CastBallotRequest, &[Code])> = vec![
        (
            "malformed",
            cast(&id, b"not a ballot".to_vec()),
            &[Code::InvalidArgument],
        ),
        ("empty", cast(&id, Vec::new()), &[Code::InvalidArgument]),
        (
            "unknown election",
            cast("no-such-election", winning.to_bytes()),
            &[Code::NotFound],
        ),
        ("tampered", cast(&id, tampered), &[Code::InvalidArgument]),
        (
            "oversize",
            cast(&id, vec![7; 200 * 1024]),
            &[Code::ResourceExhausted, Code::InvalidArgument],
        ),
        (
            "another ballot of the spent credential",
            cast(&id, loser.to_bytes()),
            &[Code::AlreadyExists],
        ),
    ];
    for (what, request, codes_allowed) in cases {
        let status = casting.cast_ballot(request).await.unwrap_err();
        assert!(
            codes_allowed.contains(&status.code()),
            "{what}: got {:?} {}",
            status.code(),
            status.message()
        );
    }
    // A wrong code does not log in; the roll is untouched.
    assert!(voter.login("v002", "AAAA-AAAA-AAAA-AAAA").await.is_err());
    let size_after = voter
        .recheck(&election, winner)
        .await
        .unwrap()
        .checkpoint
        .size();
    assert_eq!(
        size_before, size_after,
        "a refused request changed the board"
    );

    // The admin closes the polls with `urna admin`; a ballot after that is refused.
    let late_session = voter.login("v002", &codes["v002"]).await.unwrap();
    let late_credential = voter.credential(&election, &late_session).await.unwrap();
    let late_style = voter
        .ballot_style(&election, &late_session.style_id)
        .await
        .unwrap();
    let mut late_choices = members_choices();
    if late_style.contests().len() == 3 {
        late_choices.remove("boathouse");
    }
    let (late, _) = late_style.encrypt(&late_credential, &late_choices).unwrap();
    let status = dev.admin(&["status", &id]);
    assert!(
        status.contains("Open") && status.contains("ballots cast        1"),
        "{status}"
    );
    // The tally service's view: the ceremony's round, k of n and every trustee.
    assert!(
        status.contains("key ceremony        ")
            && status.contains("2 of 3 trustees")
            && status.contains("trustee 3"),
        "{status}"
    );
    assert!(dev.admin(&["close", &id]).contains("Closed"));
    assert!(matches!(
        voter.cast(&election, &late).await,
        Err(Error::Closed(_))
    ));
    let status = dev.admin(&["status", &id]);
    assert!(
        status.contains("Closed") && status.contains("ballots cast        1"),
        "{status}"
    );
    // Once closed, the tally is aggregated and its decryption task shown.
    assert!(
        status.contains("tally record        board entry")
            && status.contains("answers each needed"),
        "{status}"
    );
    dev.stop();

    let voters: Vec<&str> = codes.keys().map(String::as_str).collect();
    assert_no_voter_beside_ballots(&data, &voters, &[hex(&winner.tracking_code)]);
}

/// `GET path` over plain HTTP/1.1 (the ops listener has no TLS): status and body.
async fn plain_get(url: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = url.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The value of the sample `line` starts with (a metric name and its labels).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_ops_listener_reports_health_readiness_and_metrics() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    let check = |service: &str| HealthCheckRequest {
        service: service.to_owned(),
    };
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(dir.path(), None);
    let ops = dev.url("ops");
    assert!(ops.starts_with("http://"), "{ops}");
    assert_eq!(plain_get(&ops, "/livez").await, (200, "live\n".to_owned()));

    // Readiness over gRPC on the ops listener (plain h2c, as Kubernetes probes it):
    // watched until SERVING, bounded.
    let channel = Endpoint::from_shared(ops.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let mut watch = health.watch(check("")).await.unwrap().into_inner();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(update) = watch.message().await.unwrap() {
            if update.status == ServingStatus::Serving as i32 {
                return;
            }
        }
        panic!("the health stream ended");
    })
    .await
    .expect("the process never became SERVING");
    for service in [
        "urna.v1.Auth",
        "urna.v1.Issuance",
        "urna.v1.Casting",
        "urna.v1.Board",
        "urna.v1.Admin",
        "urna.v1.Tally",
    ] {
        let answer = health.check(check(service)).await.unwrap().into_inner();
        assert_eq!(answer.status, ServingStatus::Serving as i32, "{service}");
    }
    let unknown = health.check(check("urna.v1.Nothing")).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(
        plain_get(&ops, "/readyz").await,
        (200, "ready\n".to_owned())
    );
    assert_eq!(plain_get(&ops, "/nothing").await.0, 404);

    // The same health service beside a tier, on its own TLS listener.
    let mut beside = HealthClient::new(dev.channel("casting").await);
    let answer = beside
        .check(check("urna.v1.Casting"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.status, ServingStatus::Serving as i32);

    // One ballot cast, then the same bytes again, then a cast for no election.
    let (voter, election, style, credential) = dev.logged_in("v001").await;
    let (ballot, _) = style.encrypt(&credential, &members_choices()).unwrap();
    voter.cast(&election, &ballot).await.unwrap();
    voter.cast(&election, &ballot).await.unwrap();
    let mut casting = CastingClient::new(dev.channel("casting").await);
    let refused = casting
        .cast_ballot(v1::CastBallotRequest {
            election_id: "no-such-election".to_owned(),
            ballot: vec![1, 2, 3],
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);

    let (status, metrics) = plain_get(&ops, "/metrics").await;
    assert_eq!(status, 200);
    let count = |series: &str| {
        sample(&metrics, series).unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
    };
    assert_eq!(
        count("urna_casting_ballots_total{outcome=\"accepted\"}"),
        1.0
    );
    assert_eq!(count("urna_casting_ballots_total{outcome=\"repeat\"}"), 1.0);
    assert_eq!(
        count("urna_casting_ballots_total{outcome=\"unknown_election\"}"),
        1.0
    );
    let calls = "urna_rpc_duration_seconds_count{rpc_grpc_status_code=\"0\",rpc_method=\"CastBallot\",rpc_service=\"urna.v1.Casting\"}";
    assert_eq!(count(calls), 2.0);
    let refusals = "urna_rpc_duration_seconds_count{rpc_grpc_status_code=\"5\",rpc_method=\"CastBallot\",rpc_service=\"urna.v1.Casting\"}";
    assert_eq!(count(refusals), 1.0);
    assert!(count("urna_casting_verify_batch_count") >= 1.0);
    // The ballot reached the board through the poster.
    assert!(count("urna_board_append_entries_sum") >= 1.0);
    assert!(count("urna_board_append_duration_seconds_count") >= 1.0);
    // The embedded store has no pool and dev no Redis: neither is reported.
    assert!(!metrics.contains("urna_store_pool"), "{metrics}");
    assert!(!metrics.contains("urna_redis"), "{metrics}");
    // Nothing in the metrics names the voter or the ballot.
    assert!(!metrics.contains("v001"));
    assert!(!metrics.contains(&hex(&ballot.tracking_code())[..16]));
    dev.stop();
}

/// What an OTLP collector received: spans and metric names.
#[derive(Clone, Default)]
struct Collector {
    spans: std::sync::Arc<std::sync::Mutex<Vec<opentelemetry_proto::tonic::trace::v1::Span>>>,
    metrics: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceService
    for Collector
{
    async fn export(
        &self,
        request: tonic::Request<
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
        >,
    ) -> Result<
        tonic::Response<
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse,
        >,
        tonic::Status,
    > {
        let spans = request
            .into_inner()
            .resource_spans
            .into_iter()
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans);
        self.spans.lock().unwrap().extend(spans);
        Ok(tonic::Response::new(Default::default()))
    }
}

#[tonic::async_trait]
impl opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsService
    for Collector
{
    async fn export(
        &self,
        request: tonic::Request<
            opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
        >,
    ) -> Result<
        tonic::Response<
            opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse,
        >,
        tonic::Status,
    > {
        let names = request
            .into_inner()
            .resource_metrics
            .into_iter()
            .flat_map(|r| r.scope_metrics)
            .flat_map(|s| s.metrics)
            .map(|m| m.name);
        self.metrics.lock().unwrap().extend(names);
        Ok(tonic::Response::new(Default::default()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn traces_and_metrics_reach_an_otlp_collector() {
    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsServiceServer;
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
    // A collector's OTLP/gRPC services on a loopback port of the test's own.
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .add_service(MetricsServiceServer::new(collector.clone()))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );

    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start_with(
        dir.path(),
        None,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())],
    );
    let (voter, election, style, credential) = dev.logged_in("v001").await;
    let (ballot, _) = style.encrypt(&credential, &members_choices()).unwrap();
    voter.cast(&election, &ballot).await.unwrap();
    // A graceful stop flushes both exports.
    dev.stop();

    let spans = collector.spans.lock().unwrap().clone();
    let cast = spans
        .iter()
        .find(|s| s.name == "urna.v1.Casting/CastBallot")
        .unwrap_or_else(|| panic!("no CastBallot span among {} spans", spans.len()));
    // Each stage of the cast is a span in the call's trace, under the call.
    let mut under = vec![cast.span_id.clone()];
    let mut stages = Vec::new();
    while let Some(parent) = under.pop() {
        for child in spans.iter().filter(|s| s.parent_span_id == parent) {
            assert_eq!(child.trace_id, cast.trace_id);
            stages.push(child.name.clone());
            under.push(child.span_id.clone());
        }
    }
    stages.sort();
    assert_eq!(stages, ["board", "commit", "decode", "nullifier", "verify"]);
    // Nothing exported names the voter (a ballot's short tracking code, public on
    // the board, may be in a log event; the stage spans have no fields).
    for span in &spans {
        let text = format!("{span:?}");
        assert!(!text.contains("v001"), "{text}");
    }
    let metrics = collector.metrics.lock().unwrap().clone();
    for name in [
        "urna.casting.ballots",
        "urna.rpc.duration",
        "urna.board.append.duration",
    ] {
        assert!(
            metrics.iter().any(|m| m == name),
            "{name} not in {metrics:?}"
        );
    }
}
