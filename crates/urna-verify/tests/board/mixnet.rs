//! The mix-net: an election whose ranked contest is tallied by shuffling, its tally
//! written as services/tally writes it (the tally record naming the counted ballots'
//! rows by digest, step 0 by trustee 1 and step 1 by trustee 3 as `ShuffleRecord`
//! parts, both trustees' shares of the last output as `DecryptionShare` parts, the
//! result with the CVR's digest). An honest board verifies and recounts; each
//! tampering (re-signed by the board key, and by a trustee's key where a dishonest
//! trustee could) fails the check that names it.

use std::ops::Range;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use urna_board::parts::{self, CHUNK, Part};
use urna_board::{Entry, EntryKind};
use urna_crypto::encoding::Encoder;
use urna_crypto::threshold::{self, PartialDecryption, VerifiedPartialDecryption};
use urna_crypto::{
    Ciphertext, Context, DlogTable, EncryptedBallot, MixBallots, ShuffleProof, shuffle,
};
use urna_election::{CvrFormat, count_rows};
use urna_verify::records::{
    MIX_SHARE_TAG, MixShare, MixShareKey, Rows, SHUFFLE_RECORD_TAG, ShuffleKey, ShuffleRecord,
};
use urna_verify::{
    Check, ContestResult, ContestTally, DecryptionShare, Report, TallyRecord, result_body,
};

use crate::support::{Election, assert_caught};

const YAML: &str = "id: club
title: Club
start: 2026-03-01T09:00:00Z
end: 2026-03-08T18:00:00Z
revoting: once
contests:
  - id: leader
    title: Leader
    method: irv
    options:
      - { id: a, name: A }
      - { id: b, name: B }
      - { id: c, name: C }
    selections: { min: 1, max: 3 }
";
const CONTEST: &str = "leader";
const WIDTH: usize = 3;
/// Voter `v`'s rank positions of a, b and c (0 unranked), cycling past five voters.
/// First choices a 2, b 2, c 1: c is eliminated and its voter's second choice elects b.
const RANKINGS: [[u64; WIDTH]; 5] = [[1, 2, 0], [2, 1, 3], [1, 0, 0], [0, 1, 2], [0, 2, 1]];
/// `RANKINGS` as BLT ballot lines (weight, candidates in order of preference, 0).
const BLT_LINES: [&str; 5] = ["1 1 2 0", "1 2 1 3 0", "1 1 0", "1 2 3 0", "1 3 2 0"];
/// The fewest ballots whose shuffle record passes one part: n·w·64 bytes of output,
/// 128·n + 32·(4 + w) of proof, 64 of signature and three lengths.
const TWO_PARTS: usize = (CHUNK - 32 * (4 + WIDTH) - 76) / (WIDTH * 64 + 128) + 1;

/// One mix step: its part key, output rows and canonical proof.
#[derive(Clone)]
struct Step {
    key: ShuffleKey,
    output: MixBallots,
    proof: Vec<u8>,
}

impl Step {
    /// Trustee `trustee`'s honest shuffle of `input` as step `step` of the tally record
    /// at `source`.
    fn shuffle(
        election: &Election,
        source: usize,
        step: u32,
        trustee: u32,
        input: &MixBallots,
    ) -> Self {
        let mut rng = rand::rng();
        let (output, witness) = shuffle(&election.joint, input, &mut rng);
        let context = Context::shuffle(&election.manifest.fingerprint(), CONTEST, step.into());
        let proof = ShuffleProof::prove(
            &election.joint,
            input,
            &output,
            &witness,
            &context,
            &mut rng,
        )
        .unwrap();
        let mut enc = Encoder::new();
        proof.encode(&mut enc);
        let key = ShuffleKey {
            source: source as u64,
            batch: 0,
            step,
            trustee,
            input: input.digest(),
            output: output.digest(),
        };
        Self {
            key,
            output,
            proof: enc.finish(),
        }
    }

    /// The step's `ShuffleRecord` entries, signed by trustee `signer`.
    fn entries(&self, election: &Election, signer: u32) -> Vec<Vec<u8>> {
        let payload = self.key.signed_payload(&self.proof);
        let signature = election.sign(signer, "shuffle", &payload);
        let output: Vec<u8> = self
            .output
            .ciphertexts()
            .iter()
            .flat_map(Ciphertext::to_bytes)
            .collect();
        let record = ShuffleRecord {
            output: &output,
            proof: &self.proof,
            signature: &signature,
        };
        parts::split(SHUFFLE_RECORD_TAG, &self.key.encode(), &record.encode())
            .into_iter()
            .map(|body| election.entry(EntryKind::ShuffleRecord, body))
            .collect()
    }
}

/// A mix-net election tallied honestly, and where its tally's entries are.
struct Mixed {
    election: Election,
    /// The counted ballots' rows, in board order: step 0's input.
    rows: MixBallots,
    steps: Vec<Step>,
    /// The whole board.
    board: Vec<Vec<u8>>,
    tally: usize,
    /// The entries of each step, then of each share (trustee 1's, trustee 3's).
    step_parts: Vec<Range<usize>>,
    share_parts: Vec<Range<usize>>,
    result: usize,
    /// The result's contest as written, and the CVR it digests.
    outcome: ContestResult,
    cvr: String,
}

impl Mixed {
    /// `voters` ballots with `RANKINGS`, shuffled by trustees 1 and 3, decrypted by
    /// both.
    fn new(voters: usize) -> Self {
        let votes: Vec<Vec<u64>> = RANKINGS
            .iter()
            .cycle()
            .take(voters)
            .map(|r| r.to_vec())
            .collect();
        let election = Election::closed(YAML.to_owned(), &votes);
        let rows = counted_rows(&election);
        let mut board = election.entries.clone();
        let tally = board.len();
        let record = TallyRecord {
            polls_closed: tally as u64 - 1,
            contests: vec![ContestTally {
                contest: CONTEST.into(),
                ballots: voters as u64,
                sums: Vec::new(),
                rows: Some(Rows {
                    width: WIDTH as u32,
                    digest: rows.digest(),
                }),
            }],
        };
        board.push(election.entry(EntryKind::TallyRecord, record.encode()));
        let first = Step::shuffle(&election, tally, 0, 1, &rows);
        let second = Step::shuffle(&election, tally, 1, 3, &first.output);
        let steps = vec![first, second];
        let step_parts = steps
            .iter()
            .map(|s| append(&mut board, s.entries(&election, s.key.trustee)))
            .collect();
        let last = &steps[1].output;
        let mut verified = Vec::new();
        let mut share_parts = Vec::new();
        for trustee in [1, 3] {
            let (entries, partial) = share(&election, tally, trustee, last);
            share_parts.push(append(&mut board, entries));
            verified.push(partial);
        }
        let (outcome, cvr) = recount(&election, last, &verified);
        let result = board.len();
        board.push(election.entry(
            EntryKind::Result,
            result_body(std::slice::from_ref(&outcome)),
        ));
        Self {
            election,
            rows,
            steps,
            board,
            tally,
            step_parts,
            share_parts,
            result,
            outcome,
            cvr,
        }
    }

    fn verify(&self, board: &[Vec<u8>]) -> Report {
        self.election.verify(board)
    }

    /// The board with step `step`'s entries replaced by `entries` (as many).
    fn with_step(&self, step: usize, entries: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        let range = self.step_parts[step].clone();
        assert_eq!(entries.len(), range.len());
        let mut board = self.board.clone();
        board.splice(range, entries);
        board
    }

    /// The board with the result's contest changed by `f`.
    fn with_outcome(&self, f: impl FnOnce(&mut ContestResult)) -> Vec<Vec<u8>> {
        let mut outcome = self.outcome.clone();
        f(&mut outcome);
        let mut board = self.board.clone();
        board[self.result] = self
            .election
            .entry(EntryKind::Result, result_body(&[outcome]));
        board
    }
}

/// The counted ballots' contest ciphertexts, in board order.
fn counted_rows(election: &Election) -> MixBallots {
    let layout = urna_election::layout(&election.manifest, "default").unwrap();
    let ciphertexts = election
        .entries
        .iter()
        .map(|bytes| Entry::decode(bytes).unwrap())
        .filter(|entry| entry.kind() == EntryKind::Ballot)
        .flat_map(|entry| {
            let ballot = EncryptedBallot::from_bytes(entry.body(), &layout).unwrap();
            ballot.contests()[0].1.ciphertexts().to_vec()
        })
        .collect();
    MixBallots::new(WIDTH, ciphertexts).unwrap()
}

/// Pushes `entries` onto `board`; returns where they are.
fn append(board: &mut Vec<Vec<u8>>, entries: Vec<Vec<u8>>) -> Range<usize> {
    let start = board.len();
    board.extend(entries);
    start..board.len()
}

fn tally_context(election: &Election) -> Context {
    Context::new("tally")
        .with(&election.manifest.fingerprint())
        .with(CONTEST.as_bytes())
}

/// Trustee `trustee`'s signed partial decryption of `rows` for the tally record at
/// `source`, as `DecryptionShare` entries naming the rows, and verified.
fn share(
    election: &Election,
    source: usize,
    trustee: u32,
    rows: &MixBallots,
) -> (Vec<Vec<u8>>, VerifiedPartialDecryption) {
    let context = tally_context(election);
    let secret = &election.trustees[trustee as usize - 1].share;
    let partial =
        PartialDecryption::create(secret, rows.ciphertexts(), &context, &mut rand::rng()).unwrap();
    let key = election.ceremony.key().unwrap();
    let verified = partial.verify(key, rows.ciphertexts(), &context).unwrap();
    let partial = partial.to_bytes();
    let payload = [&0u32.to_be_bytes()[..], &partial].concat();
    let signature = election.sign(trustee, "partial-decryption", &payload);
    let key = MixShareKey {
        source: source as u64,
        batch: 0,
        trustee,
        rows: rows.digest(),
    };
    let record = MixShare {
        partial: &partial,
        signature: &signature,
    };
    let entries = parts::split(MIX_SHARE_TAG, &key.encode(), &record.encode())
        .into_iter()
        .map(|body| election.entry(EntryKind::DecryptionShare, body))
        .collect();
    (entries, verified)
}

/// The result's contest as services/tally counts the decrypted `rows`, and the CVR.
fn recount(
    election: &Election,
    rows: &MixBallots,
    verified: &[VerifiedPartialDecryption],
) -> (ContestResult, String) {
    let key = election.ceremony.key().unwrap();
    let context = tally_context(election);
    let points = threshold::combine(key, rows.ciphertexts(), &context, verified).unwrap();
    let table = DlogTable::with_size(4, 16);
    let values: Vec<u64> = points
        .iter()
        .map(|p| table.recover(p.point()).unwrap())
        .collect();
    let decrypted: Vec<&[u64]> = values.chunks(WIDTH).collect();
    let contest = &election.manifest.contests()[0];
    let count = count_rows(contest, &decrypted).unwrap();
    let outcome = ContestResult {
        contest: CONTEST.into(),
        ballots: rows.len() as u64,
        totals: Vec::new(),
        winners: count.tabulation.winner_ids(contest),
        cvr_digest: Some(Sha256::digest(count.cvr.as_bytes()).into()),
    };
    (outcome, count.cvr)
}

/// The five-voter mixed election the tests share.
fn mixed() -> &'static Mixed {
    static MIXED: OnceLock<Mixed> = OnceLock::new();
    MIXED.get_or_init(|| Mixed::new(RANKINGS.len()))
}

/// An election whose shuffle records take two parts each.
fn two_parts() -> &'static Mixed {
    static MIXED: OnceLock<Mixed> = OnceLock::new();
    MIXED.get_or_init(|| Mixed::new(TWO_PARTS))
}

#[test]
fn an_honest_mixed_board_verifies_and_reports_the_recount_and_its_cvr() {
    let mixed = mixed();
    let report = mixed.verify(&mixed.board);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.passed(Check::TallyRecord), 1);
    assert_eq!(report.passed(Check::Shuffle), 2);
    assert_eq!(report.passed(Check::DecryptionShare), 2);
    assert_eq!(report.passed(Check::Result), 1);
    // Three dealings, the complaint and the reveal, two shuffles and two shares.
    assert_eq!(report.passed(Check::TrusteeSignature), 3 + 2 + 2 + 2);
    assert_eq!(report.results(), std::slice::from_ref(&mixed.outcome));
    assert_eq!(mixed.outcome.winners, vec!["b".to_owned()]);
    let [cvr] = report.cvrs() else {
        panic!("one CVR expected:\n{report}")
    };
    assert_eq!(cvr.contest, CONTEST);
    assert_eq!(cvr.format, CvrFormat::Blt);
    assert_eq!(cvr.text, mixed.cvr);
    let contest = &mixed.election.manifest.contests()[0];
    assert_eq!(cvr.tabulation.winner_ids(contest), vec!["b".to_owned()]);
    // The last output's rows in their shuffled order: the ballots cast, each once.
    let mut lines: Vec<&str> = cvr.text.lines().skip(1).take(RANKINGS.len()).collect();
    lines.sort_unstable();
    let mut cast = BLT_LINES;
    cast.sort_unstable();
    assert_eq!(lines, cast, "{}", cvr.text);
    assert!(
        report
            .to_string()
            .contains("contest leader (5 ballots): mix-net, CVR sha256 ")
    );
}

#[test]
fn swapped_output_rows_fail_the_shuffle_proof_even_when_re_signed() {
    let mixed = mixed();
    let mut step = mixed.steps[1].clone();
    let mut rows: Vec<&[Ciphertext]> = step.output.rows().collect();
    rows.swap(0, 1);
    step.output = MixBallots::from_rows(WIDTH, &rows).unwrap();
    step.key.output = step.output.digest();
    let board = mixed.with_step(1, step.entries(&mixed.election, 3));
    let report = mixed.verify(&board);
    assert_caught(&report, Check::Shuffle, mixed.step_parts[1].start);
    assert!(report.to_string().contains("the shuffle proof fails"));
}

#[test]
fn a_changed_shuffle_proof_byte_fails_the_shuffle() {
    let mixed = mixed();
    let mut step = mixed.steps[0].clone();
    // The low byte of the challenge, after n commitments and n chain elements: still
    // a canonical scalar.
    step.proof[64 * mixed.rows.len()] ^= 1;
    let board = mixed.with_step(0, step.entries(&mixed.election, 1));
    let report = mixed.verify(&board);
    assert_caught(&report, Check::Shuffle, mixed.step_parts[0].start);
    assert!(report.to_string().contains("the shuffle proof fails"));
}

#[test]
fn a_dropped_mix_step_leaves_the_shares_and_the_result_without_k_shuffles() {
    let mixed = mixed();
    let dropped = mixed.step_parts[1].clone();
    let shift = |index: usize| index - dropped.len();
    let mut board = mixed.board.clone();
    board.drain(dropped.clone());
    let report = mixed.verify(&board);
    for share in &mixed.share_parts {
        assert_caught(&report, Check::DecryptionShare, shift(share.start));
    }
    assert_caught(&report, Check::Result, shift(mixed.result));
    assert!(
        report
            .to_string()
            .contains("a share of batch 0 before its 2 shuffles")
    );

    // Shares of the one step's output instead are refused as well.
    let mut board = mixed.board[..dropped.start].to_vec();
    let mut shares = Vec::new();
    for trustee in [1, 3] {
        let (entries, _) = share(
            &mixed.election,
            mixed.tally,
            trustee,
            &mixed.steps[0].output,
        );
        shares.push(append(&mut board, entries));
    }
    board.push(mixed.board[mixed.result].clone());
    let report = mixed.verify(&board);
    for share in shares {
        assert_caught(&report, Check::DecryptionShare, share.start);
    }
    assert_caught(&report, Check::Result, board.len() - 1);
}

#[test]
fn a_trustee_shuffling_twice_fails_the_shuffle() {
    let mixed = mixed();
    let again = Step::shuffle(&mixed.election, mixed.tally, 1, 1, &mixed.steps[0].output);
    let board = mixed.with_step(1, again.entries(&mixed.election, 1));
    let report = mixed.verify(&board);
    assert_caught(&report, Check::Shuffle, mixed.step_parts[1].start);
    assert!(
        report
            .to_string()
            .contains("trustee 1 shuffled batch 0 before")
    );
}

#[test]
fn shares_of_the_unmixed_rows_fail_the_decryption_shares() {
    let mixed = mixed();
    let mut board = mixed.board.clone();
    for (trustee, range) in [1, 3].into_iter().zip(&mixed.share_parts) {
        let (entries, _) = share(&mixed.election, mixed.tally, trustee, &mixed.rows);
        assert_eq!(entries.len(), range.len());
        board.splice(range.clone(), entries);
    }
    let report = mixed.verify(&board);
    for share in &mixed.share_parts {
        assert_caught(&report, Check::DecryptionShare, share.start);
    }
    assert_caught(&report, Check::Result, mixed.result);
    assert!(
        report
            .to_string()
            .contains("it decrypts rows other than the last shuffle's output")
    );
}

#[test]
fn a_shuffle_signed_with_another_trustees_key_fails_the_signature() {
    let mixed = mixed();
    let board = mixed.with_step(0, mixed.steps[0].entries(&mixed.election, 2));
    let report = mixed.verify(&board);
    assert_caught(&report, Check::TrusteeSignature, mixed.step_parts[0].start);
    assert!(
        report
            .to_string()
            .contains("trustee 1's shuffle signature does not verify")
    );
}

#[test]
fn a_changed_cvr_digest_or_winner_fails_the_result() {
    let mixed = mixed();
    let board = mixed.with_outcome(|outcome| outcome.cvr_digest.as_mut().unwrap()[0] ^= 1);
    let report = mixed.verify(&board);
    assert_caught(&report, Check::Result, mixed.result);
    assert_eq!(report.failures().len(), 1, "{report}");

    let board = mixed.with_outcome(|outcome| outcome.winners = vec!["a".into()]);
    let report = mixed.verify(&board);
    assert_caught(&report, Check::Result, mixed.result);
    assert_eq!(report.failures().len(), 1, "{report}");
}

#[test]
fn a_changed_rows_digest_fails_the_tally_record() {
    let mixed = mixed();
    let mut board = mixed.board.clone();
    Election::rewrite(&mut board, mixed.tally, None, |body| {
        let mut record = TallyRecord::decode(body).unwrap();
        record.contests[0].rows.as_mut().unwrap().digest[0] ^= 1;
        *body = record.encode();
    });
    let report = mixed.verify(&board);
    assert_caught(&report, Check::TallyRecord, mixed.tally);
    assert_eq!(report.failures().len(), 1, "{report}");
    assert!(
        report
            .to_string()
            .contains("mix-net contest leader: the rows are not those of the counted ballots")
    );
}

#[test]
fn a_totals_share_of_a_mixed_batch_fails_the_decryption_share() {
    let mixed = mixed();
    let first = &mixed.board[mixed.share_parts[0].start];
    let part = Entry::decode(first).unwrap();
    let part = Part::decode(part.body()).unwrap();
    assert_eq!(part.count, 1);
    let mixed_share = MixShare::decode(part.chunk).unwrap();
    let totals = DecryptionShare {
        source: mixed.tally as u64,
        batch: 0,
        trustee: 1,
        partial: mixed_share.partial,
        signature: mixed_share.signature,
    };
    let mut board = mixed.board.clone();
    board.insert(
        mixed.result,
        mixed
            .election
            .entry(EntryKind::DecryptionShare, totals.encode()),
    );
    let report = mixed.verify(&board);
    assert_caught(&report, Check::DecryptionShare, mixed.result);
    assert_eq!(report.failures().len(), 1, "{report}");
    assert!(
        report
            .to_string()
            .contains("batch 0 is a mix-net contest's: its shares come in parts")
    );
}

#[test]
fn shuffle_records_in_two_parts_verify() {
    let mixed = two_parts();
    for step in &mixed.step_parts {
        assert_eq!(step.len(), 2);
    }
    let report = mixed.verify(&mixed.board);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.passed(Check::Shuffle), 2);
    assert_eq!(report.results(), std::slice::from_ref(&mixed.outcome));
}

#[test]
fn shuffle_parts_out_of_order_or_without_the_last_fail_the_shuffle() {
    let mixed = two_parts();
    let step = mixed.step_parts[0].clone();
    let mut board = mixed.board.clone();
    board.swap(step.start, step.start + 1);
    let report = mixed.verify(&board);
    assert_caught(&report, Check::Shuffle, step.start);
    assert!(
        report
            .to_string()
            .contains("part 1 of 2 arrived where part 0 was due")
    );

    let step = mixed.step_parts[1].clone();
    let mut board = mixed.board.clone();
    board.remove(step.end - 1);
    let report = mixed.verify(&board);
    assert_caught(&report, Check::Shuffle, step.start);
    assert!(
        report
            .to_string()
            .contains("a record's parts end before its last part")
    );
}
