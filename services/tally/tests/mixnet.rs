//! The mix-net over a real SQLite store and board: after close, every mix-net contest's
//! counted ballots go to k distinct trustees in turn; every shuffle is checked
//! (signature, input, proof) before it is recorded, published as `ShuffleRecord`
//! parts, and only the last output can be decrypted. Trustees here are test code with
//! their own signing keys, shuffling with urna-crypto as `urna trustee decrypt` does.

use ed25519_dalek::{Signer as _, SigningKey};
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use urna_board::parts::{Assembler, Part};
use urna_board::{Entry, EntryKind, SequencerConfig};
use urna_crypto::encoding::{Decoder, Encoder};
use urna_crypto::mix::rows_digest;
use urna_crypto::{Ciphertext, Context, EncryptionKey, MixBallots, ShuffleProof, shuffle};
use urna_service::testing::TestElection;
use urna_service::{Boards, Elections};
use urna_store::{ElectionState, MixStore, SqliteStore, TallyStore, TrusteeKeys};
use urna_tally::{Invalid, MixTask, MixWork, Tally, TallyError, shuffle_payload, signed_message};

const FULL: &str = include_str!("../../../examples/club-election-full.yaml");
/// Ballots cast: enough for a shuffle record of the captain contest (4 options) to
/// span two entries.
const VOTERS: usize = 160;

struct Fixture {
    election: TestElection,
    tally: Tally<SqliteStore>,
    boards: Boards<SqliteStore>,
    signing: Vec<SigningKey>,
    rng: ChaCha20Rng,
}

impl Fixture {
    /// The full club election with three registered trustees, `VOTERS` members'
    /// ballots on the board, and polls closed.
    async fn closed() -> Self {
        let election = TestElection::from_yaml(FULL).await;
        let store = election.store();
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let signing: Vec<SigningKey> = (1..=3)
            .map(|_| {
                let mut seed = [0u8; 32];
                rand::Rng::fill_bytes(&mut rng, &mut seed);
                SigningKey::from_bytes(&seed)
            })
            .collect();
        for (index, key) in (1u32..).zip(&signing) {
            let keys = TrusteeKeys {
                index,
                name: format!("trustee {index}"),
                signing_key: key.verifying_key().to_bytes(),
                encryption_key: [9; 32],
            };
            urna_store::TallyStore::register_trustee(&store, election.id(), keys)
                .await
                .unwrap();
        }
        election.advance_to(ElectionState::Open).await;
        for _ in 0..VOTERS {
            election.record(&election.ballot("members")).await;
        }
        let boards = Boards::new(store.clone(), "urna.test", SequencerConfig::default());
        let board = boards.get(election.id()).await.unwrap();
        board.flush().await.unwrap();
        close(&board, election.fingerprint()).await;
        election.advance_to(ElectionState::Closed).await;
        let elections = Elections::new(store.clone(), "urna.test");
        let tally = Tally::new(store, elections, boards.clone());
        Self {
            election,
            tally,
            boards,
            signing,
            rng,
        }
    }

    fn key(&self) -> EncryptionKey {
        EncryptionKey::new(*self.election.joint_key().public_key())
    }

    /// The next task of trustee `index`, which must be a shuffle.
    async fn task(&self, index: u32) -> MixTask {
        match self
            .tally
            .mix_work(self.election.id(), index)
            .await
            .unwrap()
        {
            MixWork::Shuffle(task) => task,
            other => panic!("trustee {index} got {other:?}"),
        }
    }

    /// Trustee `index`'s honest shuffle of `task`: (output bytes, proof bytes,
    /// signature), with the proof made under `context`.
    fn shuffle(&mut self, index: u32, task: &MixTask, context: &Context) -> Submission {
        let input = rows(&task.input, task.width);
        let key = self.key();
        let (output, witness) = shuffle(&key, &input, &mut self.rng);
        let proof =
            ShuffleProof::prove(&key, &input, &output, &witness, context, &mut self.rng).unwrap();
        let mut enc = Encoder::new();
        proof.encode(&mut enc);
        let proof = enc.finish();
        let output_bytes: Vec<u8> = output
            .ciphertexts()
            .iter()
            .flat_map(Ciphertext::to_bytes)
            .collect();
        let signature = self.sign(index, task, &input, &output, &proof);
        Submission {
            output: output_bytes,
            proof,
            signature,
        }
    }

    fn sign(
        &self,
        index: u32,
        task: &MixTask,
        input: &MixBallots,
        output: &MixBallots,
        proof: &[u8],
    ) -> Vec<u8> {
        let payload = shuffle_payload(
            task.batch,
            task.step,
            &input.digest(),
            &output.digest(),
            proof,
        );
        let message = signed_message(&self.election.fingerprint(), index, "shuffle", &payload);
        self.signing[index as usize - 1]
            .sign(&message)
            .to_bytes()
            .to_vec()
    }

    fn context(&self, task: &MixTask) -> Context {
        Context::shuffle(
            &self.election.fingerprint(),
            &task.contest,
            u64::from(task.step),
        )
    }

    async fn submit(&self, index: u32, task: &MixTask, s: &Submission) -> Result<u64, TallyError> {
        self.tally
            .submit_shuffle(
                self.election.id(),
                index,
                task.batch,
                task.step,
                s.output.clone(),
                s.proof.clone(),
                s.signature.clone(),
            )
            .await
    }
}

#[derive(Clone)]
struct Submission {
    output: Vec<u8>,
    proof: Vec<u8>,
    signature: Vec<u8>,
}

/// Closes the polls on the board as the admin does (the tally reads only the kind).
async fn close(board: &urna_service::Board, fingerprint: [u8; 32]) {
    let closed = Entry::new(EntryKind::PollsClosed, fingerprint, b"closed".to_vec());
    board.append_once(closed.unwrap()).await.unwrap();
}

fn rows(bytes: &[[u8; 64]], width: u32) -> MixBallots {
    let ciphertexts = bytes
        .iter()
        .map(|c| Ciphertext::decode(&mut Decoder::new(c)).unwrap())
        .collect();
    MixBallots::new(width as usize, ciphertexts).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixnet_contests_are_shuffled_by_k_distinct_trustees_each_shuffle_checked() {
    let mut f = Fixture::closed().await;
    let id = f.election.id().to_owned();
    let store = f.election.store();

    // The first task: the captain contest (the fifth of the manifest), step 0, its
    // rows the counted ballots' as the tally record names them by digest.
    let task = f.task(1).await;
    assert_eq!((task.batch, task.contest.as_str()), (4, "captain"));
    assert_eq!((task.step, task.steps, task.width), (0, 2, 4));
    assert_eq!(task.input.len(), VOTERS * 4);
    let board = f.boards.get(&id).await.unwrap();
    let record = &board
        .entries(task.source_index, task.source_index + 1)
        .await
        .unwrap()[0];
    let record = Entry::decode(record).unwrap();
    assert_eq!(record.kind(), EntryKind::TallyRecord);
    let digest = rows_digest(VOTERS, 4, &task.input);
    assert!(
        record.body().windows(32).any(|w| w == digest),
        "the tally record names the rows by digest"
    );
    // Nothing can be decrypted before the mix-net has run.
    assert!(matches!(
        f.tally.decryption_batches(&id).await,
        Err(TallyError::WrongPhase(_))
    ));
    let partial = vec![0; 8];
    let payload = [&4u32.to_be_bytes()[..], &partial].concat();
    let message = signed_message(&f.election.fingerprint(), 1, "partial-decryption", &payload);
    let signature = f.signing[0].sign(&message).to_bytes().to_vec();
    assert!(matches!(
        f.tally.submit_partial(&id, 1, 4, partial, signature).await,
        Err(TallyError::WrongPhase(_))
    ));

    // Refused, and nothing recorded: a proof under another step's context, an output
    // with two rows swapped after proving, a shuffle signed by another trustee.
    let mut wrong_step = task.clone();
    wrong_step.step = 1;
    let other_context = f.context(&wrong_step);
    let bad = f.shuffle(1, &task, &other_context);
    assert!(matches!(
        f.submit(1, &task, &bad).await,
        Err(TallyError::Invalid(Invalid::Shuffle))
    ));
    let context = f.context(&task);
    let honest = f.shuffle(1, &task, &context);
    let mut swapped = honest.clone();
    let (first, second) = swapped.output.split_at_mut(256);
    first.swap_with_slice(&mut second[..256]);
    let input = rows(&task.input, 4);
    let swapped_rows: Vec<[u8; 64]> = swapped
        .output
        .chunks(64)
        .map(|c| c.try_into().unwrap())
        .collect();
    swapped.signature = f.sign(1, &task, &input, &rows(&swapped_rows, 4), &swapped.proof);
    assert!(matches!(
        f.submit(1, &task, &swapped).await,
        Err(TallyError::Invalid(Invalid::Shuffle))
    ));
    assert!(matches!(
        f.submit(2, &task, &honest).await,
        Err(TallyError::Unauthenticated)
    ));
    assert!(store.mix_steps(&id, 4).await.unwrap().is_empty());

    // The honest shuffle is recorded and published; a retry is the same record; a
    // different shuffle for the same step is a conflict.
    let index = f.submit(1, &task, &honest).await.unwrap();
    assert_eq!(f.submit(1, &task, &honest).await.unwrap(), index);
    let context = f.context(&task);
    let rival = f.shuffle(3, &task, &context);
    assert!(matches!(
        f.submit(3, &task, &rival).await,
        Err(TallyError::Conflict(_))
    ));

    // Trustee 1 moves on to the mascot contest; it may not take captain's step 1.
    let next = f.task(1).await;
    assert_eq!((next.batch, next.step), (5, 0));
    let step1 = f.task(2).await;
    assert_eq!((step1.batch, step1.step), (4, 1));
    assert_eq!(
        step1.source_index, index,
        "step 1 takes step 0's published output"
    );
    let context = f.context(&step1);
    let again = f.shuffle(1, &step1, &context);
    assert!(matches!(
        f.submit(1, &step1, &again).await,
        Err(TallyError::Invalid(Invalid::MixStep))
    ));

    // Trustees 1 and 2 finish both batches; then nobody has work and the batches
    // decrypt the last output, which the last shuffle record names.
    let context = f.context(&next);
    let s = f.shuffle(1, &next, &context);
    f.submit(1, &next, &s).await.unwrap();
    for _ in 0..2 {
        let task = f.task(2).await;
        let context = f.context(&task);
        let s = f.shuffle(2, &task, &context);
        f.submit(2, &task, &s).await.unwrap();
    }
    for trustee in 1..=3 {
        let work = f.tally.mix_work(&id, trustee).await.unwrap();
        assert_eq!(work, MixWork::Done, "trustee {trustee}");
    }
    let steps = store.mix_steps(&id, 4).await.unwrap();
    assert_eq!(
        steps.iter().map(|s| s.trustee).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let batches = f.tally.decryption_batches(&id).await.unwrap();
    let captain = &batches[4];
    assert_eq!(captain.width, 4);
    let last: Vec<u8> = captain.ciphertexts.concat();
    assert_eq!(last, steps[1].output);
    assert_ne!(captain.source_index, index);

    // On the board: two whole shuffle records per batch, each in two parts, keyed by
    // batch, step and trustee, every part canonical.
    let size = board.latest().checkpoint().size();
    let entries = board.entries(0, size).await.unwrap();
    let mut assembler = Assembler::new();
    let mut whole = Vec::new();
    let mut parts = 0;
    for bytes in &entries {
        let entry = Entry::decode(bytes).unwrap();
        if entry.kind() != EntryKind::ShuffleRecord {
            continue;
        }
        parts += 1;
        let part = Part::decode(entry.body()).unwrap();
        assert_eq!(part.tag, "urna/v1/shuffle-record");
        if let Some(record) = assembler.push(part).unwrap() {
            whole.push((part.key.to_vec(), record));
        }
    }
    assert_eq!(whole.len(), 4);
    assert_eq!(parts, 8, "each record of 160 rows of 4 spans two entries");
    assert_eq!(assembler.unfinished().count(), 0);
    f.boards.shutdown().await;
}

#[tokio::test]
async fn an_election_without_ballots_in_a_mixnet_contest_needs_no_shuffle() {
    let election = TestElection::from_yaml(FULL).await;
    election.advance_to(ElectionState::Open).await;
    let store = election.store();
    let boards = Boards::new(store.clone(), "urna.test", SequencerConfig::default());
    let board = boards.get(election.id()).await.unwrap();
    close(&board, election.fingerprint()).await;
    election.advance_to(ElectionState::Closed).await;
    let elections = Elections::new(store.clone(), "urna.test");
    let tally = Tally::new(store.clone(), elections, boards.clone());
    assert_eq!(
        tally.mix_work(election.id(), 1).await.unwrap(),
        MixWork::Done
    );
    let task = store.tally_task(election.id()).await.unwrap().unwrap();
    assert_eq!((task.batches[4].width, task.batches[4].ballots), (4, 0));
    let batches = tally.decryption_batches(election.id()).await.unwrap();
    assert!(batches[4].ciphertexts.is_empty());
    assert!(matches!(
        tally.mix_work(election.id(), 4).await,
        Err(TallyError::Invalid(Invalid::TrusteeIndex))
    ));
    boards.shutdown().await;
}
