//! `urna serve` on PostgreSQL (and the machine's Redis), replicas as separate
//! processes of the real binary over one throwaway database: an election is created,
//! its key ceremony run by three `urna trustee` processes, its roll imported and its
//! polls opened with `urna admin`; a voter casts through the first process, a second
//! `urna serve casting` process joins and a voter casts through it, both receipts
//! check against the one board key; then the first process is killed (SIGKILL) and a
//! ballot cast through the second still gets a receipt under that key (the board's
//! writer lease moved). Skipped loudly without PostgreSQL (failed under `CI=true`).

mod support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Serve, urna};

use urna_sdk::{Choice, Choices, Endpoints, Tls, TrustRoot, Voter};
use urna_store::testing::PgTestDb;

/// The club election, id `id`, its polls open from 2026 to the end of the century.
fn manifest(dir: &Path, id: &str) -> PathBuf {
    let yaml: String = include_str!("../../../examples/club-election.yaml")
        .replace("id: club-agm-2026", &format!("id: {id}"))
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
    let path = dir.join("manifest.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
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

/// The configuration both processes share (each adds its listeners).
fn common_config(dir: &Path, db: &PgTestDb) -> String {
    let token = dir.join("admin-token");
    std::fs::write(&token, "a-test-admin-token-of-enough-length\n").unwrap();
    let key = dir.join("session-key");
    std::fs::write(&key, format!("{}\n", "5a".repeat(32))).unwrap();
    let redis = std::env::var("URNA_TEST_REDIS")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    // JSON strings are YAML strings: the connection string is quoted whatever it holds.
    let quoted = |s: &str| serde_json::Value::from(s).to_string();
    format!(
        "store:\n  backend: postgres\n  url: {}\n  pool: 4\n\
         redis:\n  url: {}\n  prefix: {}\n\
         session_key_file: {}\nadmin_token_file: {}\n\
         login_limits:\n  address_attempts: 100000\n",
        quoted(db.url()),
        quoted(&redis),
        quoted(db.name()),
        quoted(key.to_str().unwrap()),
        quoted(token.to_str().unwrap()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_one_database_cast_and_the_board_survives_a_kill() {
    let Some(db) = PgTestDb::create().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let common = common_config(dir.path(), &db);
    let mut first = Serve::start(dir.path(), "first", "all", &common);

    // The admin and the trustees reach the first process through its connection file.
    let election = format!("replicas-{}", std::process::id());
    let connection = first.connection_file(dir.path(), &election);
    let conn = connection.to_str().unwrap();
    let manifest = manifest(dir.path(), &election);
    let created = urna(&["admin", "--dev", conn, "create", manifest.to_str().unwrap()]);
    assert!(created.contains(&election), "{created}");

    support::ceremony(dir.path(), conn);

    let roll = dir.path().join("roll.csv");
    std::fs::write(
        &roll,
        "voter_id,ballot_style\nv001,members\nv002,members\nv003,members\n",
    )
    .unwrap();
    let codes_file = dir.path().join("codes.csv");
    urna(&[
        "admin",
        "--dev",
        conn,
        "import-roll",
        &election,
        roll.to_str().unwrap(),
        "--codes-out",
        codes_file.to_str().unwrap(),
    ]);
    urna(&["admin", "--dev", conn, "open", "--test", &election]);
    let opened = urna(&["admin", "--dev", conn, "open", &election]);
    assert!(opened.contains("Open"), "{opened}");
    let codes: BTreeMap<String, String> = std::fs::read_to_string(&codes_file)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(v, c)| (v.to_owned(), c.to_owned()))
        .collect();

    // v001 casts through the first process; its board key is pinned from then on.
    let endpoints = |login: &Serve, cast: &Serve| Endpoints {
        auth: login.ports.url("auth").parse().unwrap(),
        issuance: login.ports.url("issuance").parse().unwrap(),
        casting: cast.ports.url("casting").parse().unwrap(),
        board: cast.ports.url("board").parse().unwrap(),
    };
    let via_first = Voter::connect(&endpoints(&first, &first), &Tls::Plaintext, &election).unwrap();
    let on_first = via_first
        .fetch_election(&TrustRoot::FirstUse)
        .await
        .unwrap();
    let pinned = TrustRoot::Pinned(on_first.board_key().to_string());
    let ballot_of = |voter: &'static str| {
        let via_first = via_first.clone();
        let on_first = on_first.clone();
        let code = codes[voter].clone();
        async move {
            let session = via_first.login(voter, &code).await.unwrap();
            let style = via_first
                .ballot_style(&on_first, &session.style_id)
                .await
                .unwrap();
            let credential = via_first.credential(&on_first, &session).await.unwrap();
            style.encrypt(&credential, &members_choices()).unwrap().0
        }
    };
    let first_ballot = ballot_of("v001").await;
    let first_receipt = via_first.cast(&on_first, &first_ballot).await.unwrap();

    // A second casting process on the same database, its own listeners.
    let mut second = Serve::start(dir.path(), "second", "casting", &common);
    let via_second =
        Voter::connect(&endpoints(&first, &second), &Tls::Plaintext, &election).unwrap();
    let on_second = via_second.fetch_election(&pinned).await.unwrap();
    let second_ballot = ballot_of("v002").await;
    let second_receipt = via_second.cast(&on_second, &second_ballot).await.unwrap();
    assert!(second_receipt.leaf_index > first_receipt.leaf_index);
    for receipt in [&first_receipt, &second_receipt] {
        via_first.recheck(&on_first, receipt).await.unwrap();
        via_second.recheck(&on_second, receipt).await.unwrap();
    }

    // v003 gets a credential while auth runs and first challenges an encryption
    // through the second process (a follower: the spoiled ballot goes through the
    // store's entry outbox to the first's poster); then the first process dies
    // without a drain; the second takes the board over and casts under the same key.
    let session = via_first.login("v003", &codes["v003"]).await.unwrap();
    let style = via_first
        .ballot_style(&on_first, &session.style_id)
        .await
        .unwrap();
    let credential = via_first.credential(&on_first, &session).await.unwrap();
    let (challenged, opening) = style.encrypt(&credential, &members_choices()).unwrap();
    let spoiled = via_second
        .challenge(&on_second, &style, &challenged, &opening)
        .await
        .unwrap();
    assert!(spoiled.leaf_index > second_receipt.leaf_index);
    let third_ballot = style.encrypt(&credential, &members_choices()).unwrap().0;
    first.kill();
    let third_receipt = via_second.cast(&on_second, &third_ballot).await.unwrap();
    assert!(third_receipt.leaf_index > second_receipt.leaf_index);
    let after = Voter::connect(&endpoints(&second, &second), &Tls::Plaintext, &election)
        .unwrap()
        .fetch_election(&pinned)
        .await
        .unwrap();
    assert!(third_receipt.leaf_index > spoiled.leaf_index);
    for receipt in [&first_receipt, &second_receipt, &spoiled, &third_receipt] {
        via_second.recheck(&after, receipt).await.unwrap();
    }
    // The second process said what it runs on, followed, then took the board over.
    let log = second.log();
    assert!(
        log.contains("backend=Postgres") && log.contains("redis=true"),
        "{log}"
    );
    assert!(log.contains("leading=false"), "{log}");
    assert!(log.contains("took over sequencing the board"), "{log}");
    assert!(second.running(), "the second process is still up");
    drop(second);
}

#[test]
fn serve_refuses_postgres_without_a_session_key_before_binding() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("admin-token");
    std::fs::write(&token, "a-test-admin-token-of-enough-length\n").unwrap();
    // A port that is bound already: the process must fail on the configuration, not
    // on the listener (and never reach the database, which does not exist).
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = dir.path().join("urna.yaml");
    std::fs::write(
        &config,
        format!(
            "store:\n  backend: postgres\n  url: \"host=127.0.0.1 port=1 dbname=none\"\n\
             admin_token_file: {}\nlisten:\n  auth: 127.0.0.1:{port}\n",
            serde_json::Value::from(token.to_str().unwrap())
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_urna"))
        .args(["serve", "all", "--insecure-plaintext", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("session_key_file is required"), "{stderr}");
}
