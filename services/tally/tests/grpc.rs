//! The Tally service on a real socket over a real SQLite store: a 2-of-3 key ceremony
//! driven by in-process trustees through the gRPC API, and its refusals.

use ed25519_dalek::{Signer as _, SigningKey};
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use tonic::transport::Channel;
use tonic::{Code, Request};
use urna_admin::AdminToken;
use urna_board::SequencerConfig;
use urna_crypto::dkg::{self, Dealer, Dealing, DkgParameters, ThresholdPublicKey};
use urna_election::Revoting;
use urna_proto::v1 as pb;
use urna_proto::v1::tally_client::TallyClient;
use urna_service::{Boards, Elections};
use urna_store::conformance::election_in;
use urna_store::{ElectionState, ElectionStore, SqliteStore};
use urna_tally::{
    EncryptionSecret, Tally, dealing_payload, open_share, seal_share, signed_message,
};

mod support;

const ELECTION: &str = "club";

struct Harness {
    client: TallyClient<Channel>,
    token: AdminToken,
    tally: Tally<SqliteStore>,
    params: DkgParameters,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        election_in(&store, ELECTION, Revoting::Once, ElectionState::Draft)
            .await
            .unwrap();
        let fingerprint = store.election(ELECTION).await.unwrap().unwrap().fingerprint;
        let boards = Boards::new(store.clone(), "urna.test", SequencerConfig::default());
        let elections = Elections::new(store.clone(), "urna.test");
        let tally = Tally::new(store, elections, boards);
        let (client, token) = support::serve(&tally).await;
        Self {
            client,
            token,
            tally,
            params: DkgParameters::new(fingerprint, 2, 3).unwrap(),
            _dir: dir,
        }
    }

    fn authed<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        let header = format!("Bearer {}", self.token.expose());
        request
            .metadata_mut()
            .insert("authorization", header.parse().unwrap());
        request
    }

    /// CloseRound, with the admin token if `admin`.
    async fn close_round(&mut self, admin: bool) -> Result<pb::CeremonyPhase, tonic::Status> {
        let message = pb::CloseRoundRequest {
            election_id: ELECTION.into(),
        };
        let request = if admin {
            self.authed(message)
        } else {
            Request::new(message)
        };
        Ok(self.client.close_round(request).await?.into_inner().phase())
    }

    async fn state(&mut self) -> pb::GetCeremonyStateResponse {
        self.client
            .get_ceremony_state(pb::GetCeremonyStateRequest {
                election_id: ELECTION.into(),
            })
            .await
            .unwrap()
            .into_inner()
    }
}

struct Trustee {
    index: u32,
    signing: SigningKey,
    encryption: EncryptionSecret,
    dealer: Dealer,
}

impl Trustee {
    fn registration(&self) -> pb::RegisterTrusteeRequest {
        pb::RegisterTrusteeRequest {
            election_id: ELECTION.into(),
            trustee_index: self.index,
            name: format!("trustee {}", self.index),
            signing_key: self.signing.verifying_key().to_bytes().to_vec(),
            encryption_key: self.encryption.public_key().to_vec(),
        }
    }

    fn sign(&self, params: &DkgParameters, what: &str, payload: &[u8]) -> Vec<u8> {
        let message = signed_message(params.election(), self.index, what, payload);
        self.signing.sign(&message).to_bytes().to_vec()
    }
}

/// Trustee `t`'s signed dealing with a share sealed to each of `trustees`.
fn dealing_request(
    params: &DkgParameters,
    rng: &mut ChaCha20Rng,
    trustees: &[Trustee],
    t: &Trustee,
) -> pb::SubmitDealingRequest {
    let shares: Vec<pb::SealedShare> = trustees
        .iter()
        .map(|r| {
            let share = t.dealer.share_for(r.index).unwrap();
            pb::SealedShare {
                recipient: r.index,
                ciphertext: seal_share(rng, &r.encryption.public_key(), params.election(), &share)
                    .unwrap(),
            }
        })
        .collect();
    let dealing = t.dealer.dealing().to_bytes();
    let pairs: Vec<(u32, Vec<u8>)> = shares
        .iter()
        .map(|s| (s.recipient, s.ciphertext.clone()))
        .collect();
    let signature = t.sign(params, "dealing", &dealing_payload(&dealing, &pairs));
    pb::SubmitDealingRequest {
        election_id: ELECTION.into(),
        trustee_index: t.index,
        dealing,
        shares,
        signature,
    }
}

/// Three trustees with keys and dealers drawn from `rng`.
fn trustees(params: &DkgParameters, rng: &mut ChaCha20Rng) -> Vec<Trustee> {
    (1..=3)
        .map(|index| {
            let mut seed = [0u8; 32];
            rand::Rng::fill_bytes(rng, &mut seed);
            Trustee {
                index,
                signing: SigningKey::from_bytes(&seed),
                encryption: EncryptionSecret::generate(rng),
                dealer: Dealer::new(params, index, rng).unwrap(),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_closes_a_round_a_trustee_never_answers() {
    let mut h = Harness::new().await;
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let trustees = trustees(&h.params, &mut rng);
    // Nothing to close while trustees register.
    let refused = h.close_round(true).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    for t in &trustees {
        h.client
            .register_trustee(h.authed(t.registration()))
            .await
            .unwrap();
    }
    // Trustee 3 never deals.
    for t in &trustees[..2] {
        let request = dealing_request(&h.params, &mut rng, &trustees, t);
        h.client.submit_dealing(request).await.unwrap();
    }
    assert_eq!(h.state().await.phase(), pb::CeremonyPhase::Dealing);
    // Only the admin may close a round.
    let refused = h.close_round(false).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(h.state().await.phase(), pb::CeremonyPhase::Dealing);
    assert_eq!(
        h.close_round(true).await.unwrap(),
        pb::CeremonyPhase::Complaints
    );
    let state = h.state().await;
    let absent = &state.trustees[2];
    assert_eq!(
        absent.disqualification(),
        pb::DisqualificationReason::NoDealing
    );
    // No complaints: closing the complaint round fixes the key from the two dealers.
    assert_eq!(h.close_round(true).await.unwrap(), pb::CeremonyPhase::Done);
    let state = h.state().await;
    let key = ThresholdPublicKey::from_bytes(&state.threshold_public_key).unwrap();
    let expected = trustees[..2]
        .iter()
        .map(|t| *t.dealer.dealing().commitments()[0].point())
        .sum::<curve25519_dalek::RistrettoPoint>();
    assert_eq!(*key.public_key().element().point(), expected);
    let refused = h.close_round(true).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_of_three_ceremony_over_grpc() {
    let mut h = Harness::new().await;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let trustees = trustees(&h.params, &mut rng);

    // Registration needs the admin token and well-formed keys.
    let refused = h
        .client
        .register_trustee(trustees[0].registration())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let mut short = trustees[0].registration();
    short.encryption_key.pop();
    let refused = h
        .client
        .register_trustee(h.authed(short))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    for (n, t) in (1..).zip(&trustees) {
        let response = h
            .client
            .register_trustee(h.authed(t.registration()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.registered, n);
    }
    let mut other = trustees[0].registration();
    other.encryption_key = trustees[1].encryption.public_key().to_vec();
    let refused = h
        .client
        .register_trustee(h.authed(other))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);
    assert_eq!(h.state().await.phase(), pb::CeremonyPhase::Dealing);

    for t in &trustees {
        let mut request = dealing_request(&h.params, &mut rng, &trustees, t);
        // Signed by someone else: refused.
        let mut forged = request.clone();
        forged.trustee_index = t.index % 3 + 1;
        let refused = h.client.submit_dealing(forged).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        h.client.submit_dealing(request.clone()).await.unwrap();
        request.signature[0] ^= 1;
        let refused = h.client.submit_dealing(request).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    assert_eq!(h.state().await.phase(), pb::CeremonyPhase::Complaints);

    // Each trustee opens its shares from GetDealings and finds nothing to complain about.
    for t in &trustees {
        let dealings = h
            .client
            .get_dealings(pb::GetDealingsRequest {
                election_id: ELECTION.into(),
                recipient: t.index,
            })
            .await
            .unwrap()
            .into_inner()
            .dealings;
        assert_eq!(dealings.len(), 3);
        let mut record = dkg::Ceremony::new(h.params);
        let mut shares = Vec::new();
        for d in &dealings {
            record
                .add_dealing(Dealing::from_bytes(&d.dealing).unwrap())
                .unwrap();
            let sealed = d.share.as_ref().unwrap();
            assert_eq!(sealed.recipient, t.index);
            shares.push(
                open_share(
                    &t.encryption,
                    h.params.election(),
                    d.dealer,
                    t.index,
                    &sealed.ciphertext,
                )
                .unwrap(),
            );
        }
        record.close_dealings().unwrap();
        assert!(record.complaints_for(t.index, &shares).is_empty());
    }
    let refused = h
        .client
        .get_decryption_task(pb::GetDecryptionTaskRequest {
            election_id: ELECTION.into(),
            trustee_index: 1,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);

    // Every trustee confirms it checked its shares (no complaints): the complaint round
    // closes at once, without waiting for its deadline.
    let confirm = |t: &Trustee, complaints: u32| pb::ConfirmSharesRequest {
        election_id: ELECTION.into(),
        trustee_index: t.index,
        complaints,
        signature: t.sign(&h.params, "shares-checked", &complaints.to_be_bytes()),
    };
    let refused = h
        .client
        .confirm_shares(confirm(&trustees[0], 1))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    for (n, t) in (1..).zip(&trustees) {
        let confirmed = h
            .client
            .confirm_shares(confirm(t, 0))
            .await
            .unwrap()
            .into_inner()
            .confirmed;
        assert_eq!(confirmed, n);
    }
    let state = h.state().await;
    assert_eq!(state.election_fingerprint, h.params.election().to_vec());
    assert_eq!(state.confirmed, vec![1, 2, 3]);
    assert_eq!(state.phase(), pb::CeremonyPhase::Done);
    assert_eq!((state.threshold, state.trustee_count), (2, 3));
    assert!(state.trustees.iter().all(|t| t.registered && t.dealt));
    let key = ThresholdPublicKey::from_bytes(&state.threshold_public_key).unwrap();
    let expected = h.tally.ceremony_state(ELECTION).await.unwrap().key.unwrap();
    assert_eq!(key.to_bytes(), expected.to_bytes());
    let refused = h
        .client
        .get_results(pb::GetResultsRequest {
            election_id: ELECTION.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
}
