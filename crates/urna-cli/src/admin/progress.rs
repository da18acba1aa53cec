//! The key ceremony's and the tally's progress for `urna admin status`, read from the
//! tally service's public RPCs (GetCeremonyState, GetDecryptionTask, GetResults) and,
//! for who answered which decryption batch, from the board's `DecryptionShare`
//! entries.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::Result;
use tonic::Code;
use tonic::transport::Channel;
use urna_board::{Entry, EntryKind};
use urna_crypto::dkg::ThresholdPublicKey;
use urna_crypto::encoding::Decoder;
use urna_proto::v1;
use urna_proto::v1::board_client::BoardClient;
use urna_proto::v1::tally_client::TallyClient;

/// Entries read per GetEntries call (the most the board returns).
const ENTRIES_PER_READ: u32 = 256;

/// What the tally service and the board say about an election's ceremony and tally.
#[derive(Debug, Default)]
pub(super) struct Progress {
    /// The ceremony's public state.
    pub ceremony: Option<v1::GetCeremonyStateResponse>,
    /// The decryption task, once the tally is aggregated.
    pub task: Option<v1::GetDecryptionTaskResponse>,
    /// Per trustee, the batches it answered (from the board; `None` if not read).
    pub answered: Option<BTreeMap<u32, BTreeSet<u32>>>,
    /// The results, once published.
    pub results: Option<v1::GetResultsResponse>,
}

impl Progress {
    /// Reads the progress of `election`; the tally's (task, answers, results) only
    /// once it is `closed`. The board, if given, tells who answered which batch.
    pub(super) async fn fetch(
        tally: &mut TallyClient<Channel>,
        board: Option<&mut BoardClient<Channel>>,
        election: &str,
        closed: bool,
    ) -> Result<Self> {
        let election_id = election.to_owned();
        let ceremony = optional(
            tally
                .get_ceremony_state(v1::GetCeremonyStateRequest {
                    election_id: election_id.clone(),
                })
                .await,
        )?;
        let mut progress = Self {
            ceremony,
            ..Self::default()
        };
        if !closed {
            return Ok(progress);
        }
        progress.task = optional(
            tally
                .get_decryption_task(v1::GetDecryptionTaskRequest {
                    election_id: election_id.clone(),
                    trustee_index: 0,
                })
                .await,
        )?;
        if let (Some(task), Some(board)) = (&progress.task, board) {
            progress.answered = Some(answers(board, election, task.source_index).await?);
        }
        progress.results = optional(
            tally
                .get_results(v1::GetResultsRequest { election_id })
                .await,
        )?;
        Ok(progress)
    }

    /// The report, one item a line, after the election's own status lines.
    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        let Some(c) = &self.ceremony else {
            out.push_str("  key ceremony        not started\n");
            return out;
        };
        let _ = writeln!(
            out,
            "  key ceremony        {}, {} of {} trustees",
            phase_name(c.phase()),
            c.threshold,
            c.trustee_count
        );
        for t in &c.trustees {
            let name = if t.name.is_empty() { "-" } else { &t.name };
            let mut facts = vec![
                if t.registered {
                    "registered"
                } else {
                    "not registered"
                }
                .to_owned(),
                if t.dealt { "dealt" } else { "not dealt" }.to_owned(),
            ];
            if let Some(why) = disqualification(t) {
                facts.push(format!("disqualified: {why}"));
            }
            let _ = writeln!(
                out,
                "    trustee {:<3} {name:<20} {}",
                t.index,
                facts.join(", ")
            );
        }
        if let Ok(key) = ThresholdPublicKey::from_bytes(&c.threshold_public_key) {
            let _ = writeln!(
                out,
                "  joint key           {}",
                hex::encode(key.public_key().element().to_bytes())
            );
        }
        self.render_tally(&mut out, c.threshold);
        out
    }

    fn render_tally(&self, out: &mut String, threshold: u32) {
        let Some(task) = &self.task else {
            return;
        };
        let batches = task.batches.len();
        let _ = writeln!(
            out,
            "  tally record        board entry {}, {batches} decryption batches, {threshold} answers each needed",
            task.source_index
        );
        if let (Some(answered), Some(c)) = (&self.answered, &self.ceremony) {
            for t in &c.trustees {
                let done = answered.get(&t.index).map_or(0, BTreeSet::len);
                let _ = writeln!(
                    out,
                    "    trustee {:<3} answered {done} of {batches} batches",
                    t.index
                );
            }
        }
        match &self.results {
            None => out.push_str("  results             not yet published\n"),
            Some(results) => {
                out.push_str("  results\n");
                for contest in &results.contests {
                    let totals: Vec<String> = if contest.cvr_format.is_empty() {
                        contest
                            .totals
                            .iter()
                            .map(|t| format!("{} {}", t.option_id, t.total))
                            .collect()
                    } else {
                        vec![format!("mix-net, CVR in {}", contest.cvr_format)]
                    };
                    let _ = writeln!(
                        out,
                        "    {} ({} ballots): {}; elected: {}",
                        contest.contest_id,
                        contest.ballots,
                        totals.join(", "),
                        contest.winners.join(", ")
                    );
                }
            }
        }
    }
}

/// A response's message, or `None` for FailedPrecondition and NotFound (not there yet).
fn optional<T>(response: Result<tonic::Response<T>, tonic::Status>) -> Result<Option<T>> {
    match response {
        Ok(r) => Ok(Some(r.into_inner())),
        Err(s) if matches!(s.code(), Code::FailedPrecondition | Code::NotFound) => Ok(None),
        Err(s) => Err(s.into()),
    }
}

/// Per trustee, the batches of the task at `source` answered on the board.
async fn answers(
    board: &mut BoardClient<Channel>,
    election: &str,
    source: u64,
) -> Result<BTreeMap<u32, BTreeSet<u32>>> {
    let mut answered: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    let mut start = source + 1;
    loop {
        let read = board
            .get_entries(v1::GetEntriesRequest {
                election_id: election.to_owned(),
                start,
                count: ENTRIES_PER_READ,
            })
            .await;
        let entries = match read {
            Ok(r) => r.into_inner().entries,
            // Past the latest checkpoint: every entry is read.
            Err(s) if s.code() == Code::OutOfRange => return Ok(answered),
            Err(s) => return Err(s.into()),
        };
        if entries.is_empty() {
            return Ok(answered);
        }
        start += entries.len() as u64;
        for e in entries {
            let Ok(entry) = Entry::decode(&e.entry) else {
                continue;
            };
            if entry.kind() != EntryKind::DecryptionShare {
                continue;
            }
            if let Some((batch, trustee)) = share_of(entry.body(), source) {
                answered.entry(trustee).or_default().insert(batch);
            }
        }
    }
}

/// The batch and trustee of a decryption share answering the task at `source`:
/// `lp(tag) ‖ u64be(source) ‖ u32be(batch) ‖ u32be(trustee) ‖ …` (docs/protocol.md
/// §4.8).
fn share_of(body: &[u8], source: u64) -> Option<(u32, u32)> {
    let mut d = Decoder::new(body);
    let tag = d.bytes(64).ok()?;
    if tag != b"urna/v1/decryption-share" || d.u64().ok()? != source {
        return None;
    }
    Some((d.u32().ok()?, d.u32().ok()?))
}

fn phase_name(phase: v1::CeremonyPhase) -> &'static str {
    match phase {
        v1::CeremonyPhase::Unspecified => "unknown",
        v1::CeremonyPhase::Registration => "registration",
        v1::CeremonyPhase::Dealing => "dealing",
        v1::CeremonyPhase::Complaints => "complaints",
        v1::CeremonyPhase::Reveals => "reveals",
        v1::CeremonyPhase::Done => "done",
        v1::CeremonyPhase::Failed => "failed",
    }
}

fn disqualification(t: &v1::TrusteeStatus) -> Option<String> {
    Some(match t.disqualification() {
        v1::DisqualificationReason::Unspecified => return None,
        v1::DisqualificationReason::NoDealing => "no dealing".to_owned(),
        v1::DisqualificationReason::InvalidDealing => "invalid dealing".to_owned(),
        v1::DisqualificationReason::BadReveal => {
            format!("bad reveal for trustee {}", t.accuser)
        }
        v1::DisqualificationReason::UnansweredComplaint => {
            format!("unanswered complaint of trustee {}", t.accuser)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trustee(index: u32, name: &str, dealt: bool) -> v1::TrusteeStatus {
        v1::TrusteeStatus {
            index,
            name: name.to_owned(),
            registered: !name.is_empty(),
            dealt,
            ..Default::default()
        }
    }

    #[test]
    fn the_ceremony_names_its_phase_and_every_trustee() {
        let mut gone = trustee(3, "carol", false);
        gone.set_disqualification(v1::DisqualificationReason::UnansweredComplaint);
        gone.accuser = 1;
        let mut state = v1::GetCeremonyStateResponse {
            threshold: 2,
            trustee_count: 3,
            trustees: vec![trustee(1, "alice", true), trustee(2, "", false), gone],
            ..Default::default()
        };
        state.set_phase(v1::CeremonyPhase::Reveals);
        let progress = Progress {
            ceremony: Some(state),
            ..Progress::default()
        };
        let text = progress.render();
        assert!(
            text.contains("key ceremony        reveals, 2 of 3 trustees"),
            "{text}"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].contains("trustee 1") && lines[1].contains("alice"));
        assert!(lines[1].ends_with("registered, dealt"), "{text}");
        assert!(lines[2].contains("- ") && lines[2].ends_with("not registered, not dealt"));
        assert!(
            lines[3].ends_with("disqualified: unanswered complaint of trustee 1"),
            "{text}"
        );
        assert!(!text.contains("joint key"), "{text}");
        assert!(!text.contains("tally record"), "{text}");
    }

    #[test]
    fn after_the_close_the_tally_counts_answers_and_shows_results() {
        let mut state = v1::GetCeremonyStateResponse {
            threshold: 2,
            trustee_count: 2,
            trustees: vec![trustee(1, "alice", true), trustee(2, "bob", true)],
            ..Default::default()
        };
        state.set_phase(v1::CeremonyPhase::Done);
        let batch = |batch_index| v1::DecryptionBatch {
            batch_index,
            ..Default::default()
        };
        let progress = Progress {
            ceremony: Some(state),
            task: Some(v1::GetDecryptionTaskResponse {
                source_index: 17,
                batches: vec![batch(0), batch(1)],
            }),
            answered: Some(BTreeMap::from([(1, BTreeSet::from([0, 1]))])),
            results: None,
        };
        let text = progress.render();
        assert!(
            text.contains("board entry 17, 2 decryption batches, 2 answers each needed"),
            "{text}"
        );
        assert!(
            text.contains("trustee 1   answered 2 of 2 batches"),
            "{text}"
        );
        assert!(
            text.contains("trustee 2   answered 0 of 2 batches"),
            "{text}"
        );
        assert!(
            text.contains("results             not yet published"),
            "{text}"
        );
        let published = Progress {
            results: Some(v1::GetResultsResponse {
                contests: vec![v1::ContestResult {
                    contest_id: "chair".into(),
                    ballots: 3,
                    totals: vec![
                        v1::OptionTotal {
                            option_id: "ada".into(),
                            total: 1,
                        },
                        v1::OptionTotal {
                            option_id: "grace".into(),
                            total: 2,
                        },
                    ],
                    winners: vec!["grace".into()],
                    ..Default::default()
                }],
                result_entry: None,
            }),
            ..progress
        };
        let text = published.render();
        assert!(
            text.contains("chair (3 ballots): ada 1, grace 2; elected: grace"),
            "{text}"
        );
    }

    #[test]
    fn a_decryption_share_names_its_batch_and_trustee() {
        let mut body = Vec::new();
        let tag = b"urna/v1/decryption-share";
        body.extend_from_slice(&(tag.len() as u32).to_be_bytes());
        body.extend_from_slice(tag);
        body.extend_from_slice(&17u64.to_be_bytes());
        body.extend_from_slice(&3u32.to_be_bytes());
        body.extend_from_slice(&2u32.to_be_bytes());
        body.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(share_of(&body, 17), Some((3, 2)));
        assert_eq!(share_of(&body, 16), None);
        assert_eq!(share_of(&body[..10], 17), None);
    }
}
