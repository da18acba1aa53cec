//! The HTTP API on a real listener, against a real SQLite store with real keys, spoken
//! to with plain HTTP/1.1 over a TCP stream: a voter's whole path (login, signed
//! style, blind credential, cast, receipt checks), the observer's reads, and the
//! error mapping.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};
use urna_auth::{Auth, AuthConfig, LimitConfig};
use urna_board::{SequencerConfig, TreeHash, verify_inclusion};
use urna_casting::Casting;
use urna_crypto::credential::credential_message;
use urna_crypto::{
    BlindSignature, BlindVerifyingKey, Credential, CredentialSecret, short_tracking_code,
};
use urna_http::{Api, router};
use urna_issuance::Issuance;
use urna_service::testing::{PUBLIC_NAME, TestElection};
use urna_service::{Boards, Elections, SystemClock};
use urna_store::{CodeHash, CodeParams, ElectionState, RollEntry, RollStore, VotingCode};

/// The time auth sees (Unix seconds).
const AUTH_TIME: u64 = 1_800_000_000;

struct Fixture {
    election: TestElection,
    addr: SocketAddr,
    code: String,
}

impl Fixture {
    /// The club election in Draft with voter `alice` (style `members`), and the API
    /// on 127.0.0.1:0.
    async fn new() -> Self {
        Self::with_limits(LimitConfig::default()).await
    }

    /// As [`new`](Self::new), with the given login limits.
    async fn with_limits(limits: LimitConfig) -> Self {
        let election = TestElection::new().await;
        let store = election.store();
        let params = CodeParams::new(64, 1, 1).unwrap();
        let mut rng = rand::rng();
        let code = VotingCode::generate(&mut rng);
        let entry = RollEntry {
            voter: "alice".into(),
            style: "members".into(),
            code: CodeHash::new(&code, params, &mut rng).unwrap(),
        };
        store.import_roll(election.id(), vec![entry]).await.unwrap();
        let config = AuthConfig {
            code_params: params,
            limits,
            ..AuthConfig::default()
        };
        let boards = Boards::new(store.clone(), PUBLIC_NAME, SequencerConfig::default());
        let api = Api {
            // A stopped clock for auth: rate-limit windows never pass during a test.
            auth: Auth::new(store.clone(), config, Arc::new(|| AUTH_TIME)),
            issuance: Issuance::new(store.clone()),
            casting: Casting::new(
                Elections::new(store.clone(), PUBLIC_NAME),
                boards.clone(),
                SystemClock,
            ),
            boards,
            store,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(api).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            election,
            addr,
            code: code.display().to_string(),
        }
    }

    async fn get(&self, path: &str) -> Response {
        request((self.addr, LOCALHOST), "GET", path, None, &[]).await
    }

    /// A login attempt with a wrong code from the local address `from`.
    async fn wrong_login_from(&self, from: IpAddr) -> Response {
        let body = json!({"election_id": self.election.id(), "voter_id": "bob", "voting_code": "0000-0000-0000-0000"});
        let body = serde_json::to_vec(&body).unwrap();
        let path = "/api/v1/auth/voter-login";
        request((self.addr, from), "POST", path, Some(&body), &[]).await
    }

    async fn post(&self, path: &str, body: &Value, bearer: Option<&str>) -> Response {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("Authorization", a)])
            .unwrap_or_default();
        let body = serde_json::to_vec(body).unwrap();
        request((self.addr, LOCALHOST), "POST", path, Some(&body), &headers).await
    }

    async fn login(&self) -> Value {
        let body = json!({"election_id": self.election.id(), "voter_id": "alice", "voting_code": self.code});
        let r = self.post("/api/v1/auth/voter-login", &body, None).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }
}

struct Response {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts an error response: the status and the fixed message.
    fn assert_error(&self, status: u16, message: &str) {
        assert_eq!(
            (self.status, self.json()),
            (status, json!({ "error": message })),
            "{}",
            self.text()
        );
    }
}

/// The client address of ordinary requests.
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// One HTTP/1.1 request on a new connection (`Connection: close`) from the local
/// address `from` (any of 127.0.0.0/8), read to the end.
async fn request(
    (addr, from): (SocketAddr, IpAddr),
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    headers: &[(&str, &str)],
) -> Response {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.unwrap_or_default()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut content_type = String::new();
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = value.trim().to_owned(),
            "transfer-encoding" => chunked = value.trim() == "chunked",
            _ => {}
        }
    }
    let mut body = raw[split + 4..].to_vec();
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        content_type,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 4 + size..];
    }
}

fn b64(value: &Value) -> Vec<u8> {
    STANDARD.decode(value.as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voter_casts_through_the_api_and_checks_the_receipt_on_the_board() {
    let f = Fixture::new().await;
    f.election.advance_to(ElectionState::Test).await;
    let id = f.election.id().to_owned();

    let session = f.login().await;
    assert_eq!(session["ballot_style_id"], "members");
    assert_eq!(
        b64(&session["election_fingerprint"]),
        f.election.fingerprint()
    );

    // The signed style: the signature covers the canonical bytes, the view matches.
    let style = f
        .get(&format!("/api/v1/elections/{id}/styles/members"))
        .await;
    assert_eq!(style.status, 200);
    let style = style.json();
    let key = VerifyingKey::from_bytes(&b64(&style["signing_key"]).try_into().unwrap()).unwrap();
    let signature = Signature::from_bytes(&b64(&style["signature"]).try_into().unwrap());
    let canonical = b64(&style["canonical_style"]);
    key.verify_strict(&canonical, &signature).unwrap();
    let document = urna_election::StyleDocument::decode(&canonical).unwrap();
    assert_eq!(style["style_id"], "members");
    assert_eq!(style["contests"][0]["id"], document.contests[0].id.as_str());
    assert_eq!(
        style["contests"].as_array().unwrap().len(),
        document.contests.len()
    );

    // A credential, blind-signed through the API as a browser would get it.
    let auth_key = f
        .get(&format!("/api/v1/elections/{id}/auth-key"))
        .await
        .json();
    assert_eq!(auth_key["modulus_bits"], 2048);
    let auth_key = BlindVerifyingKey::from_der(&b64(&auth_key["public_key_spki"])).unwrap();
    let mut rng = rand::rng();
    let secret = CredentialSecret::generate(&mut rng);
    let message =
        credential_message(&f.election.fingerprint(), "members", &secret.public_key()).unwrap();
    let (blinded, state) = auth_key.blind(&message, &mut rng).unwrap();
    let token = session["session_token"].as_str().unwrap();
    let body = json!({"blinded_message": STANDARD.encode(blinded.as_bytes())});
    let issued = f.post("/api/v1/ballots/token", &body, Some(token)).await;
    assert_eq!(issued.status, 200, "{}", issued.text());
    let blind = BlindSignature::from_bytes(b64(&issued.json()["blind_signature"]));
    let (signature, randomizer) = auth_key.finalize(&blind, &state, &message).unwrap();
    let credential = Credential {
        key: secret.public_key(),
        signature,
        randomizer,
    };
    let selections = f.election.selections("members");
    let ballot = f
        .election
        .ballot_with("members", credential, secret, &selections);

    // Cast: the receipt proves the ballot's entry is in the signed tree.
    let body = json!({"election_id": id, "ballot": STANDARD.encode(&ballot.bytes)});
    let cast = f.post("/api/v1/votes/cast", &body, None).await;
    assert_eq!(cast.status, 200, "{}", cast.text());
    let receipt = cast.json();
    assert_eq!(b64(&receipt["tracking_code"]), ballot.tracking_code);
    assert_eq!(
        receipt["short_code"],
        short_tracking_code(&ballot.tracking_code)
    );
    let entry = b64(&receipt["entry"]);
    let checkpoint = &receipt["checkpoint"];
    let proof: Vec<TreeHash> = receipt["inclusion_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| TreeHash::from_slice(&b64(h)).unwrap())
        .collect();
    let leaf = receipt["leaf_index"].as_u64().unwrap();
    let size = checkpoint["tree_size"].as_u64().unwrap();
    let root = TreeHash::from_slice(&b64(&checkpoint["root_hash"])).unwrap();
    verify_inclusion(&TreeHash::leaf(&entry), leaf, size, &proof, &root).unwrap();
    assert_eq!(
        checkpoint["origin"],
        format!("{PUBLIC_NAME}/{id}/test").as_str()
    );

    // The receipt again, by full and by short code as a voter types it.
    let full = URL_SAFE_NO_PAD.encode(ballot.tracking_code);
    let short = short_tracking_code(&ballot.tracking_code)
        .to_lowercase()
        .replace('-', "");
    for code in [full, short] {
        let r = f
            .get(&format!(
                "/api/v1/bulletin-board/verify?election={id}&receipt={code}"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["leaf_index"], leaf);
        assert_eq!(b64(&r.json()["entry"]), entry);
    }

    // What an observer reads.
    let list = f.get("/api/v1/elections").await.json();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["state"], "test");
    let detail = f.get(&format!("/api/v1/elections/{id}")).await.json();
    assert_eq!(detail["voters"], 1);
    assert_eq!(detail["credentials_issued"], 1);
    assert_eq!(b64(&detail["fingerprint"]), f.election.fingerprint());
    let head = detail["board"]["tree_size"].as_u64().unwrap();
    assert!(head > leaf);

    let note = f
        .get(&format!("/api/v1/elections/{id}/board/checkpoint"))
        .await;
    assert_eq!(note.status, 200);
    assert!(note.content_type.starts_with("text/plain"));
    assert!(
        note.text()
            .starts_with(&format!("{PUBLIC_NAME}/{id}/test\n"))
    );

    let entries = f
        .get(&format!(
            "/api/v1/elections/{id}/board/entries?start=0&end={head}"
        ))
        .await
        .json();
    let kinds: Vec<u64> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_u64().unwrap())
        .collect();
    assert_eq!(&kinds[..2], [1, 2]);
    assert_eq!(
        b64(&entries[usize::try_from(leaf).unwrap()]["entry"]),
        entry
    );

    let bundle = f
        .get(&format!(
            "/api/v1/elections/{id}/board/tile/entries/000.p/{head}"
        ))
        .await;
    assert_eq!(bundle.status, 200);
    assert_eq!(bundle.content_type, "application/octet-stream");
    assert!(bundle.body.windows(entry.len()).any(|w| w == entry));
    let missing = f
        .get(&format!("/api/v1/elections/{id}/board/tile/entries/001"))
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_have_fixed_messages_and_http_statuses() {
    let f = Fixture::new().await;
    let id = f.election.id().to_owned();
    let session = f.login().await;
    let token = session["session_token"].as_str().unwrap();
    let blinded = json!({"blinded_message": STANDARD.encode([1u8; 256])});

    // Draft: no credentials, no board.
    f.post("/api/v1/ballots/token", &blinded, Some(token))
        .await
        .assert_error(409, "election is not issuing credentials");
    f.get(&format!("/api/v1/elections/{id}/board/checkpoint"))
        .await
        .assert_error(409, "election has no board yet");
    f.election.advance_to(ElectionState::Test).await;

    let wrong =
        json!({"election_id": id, "voter_id": "alice", "voting_code": "0000-0000-0000-0000"});
    f.post("/api/v1/auth/voter-login", &wrong, None)
        .await
        .assert_error(401, "invalid credentials");
    f.post("/api/v1/ballots/token", &blinded, None)
        .await
        .assert_error(401, "invalid or expired session");
    let short = json!({"blinded_message": STANDARD.encode([1u8; 255])});
    f.post("/api/v1/ballots/token", &short, Some(token))
        .await
        .assert_error(400, "blinded message length does not match the key");
    f.post(
        "/api/v1/votes/cast",
        &json!({"election_id": id, "ballot": "AAAA"}),
        None,
    )
    .await
    .assert_error(400, "malformed ballot");
    f.post("/api/v1/votes/cast", &json!({"election_id": id}), None)
        .await
        .assert_error(400, "malformed request body");
    let huge = json!({"election_id": id, "ballot": STANDARD.encode(vec![0u8; 128 * 1024])});
    f.post("/api/v1/votes/cast", &huge, None)
        .await
        .assert_error(413, "request too large");

    f.get("/api/v1/elections/no-such-election")
        .await
        .assert_error(404, "unknown election");
    f.get(&format!("/api/v1/elections/{id}/styles/seniors"))
        .await
        .assert_error(404, "ballot style not found");
    f.get(&format!(
        "/api/v1/elections/{id}/board/entries?start=5&end=5"
    ))
    .await
    .assert_error(400, "end must be 1 to 256 past start");
    let unknown = URL_SAFE_NO_PAD.encode([7u8; 32]);
    f.get(&format!(
        "/api/v1/bulletin-board/verify?election={id}&receipt={unknown}"
    ))
    .await
    .assert_error(404, "no ballot with this tracking code");
    f.get(&format!(
        "/api/v1/bulletin-board/verify?election={id}&receipt=nonsense"
    ))
    .await
    .assert_error(400, "malformed receipt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenged_ballot_is_published_opened_and_can_never_be_cast() {
    let f = Fixture::new().await;
    f.election.advance_to(ElectionState::Test).await;
    let id = f.election.id().to_owned();
    let ballot = f.election.ballot("members");
    let openings: Vec<Value> = ballot
        .ballot
        .contests()
        .iter()
        .zip(&ballot.opening.contests)
        .map(|((contest, _), opening)| {
            let nonces: Vec<String> = opening
                .reveal()
                .iter()
                .map(|n| STANDARD.encode(n.to_bytes()))
                .collect();
            json!({"contest_id": contest, "values": opening.values(), "nonces": nonces})
        })
        .collect();
    let encoded = STANDARD.encode(&ballot.bytes);

    let mut wrong = openings.clone();
    wrong[0]["values"][0] = json!(wrong[0]["values"][0].as_u64().unwrap() ^ 1);
    let body = json!({"election_id": id, "ballot": encoded, "openings": wrong});
    f.post("/api/v1/votes/spoil", &body, None)
        .await
        .assert_error(400, "invalid ballot opening");

    let body = json!({"election_id": id, "ballot": encoded, "openings": openings});
    let spoiled = f.post("/api/v1/votes/spoil", &body, None).await;
    assert_eq!(spoiled.status, 200, "{}", spoiled.text());
    assert_eq!(spoiled.json()["spoiled"], true);
    let short = short_tracking_code(&ballot.tracking_code);
    let found = f
        .get(&format!(
            "/api/v1/bulletin-board/verify?election={id}&receipt={short}"
        ))
        .await
        .json();
    assert_eq!(found["spoiled"], true);
    assert_eq!(found["leaf_index"], spoiled.json()["leaf_index"]);

    let body = json!({"election_id": id, "ballot": encoded});
    f.post("/api/v1/votes/cast", &body, None)
        .await
        .assert_error(409, "ballot was spoiled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_attempts_are_limited_per_client_address() {
    let f = Fixture::with_limits(LimitConfig {
        address_attempts: 2,
        ..LimitConfig::default()
    })
    .await;
    let first = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
    let second = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    for _ in 0..2 {
        f.wrong_login_from(first)
            .await
            .assert_error(401, "invalid credentials");
    }
    f.wrong_login_from(first)
        .await
        .assert_error(429, "too many login attempts");
    // Another client address has its own budget.
    f.wrong_login_from(second)
        .await
        .assert_error(401, "invalid credentials");
}
