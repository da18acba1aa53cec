//! The key ceremony over a real SQLite store, with in-process trustees that hold their
//! secrets in test code and use urna-crypto and the seal module as the `urna trustee`
//! CLI will.

use curve25519_dalek::RistrettoPoint;
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signer as _, SigningKey};
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_board::{Entry, EntryKind, SequencerConfig};
use urna_crypto::credential::credential_message;
use urna_crypto::dkg::{
    self, Complaint, Dealer, Dealing, Disqualification, DkgParameters, KeyShare, RevealedShare,
    SecretShare, ThresholdPublicKey,
};
use urna_crypto::encoding::Decoder;
use urna_crypto::threshold::{self, PartialDecryption};
use urna_crypto::{
    BlindSigningKey, Ciphertext, Credential, CredentialSecret, EncryptedBallot, EncryptionKey,
};
use urna_election::{Revoting, layout};
use urna_proto::v1 as pb;
use urna_service::{Board, Boards, Elections, ceremony_bodies};
use urna_store::conformance::{election_in, manifest};
use urna_store::{
    BallotStore, CeremonyPhase, ElectionSecrets, ElectionState, ElectionStore, KeyStore, NewBallot,
    SqliteStore, TrusteeKeys,
};
use urna_tally::{
    ContestResult, Deadlines, EncryptionSecret, Invalid, RoundDeadlines, Tally, TallyError,
    dealing_payload, open_share, result_body, seal_share, signed_message, tally_context,
};

mod support;

const ELECTION: &str = "club";

/// A trustee's secrets, as its own process would keep them.
struct Trustee {
    signing: SigningKey,
    encryption: EncryptionSecret,
    dealer: Dealer,
}

struct Fixture {
    _dir: tempfile::TempDir,
    tally: Tally<SqliteStore>,
    store: SqliteStore,
    boards: Boards<SqliteStore>,
    params: DkgParameters,
    trustees: Vec<Trustee>,
    rng: ChaCha20Rng,
}

impl Fixture {
    async fn new(seed: u64) -> Self {
        Self::with_revoting(seed, Revoting::Once).await
    }

    async fn with_revoting(seed: u64, revoting: Revoting) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        election_in(&store, ELECTION, revoting, ElectionState::Draft)
            .await
            .unwrap();
        let fingerprint = store.election(ELECTION).await.unwrap().unwrap().fingerprint;
        let params = DkgParameters::new(fingerprint, 2, 3).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let trustees = (1..=3)
            .map(|index| {
                let mut seed = [0u8; 32];
                rand::Rng::fill_bytes(&mut rng, &mut seed);
                Trustee {
                    signing: SigningKey::from_bytes(&seed),
                    encryption: EncryptionSecret::generate(&mut rng),
                    dealer: Dealer::new(&params, index, &mut rng).unwrap(),
                }
            })
            .collect();
        let boards = Boards::new(store.clone(), "urna.test", SequencerConfig::default());
        let elections = Elections::new(store.clone(), "urna.test");
        Self {
            _dir: dir,
            tally: Tally::new(store.clone(), elections, boards.clone()),
            boards,
            store,
            params,
            trustees,
            rng,
        }
    }

    fn keys(&self, index: u32) -> TrusteeKeys {
        let t = &self.trustees[index as usize - 1];
        TrusteeKeys {
            index,
            name: format!("trustee {index}"),
            signing_key: t.signing.verifying_key().to_bytes(),
            encryption_key: t.encryption.public_key(),
        }
    }

    fn sign(&self, index: u32, what: &str, payload: &[u8]) -> Vec<u8> {
        let message = signed_message(self.params.election(), index, what, payload);
        self.trustees[index as usize - 1]
            .signing
            .sign(&message)
            .to_bytes()
            .to_vec()
    }

    async fn register_all(&self) {
        for index in 1..=3 {
            let registered = self
                .tally
                .register_trustee(ELECTION, self.keys(index))
                .await
                .unwrap();
            assert_eq!(registered, index);
        }
    }

    /// Dealer `index`'s dealing and sealed shares; `cheat_on` gets a wrong share.
    fn dealing(&mut self, index: u32, cheat_on: Option<u32>) -> (Vec<u8>, Vec<(u32, Vec<u8>)>) {
        let recipients: Vec<[u8; 32]> = self
            .trustees
            .iter()
            .map(|t| t.encryption.public_key())
            .collect();
        let dealer = &self.trustees[index as usize - 1].dealer;
        let shares = (1u32..)
            .zip(&recipients)
            .map(|(j, key)| {
                let mut share = dealer.share_for(j).unwrap();
                if cheat_on == Some(j) {
                    let mut bytes = *share.to_bytes();
                    bytes[8..].copy_from_slice(Scalar::ONE.as_bytes());
                    share = SecretShare::from_bytes(&bytes).unwrap();
                }
                let sealed =
                    seal_share(&mut self.rng, key, self.params.election(), &share).unwrap();
                (j, sealed)
            })
            .collect();
        (dealer.dealing().to_bytes(), shares)
    }

    async fn deal(&mut self, index: u32, cheat_on: Option<u32>) {
        let (dealing, shares) = self.dealing(index, cheat_on);
        let signature = self.sign(index, "dealing", &dealing_payload(&dealing, &shares));
        self.tally
            .submit_dealing(ELECTION, index, dealing, shares, signature)
            .await
            .unwrap();
    }

    /// What trustee `index` received, opened; and its complaints about bad shares.
    async fn receive(&self, index: u32) -> (Vec<SecretShare>, Vec<Complaint>) {
        let views = self.tally.dealings(ELECTION, index).await.unwrap();
        let trustee = &self.trustees[index as usize - 1];
        let shares: Vec<SecretShare> = views
            .iter()
            .map(|v| {
                open_share(
                    &trustee.encryption,
                    self.params.election(),
                    v.dealer,
                    index,
                    v.sealed.as_ref().unwrap(),
                )
                .unwrap()
            })
            .collect();
        let mut record = dkg::Ceremony::new(self.params);
        for v in &views {
            record
                .add_dealing(Dealing::from_bytes(&v.dealing).unwrap())
                .unwrap();
        }
        record.close_dealings().unwrap();
        let complaints = record.complaints_for(index, &shares);
        (shares, complaints)
    }

    async fn complain(&self, complaint: &Complaint) {
        let bytes = complaint.to_bytes().to_vec();
        let signature = self.sign(complaint.accuser(), "complaint", &bytes);
        self.tally
            .submit_complaint(ELECTION, complaint.accuser(), bytes, signature)
            .await
            .unwrap();
    }

    /// Trustee `index` confirms its shares, having filed `complaints` complaints.
    async fn confirm(&self, index: u32, complaints: u32) -> Result<u32, TallyError> {
        let signature = self.sign(index, "shares-checked", &complaints.to_be_bytes());
        self.tally
            .confirm_shares(ELECTION, index, complaints, signature)
            .await
    }

    /// Closes rounds, expecting each to lead to the next of `phases`.
    async fn close_rounds(&self, phases: &[CeremonyPhase]) {
        for phase in phases {
            assert_eq!(self.tally.close_round(ELECTION).await.unwrap(), *phase);
        }
    }

    /// Why trustee `index` was left out, if it was.
    async fn disqualification(&self, index: usize) -> Option<Disqualification> {
        let state = self.tally.ceremony_state(ELECTION).await.unwrap();
        state.trustees[index - 1].disqualification
    }

    /// Once the election leaves Draft, the ceremony's record is part of the board's
    /// genesis: entries 2..9, right after the manifest and the election keys.
    async fn genesis_carries_the_ceremony(&mut self) {
        let bodies = ceremony_bodies(&self.store, ELECTION).await.unwrap();
        // 3 trustees, 3 dealings, the key.
        assert_eq!(bodies.len(), 7);
        self.leave_draft().await;
        let board = self.boards.get(ELECTION).await.unwrap();
        assert_eq!(board.latest().checkpoint().size(), 9);
        assert_ceremony_entries(&board, &bodies).await;
        self.boards.shutdown().await;
        // Reopened (a restart), the board's genesis checks against the same records
        // and nothing is appended twice.
        let board = self.boards.get(ELECTION).await.unwrap();
        assert_eq!(board.latest().checkpoint().size(), 9);
        self.boards.shutdown().await;
    }

    /// Gives the election its secrets (a real auth key) and moves it to Test; returns
    /// the auth key.
    async fn leave_draft(&mut self) -> BlindSigningKey {
        let auth = BlindSigningKey::generate(2048, &mut self.rng).unwrap();
        let secrets = ElectionSecrets::new(auth.to_der().unwrap().to_vec(), [1; 32], [2; 32]);
        self.store.init_secrets(ELECTION, secrets).await.unwrap();
        self.store
            .transition(ELECTION, ElectionState::Draft, ElectionState::Test)
            .await
            .unwrap();
        auth
    }

    /// An honest ceremony; returns what each trustee received.
    async fn honest_ceremony(&mut self) -> Vec<(u32, Vec<SecretShare>)> {
        self.register_all().await;
        for index in 1..=3 {
            self.deal(index, None).await;
        }
        let mut received = Vec::new();
        for index in 1..=3 {
            let (shares, complaints) = self.receive(index).await;
            assert!(complaints.is_empty());
            received.push((index, shares));
        }
        self.close_rounds(&[CeremonyPhase::Done]).await;
        received
    }

    /// The threshold key, checked against the stored joint key.
    async fn threshold_key(&self) -> ThresholdPublicKey {
        let key = self
            .tally
            .ceremony_state(ELECTION)
            .await
            .unwrap()
            .key
            .unwrap();
        let joint = self.store.joint_key(ELECTION).await.unwrap().unwrap();
        assert_eq!(joint.key, key.public_key().element().to_bytes());
        assert_eq!(joint.ceremony, key.to_bytes());
        key
    }

    /// Trustee `index`'s key share, from the ceremony's public record (replayed as a
    /// trustee or verifier would) and the shares it received.
    async fn key_share(&self, index: u32, shares: &[SecretShare]) -> KeyShare {
        let state = self.tally.ceremony_state(ELECTION).await.unwrap();
        let complaints: Vec<Complaint> = state
            .complaints
            .iter()
            .map(|c| Complaint::from_bytes(c).unwrap())
            .collect();
        let reveals: Vec<RevealedShare> = state
            .reveals
            .iter()
            .map(|r| RevealedShare::from_bytes(r).unwrap())
            .collect();
        let dealings: Vec<Dealing> = self
            .tally
            .dealings(ELECTION, 0)
            .await
            .unwrap()
            .iter()
            .map(|v| Dealing::from_bytes(&v.dealing).unwrap())
            .collect();
        let replayed =
            dkg::Ceremony::replay(self.params, &dealings, &complaints, &reveals).unwrap();
        assert_eq!(
            replayed.key().unwrap().to_bytes(),
            self.threshold_key().await.to_bytes()
        );
        replayed.key_share(index, shares).unwrap()
    }

    /// The joint key works: trustees `present` decrypt a message under it.
    async fn decrypts_with(&mut self, present: &[(u32, &[SecretShare])]) {
        let key = self.threshold_key().await;
        let (ciphertext, _) = EncryptionKey::new(key.public_key()).encrypt(5, &mut self.rng);
        let ciphertexts = [ciphertext];
        let context = tally_context(self.params.election(), "chair");
        let mut verified = Vec::new();
        for (index, shares) in present {
            let share = self.key_share(*index, shares).await;
            let partial =
                PartialDecryption::create(&share, &ciphertexts, &context, &mut self.rng).unwrap();
            verified.push(partial.verify(&key, &ciphertexts, &context).unwrap());
        }
        let points = threshold::combine(&key, &ciphertexts, &context, &verified).unwrap();
        let expected: RistrettoPoint = RISTRETTO_BASEPOINT_POINT * Scalar::from(5u64);
        assert_eq!(*points[0].point(), expected);
    }
}

#[tokio::test]
async fn an_honest_two_of_three_ceremony_fixes_a_joint_key_any_two_can_use() {
    let mut f = Fixture::new(1).await;
    assert!(matches!(
        f.tally
            .submit_dealing(ELECTION, 1, vec![], vec![], vec![0; 64])
            .await,
        Err(TallyError::Unauthenticated)
    ));
    let received = f.honest_ceremony().await;
    let state = f.tally.ceremony_state(ELECTION).await.unwrap();
    assert!(
        state
            .trustees
            .iter()
            .all(|t| t.dealt && t.disqualification.is_none())
    );
    let share = |i: usize| (received[i].0, &received[i].1[..]);
    f.decrypts_with(&[share(0), share(2)]).await;
    f.decrypts_with(&[share(1), share(2)]).await;
    f.genesis_carries_the_ceremony().await;
}

#[tokio::test]
async fn a_dealer_with_a_bad_share_is_named_by_the_complaint_and_left_out() {
    let mut f = Fixture::new(2).await;
    f.register_all().await;
    f.deal(1, None).await;
    f.deal(2, None).await;
    f.deal(3, Some(1)).await;
    let (shares_1, complaints) = f.receive(1).await;
    assert_eq!(complaints, vec![Complaint::new(1, 3)]);
    f.complain(&complaints[0]).await;
    let (shares_2, none) = f.receive(2).await;
    assert!(none.is_empty());
    // Dealer 3 never answers; the admin closes the complaint and reveal rounds.
    f.close_rounds(&[CeremonyPhase::Reveals, CeremonyPhase::Done])
        .await;
    assert_eq!(
        f.disqualification(3).await,
        Some(Disqualification::UnansweredComplaint { accuser: 1 })
    );
    let state = f.tally.ceremony_state(ELECTION).await.unwrap();
    assert!(
        state.trustees[..2]
            .iter()
            .all(|t| t.disqualification.is_none())
    );
    assert_eq!(
        state.complaints,
        vec![Complaint::new(1, 3).to_bytes().to_vec()]
    );
    f.decrypts_with(&[(1, &shares_1), (2, &shares_2)]).await;
}

#[tokio::test]
async fn an_answered_complaint_keeps_the_dealer_and_fixes_the_key_at_once() {
    let mut f = Fixture::new(3).await;
    f.register_all().await;
    f.deal(1, None).await;
    f.deal(2, Some(3)).await;
    f.deal(3, None).await;
    let (shares_3, complaints) = f.receive(3).await;
    assert_eq!(complaints, vec![Complaint::new(3, 2)]);
    f.complain(&complaints[0]).await;
    let (shares_1, _) = f.receive(1).await;
    f.tally.close_round(ELECTION).await.unwrap();
    let revealed = f.trustees[1]
        .dealer
        .reveal(&complaints[0])
        .unwrap()
        .to_bytes();
    let signature = f.sign(2, "reveal", &revealed);
    // A reveal signed by another trustee is refused.
    assert!(matches!(
        f.tally
            .submit_reveal(ELECTION, 1, revealed.clone(), signature.clone())
            .await,
        Err(TallyError::Unauthenticated)
    ));
    f.tally
        .submit_reveal(ELECTION, 2, revealed, signature)
        .await
        .unwrap();
    let state = f.tally.ceremony_state(ELECTION).await.unwrap();
    assert_eq!(state.phase, CeremonyPhase::Done);
    assert!(state.trustees.iter().all(|t| t.disqualification.is_none()));
    assert_eq!(state.reveals.len(), 1);
    // Trustee 3's key share takes the revealed share in place of the bad one.
    f.decrypts_with(&[(1, &shares_1), (3, &shares_3)]).await;
}

#[tokio::test]
async fn a_wrong_revealed_share_disqualifies_its_dealer() {
    let mut f = Fixture::new(6).await;
    f.register_all().await;
    f.deal(1, Some(2)).await;
    f.deal(2, None).await;
    f.deal(3, None).await;
    let (_, complaints) = f.receive(2).await;
    assert_eq!(complaints, vec![Complaint::new(2, 1)]);
    f.complain(&complaints[0]).await;
    f.close_rounds(&[CeremonyPhase::Reveals]).await;
    // Dealer 1 answers with the same wrong value it sealed.
    let mut wrong = f.trustees[0]
        .dealer
        .reveal(&complaints[0])
        .unwrap()
        .to_bytes();
    wrong[8..].copy_from_slice(Scalar::ONE.as_bytes());
    let signature = f.sign(1, "reveal", &wrong);
    f.tally
        .submit_reveal(ELECTION, 1, wrong, signature)
        .await
        .unwrap();
    assert_eq!(
        f.disqualification(1).await,
        Some(Disqualification::BadRevealedShare { accuser: 2 })
    );
    let state = f.tally.ceremony_state(ELECTION).await.unwrap();
    assert_eq!(state.phase, CeremonyPhase::Done);
    let (shares_2, _) = f.receive(2).await;
    let (shares_3, _) = f.receive(3).await;
    f.decrypts_with(&[(2, &shares_2), (3, &shares_3)]).await;
}

#[tokio::test]
async fn confirmations_from_every_dealer_close_the_complaint_round_at_once() {
    let mut f = Fixture::new(11).await;
    f.register_all().await;
    f.deal(1, None).await;
    f.deal(2, None).await;
    f.deal(3, Some(1)).await;
    let (shares_1, complaints) = f.receive(1).await;
    assert_eq!(complaints, vec![Complaint::new(1, 3)]);
    // Trustee 1 cannot claim fewer complaints than it files, nor sign for another.
    f.complain(&complaints[0]).await;
    assert!(matches!(
        f.confirm(1, 0).await,
        Err(TallyError::Invalid(Invalid::Confirmation))
    ));
    let forged = f.sign(2, "shares-checked", &1u32.to_be_bytes());
    assert!(matches!(
        f.tally.confirm_shares(ELECTION, 1, 1, forged).await,
        Err(TallyError::Unauthenticated)
    ));
    assert_eq!(f.confirm(1, 1).await.unwrap(), 1);
    // A retry is a no-op; a complaint after confirming is refused.
    assert_eq!(f.confirm(1, 1).await.unwrap(), 1);
    let late = Complaint::new(1, 2).to_bytes().to_vec();
    let signature = f.sign(1, "complaint", &late);
    assert!(matches!(
        f.tally.submit_complaint(ELECTION, 1, late, signature).await,
        Err(TallyError::WrongPhase(_))
    ));
    assert_eq!(f.confirm(2, 0).await.unwrap(), 2);
    let state = f.tally.ceremony_state(ELECTION).await.unwrap();
    assert_eq!(state.phase, CeremonyPhase::Complaints);
    assert_eq!(state.confirmed, vec![1, 2]);
    assert_eq!(&state.election, f.params.election());
    // The last dealer's confirmation closes the round: its complaint is to answer.
    assert_eq!(f.confirm(3, 0).await.unwrap(), 3);
    let state = f.tally.ceremony_state(ELECTION).await.unwrap();
    assert_eq!(state.phase, CeremonyPhase::Reveals);
    assert!(matches!(
        f.confirm(3, 0).await,
        Err(TallyError::WrongPhase(_))
    ));
    let revealed = f.trustees[2]
        .dealer
        .reveal(&complaints[0])
        .unwrap()
        .to_bytes();
    let signature = f.sign(3, "reveal", &revealed);
    f.tally
        .submit_reveal(ELECTION, 3, revealed, signature)
        .await
        .unwrap();
    let (shares_2, _) = f.receive(2).await;
    f.decrypts_with(&[(1, &shares_1), (2, &shares_2)]).await;
}

#[tokio::test]
async fn a_trustee_that_never_dealt_need_not_confirm() {
    let mut f = Fixture::new(12).await;
    f.register_all().await;
    f.deal(1, None).await;
    f.deal(2, None).await;
    f.close_rounds(&[CeremonyPhase::Complaints]).await;
    assert_eq!(f.confirm(1, 0).await.unwrap(), 1);
    let state = f.tally.ceremony_state(ELECTION).await.unwrap();
    assert_eq!(state.phase, CeremonyPhase::Complaints);
    // Without complaints, the last dealer's confirmation fixes the key.
    assert_eq!(f.confirm(2, 0).await.unwrap(), 2);
    let state = f.tally.ceremony_state(ELECTION).await.unwrap();
    assert_eq!(state.phase, CeremonyPhase::Done);
    assert_eq!(
        f.disqualification(3).await,
        Some(Disqualification::NoDealing)
    );
    let (shares_1, _) = f.receive(1).await;
    let (shares_2, _) = f.receive(2).await;
    f.decrypts_with(&[(1, &shares_1), (2, &shares_2)]).await;
}

#[tokio::test]
async fn overdue_rounds_close_at_their_deadlines() {
    let mut f = Fixture::new(7).await;
    let deadlines = Deadlines::new(
        f.tally.clone(),
        RoundDeadlines {
            dealing: 100,
            complaints: 50,
            reveals: 50,
        },
    );
    f.register_all().await;
    f.deal(1, None).await;
    f.deal(2, None).await;
    // The dealing round is first seen at 1000; trustee 3 never deals.
    assert!(deadlines.tick(1000).await.unwrap().is_empty());
    assert!(deadlines.tick(1099).await.unwrap().is_empty());
    assert_eq!(
        deadlines.tick(1100).await.unwrap(),
        vec![(ELECTION.to_owned(), CeremonyPhase::Complaints)]
    );
    assert!(deadlines.tick(1149).await.unwrap().is_empty());
    assert_eq!(
        deadlines.tick(1150).await.unwrap(),
        vec![(ELECTION.to_owned(), CeremonyPhase::Done)]
    );
    assert!(deadlines.tick(9999).await.unwrap().is_empty());
    assert_eq!(
        f.disqualification(3).await,
        Some(Disqualification::NoDealing)
    );
}

#[tokio::test]
async fn registrations_and_dealings_are_write_once_and_checked() {
    let mut f = Fixture::new(4).await;
    let mut wrong = f.keys(1);
    wrong.index = 4;
    assert!(matches!(
        f.tally.register_trustee(ELECTION, wrong).await,
        Err(TallyError::Invalid(Invalid::TrusteeIndex))
    ));
    let mut low_order = f.keys(1);
    low_order.encryption_key = [0; 32];
    assert!(matches!(
        f.tally.register_trustee(ELECTION, low_order).await,
        Err(TallyError::Invalid(Invalid::PublicKey))
    ));
    f.tally.register_trustee(ELECTION, f.keys(1)).await.unwrap();
    assert_eq!(
        f.tally.register_trustee(ELECTION, f.keys(1)).await.unwrap(),
        1
    );
    let mut other = f.keys(1);
    other.encryption_key = [9; 32];
    assert!(matches!(
        f.tally.register_trustee(ELECTION, other).await,
        Err(TallyError::Conflict(_))
    ));
    // Dealing before every trustee is registered is refused.
    let (dealing, shares) = f.dealing(1, None);
    let signature = f.sign(1, "dealing", &dealing_payload(&dealing, &shares));
    assert!(matches!(
        f.tally
            .submit_dealing(
                ELECTION,
                1,
                dealing.clone(),
                shares.clone(),
                signature.clone()
            )
            .await,
        Err(TallyError::WrongPhase(_))
    ));
    f.tally.register_trustee(ELECTION, f.keys(2)).await.unwrap();
    f.tally.register_trustee(ELECTION, f.keys(3)).await.unwrap();
    // A share swapped after signing breaks the signature.
    let mut swapped = shares.clone();
    swapped.swap(0, 1);
    assert!(matches!(
        f.tally
            .submit_dealing(
                ELECTION,
                1,
                dealing.clone(),
                swapped.clone(),
                signature.clone()
            )
            .await,
        Err(TallyError::Unauthenticated)
    ));
    // A sealed share of the wrong length is refused even when signed.
    let mut short = shares.clone();
    short[2].1.pop();
    let signed_short = f.sign(1, "dealing", &dealing_payload(&dealing, &short));
    assert!(matches!(
        f.tally
            .submit_dealing(ELECTION, 1, dealing.clone(), short, signed_short)
            .await,
        Err(TallyError::Invalid(Invalid::Shares))
    ));
    // Shares out of recipient order are refused even when signed.
    let signed_swapped = f.sign(1, "dealing", &dealing_payload(&dealing, &swapped));
    assert!(matches!(
        f.tally
            .submit_dealing(ELECTION, 1, dealing.clone(), swapped, signed_swapped)
            .await,
        Err(TallyError::Invalid(Invalid::Shares))
    ));
    // Dealer 2's dealing in dealer 1's name is refused.
    let (dealing_2, shares_2) = f.dealing(2, None);
    let signed_2 = f.sign(1, "dealing", &dealing_payload(&dealing_2, &shares_2));
    assert!(matches!(
        f.tally
            .submit_dealing(ELECTION, 1, dealing_2, shares_2, signed_2)
            .await,
        Err(TallyError::Invalid(Invalid::Dealing))
    ));
    f.tally
        .submit_dealing(
            ELECTION,
            1,
            dealing.clone(),
            shares.clone(),
            signature.clone(),
        )
        .await
        .unwrap();
    f.tally
        .submit_dealing(ELECTION, 1, dealing, shares, signature)
        .await
        .unwrap();
    let (again, resealed) = f.dealing(1, None);
    let resigned = f.sign(1, "dealing", &dealing_payload(&again, &resealed));
    assert!(matches!(
        f.tally
            .submit_dealing(ELECTION, 1, again, resealed, resigned)
            .await,
        Err(TallyError::Conflict(_))
    ));
    // Trustee 3 never deals: closing the round leaves it out, and 2 of 3 still
    // suffice.
    f.deal(2, None).await;
    f.close_rounds(&[CeremonyPhase::Complaints, CeremonyPhase::Done])
        .await;
    assert_eq!(
        f.disqualification(3).await,
        Some(Disqualification::NoDealing)
    );
}

impl Fixture {
    /// A credential for `style`, blind-signed as the auth tier would.
    fn credential(
        &mut self,
        auth: &BlindSigningKey,
        style: &str,
        secret: &CredentialSecret,
    ) -> Credential {
        let message =
            credential_message(self.params.election(), style, &secret.public_key()).unwrap();
        let public = auth.verifying_key().unwrap();
        let (blinded, state) = public.blind(&message, &mut self.rng).unwrap();
        let blind = auth.blind_sign(&blinded, &mut self.rng).unwrap();
        let (signature, randomizer) = public.finalize(&blind, &state, &message).unwrap();
        Credential {
            key: secret.public_key(),
            signature,
            randomizer,
        }
    }

    /// Trustee `index`'s signed partial decryption of batch 0 under `context`.
    async fn answer(
        &mut self,
        index: u32,
        shares: &[SecretShare],
        ciphertexts: &[Ciphertext],
        context: &urna_crypto::Context,
    ) -> Result<urna_tally::PartialRecorded, TallyError> {
        let share = self.key_share(index, shares).await;
        let partial = PartialDecryption::create(&share, ciphertexts, context, &mut self.rng)
            .unwrap()
            .to_bytes();
        let mut payload = 0u32.to_be_bytes().to_vec();
        payload.extend_from_slice(&partial);
        let signature = self.sign(index, "partial-decryption", &payload);
        self.tally
            .submit_partial(ELECTION, index, 0, partial, signature)
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tally_counts_the_latest_ballot_per_credential_with_one_trustee_absent() {
    let mut f = Fixture::with_revoting(5, Revoting::LastCounts).await;
    let received = f.honest_ceremony().await;
    let bodies = ceremony_bodies(&f.store, ELECTION).await.unwrap();
    let auth = f.leave_draft().await;
    f.store
        .transition(ELECTION, ElectionState::Test, ElectionState::Open)
        .await
        .unwrap();
    assert!(matches!(
        f.tally.aggregate(ELECTION).await,
        Err(TallyError::WrongPhase(_))
    ));
    let joint = EncryptionKey::new(f.threshold_key().await.public_key());
    let (manifest, _) = manifest(ELECTION, Revoting::LastCounts, "Club election", true).unwrap();
    // The chair contest's options are [ada, grace]. Voter 1 votes ada, then re-casts
    // for grace; voter 2 votes ada; voter 3 (a junior) votes grace.
    let votes: [(&str, &[[u64; 2]]); 3] = [
        ("members", &[[1, 0], [0, 1]]),
        ("members", &[[1, 0]]),
        ("juniors", &[[0, 1]]),
    ];
    let mut ballots = Vec::new();
    for (style, casts) in votes {
        let secret = CredentialSecret::generate(&mut f.rng);
        let credential = f.credential(&auth, style, &secret);
        for selection in casts {
            let (ballot, _) = EncryptedBallot::encrypt(
                &joint,
                f.params.election(),
                &layout(&manifest, style).unwrap(),
                credential.clone(),
                &secret,
                &[selection.to_vec()],
                &mut f.rng,
            )
            .unwrap();
            ballots.push(ballot.to_bytes());
            let new = NewBallot {
                nullifier: ballot.nullifier(),
                tracking_code: ballot.tracking_code(),
                ballot: ballot.to_bytes(),
            };
            f.store.cast(ELECTION, new).await.unwrap();
        }
    }
    // Close as the admin does: polls-closed on the board, then Closed (the tally reads
    // only the entry's kind).
    let board = f.boards.get(ELECTION).await.unwrap();
    board.flush().await.unwrap();
    // Genesis put the ceremony's record before every ballot.
    assert_ceremony_entries(&board, &bodies).await;
    let first_ballot = board.entries(9, 10).await.unwrap();
    assert_eq!(
        Entry::decode(&first_ballot[0]).unwrap().kind(),
        EntryKind::Ballot
    );
    let closed = Entry::new(
        EntryKind::PollsClosed,
        *f.params.election(),
        b"closed".to_vec(),
    );
    board.append_once(closed.unwrap()).await.unwrap();
    // A ballot on the board after polls-closed never counts: were it counted, voter
    // 1's latest ballot would be for ada again.
    let late = Entry::new(EntryKind::Ballot, *f.params.election(), ballots[0].clone());
    board.append(late.unwrap()).await.unwrap();
    f.store
        .transition(ELECTION, ElectionState::Open, ElectionState::Closed)
        .await
        .unwrap();

    let task = f.tally.aggregate(ELECTION).await.unwrap();
    assert_eq!(f.tally.aggregate(ELECTION).await.unwrap(), task);
    assert_eq!(f.tally.decryption_task(ELECTION).await.unwrap(), task);
    assert_eq!(task.batches.len(), 1);
    assert_eq!(
        (task.batches[0].contest.as_str(), task.batches[0].ballots),
        ("chair", 3)
    );
    let record = Entry::decode(
        &board
            .entries(task.source_index, task.source_index + 1)
            .await
            .unwrap()[0],
    )
    .unwrap();
    assert_eq!(record.kind(), EntryKind::TallyRecord);
    let ciphertexts: Vec<Ciphertext> = task.batches[0]
        .ciphertexts
        .iter()
        .map(|c| Ciphertext::decode(&mut Decoder::new(c)).unwrap())
        .collect();
    let context = tally_context(f.params.election(), "chair");

    // A proof made for another contest is refused; trustee 2 never answers.
    let (_, shares_3) = &received[2];
    let wrong = tally_context(f.params.election(), "treasurer");
    assert!(matches!(
        f.answer(3, shares_3, &ciphertexts, &wrong).await,
        Err(TallyError::Invalid(Invalid::Partial))
    ));
    let (_, shares_1) = &received[0];
    let first = f.answer(1, shares_1, &ciphertexts, &context).await.unwrap();
    assert_eq!(first.answered, 1);
    assert_eq!(f.tally.results(ELECTION).await.unwrap(), None);
    assert_eq!(f.store.results(ELECTION).await.unwrap(), None);
    // Over the API: the task is what was aggregated, and trustee 3's answer completes
    // the results.
    let (mut client, _) = support::serve(&f.tally).await;
    let wire = client
        .get_decryption_task(pb::GetDecryptionTaskRequest {
            election_id: ELECTION.into(),
            trustee_index: 3,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(wire.source_index, task.source_index);
    assert_eq!(wire.batches[0].contest_id, "chair");
    let wire_ciphertexts: Vec<Vec<u8>> = task.batches[0]
        .ciphertexts
        .iter()
        .map(|c| c.to_vec())
        .collect();
    assert_eq!(wire.batches[0].ciphertexts, wire_ciphertexts);
    let share = f.key_share(3, shares_3).await;
    let partial = PartialDecryption::create(&share, &ciphertexts, &context, &mut f.rng)
        .unwrap()
        .to_bytes();
    let mut payload = 0u32.to_be_bytes().to_vec();
    payload.extend_from_slice(&partial);
    let signature = f.sign(3, "partial-decryption", &payload);
    let second = client
        .submit_partial_decryption(pb::SubmitPartialDecryptionRequest {
            election_id: ELECTION.into(),
            trustee_index: 3,
            batch_index: 0,
            partial_decryption: partial,
            signature,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.answered, 2);
    assert!(second.board_index > first.board_index);
    let wire_results = client
        .get_results(pb::GetResultsRequest {
            election_id: ELECTION.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let chair = &wire_results.contests[0];
    assert_eq!(
        (chair.ballots, chair.winners.clone()),
        (3, vec!["grace".to_owned()])
    );
    let totals: Vec<(String, u64)> = chair
        .totals
        .iter()
        .map(|t| (t.option_id.clone(), t.total))
        .collect();
    assert_eq!(totals, vec![("ada".to_owned(), 1), ("grace".to_owned(), 2)]);
    let result_entry = wire_results.result_entry.unwrap();
    assert_eq!(
        Entry::decode(&result_entry.entry).unwrap().kind(),
        EntryKind::Result
    );

    let results = f.tally.results(ELECTION).await.unwrap().unwrap();
    assert_eq!(
        results,
        vec![ContestResult {
            contest: "chair".into(),
            ballots: 3,
            totals: vec![("ada".into(), 1), ("grace".into(), 2)],
            winners: vec!["grace".into()],
            cvr: None,
        }]
    );
    let recorded = f.store.results(ELECTION).await.unwrap().unwrap();
    assert_eq!(recorded, result_body(&results));
    let size = board.latest().checkpoint().size();
    let last = Entry::decode(&board.entries(size - 1, size).await.unwrap()[0]).unwrap();
    assert_eq!(last.kind(), EntryKind::Result);
    assert_eq!(last.body(), &recorded[..]);
    f.boards.shutdown().await;
}

/// Entries 2.. of `board` are exactly the ceremony's `bodies`, as `KeyCeremony` entries.
async fn assert_ceremony_entries(board: &Board, bodies: &[Vec<u8>]) {
    let end = 2 + bodies.len() as u64;
    let entries = board.entries(2, end).await.unwrap();
    assert_eq!(entries.len(), bodies.len());
    for (bytes, body) in entries.iter().zip(bodies) {
        let entry = Entry::decode(bytes).unwrap();
        assert_eq!(entry.kind(), EntryKind::KeyCeremony);
        assert_eq!(entry.body(), &body[..]);
    }
}
