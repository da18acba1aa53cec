//! Until the tally mixes whole ballots, an election with ranked or STAR contests is
//! refused at aggregation, before anything reaches the board.

use urna_board::SequencerConfig;
use urna_election::TallyKind;
use urna_service::testing::TestElection;
use urna_service::{Boards, Elections};
use urna_store::{ElectionState, TallyStore};
use urna_tally::{Tally, TallyError};

#[tokio::test]
async fn an_election_with_mixnet_contests_is_not_aggregated() {
    let ranked = include_str!("../../../examples/club-election-ranked.yaml");
    let election = TestElection::from_yaml(ranked).await;
    assert!(
        election
            .manifest()
            .contests()
            .iter()
            .all(|c| c.tally() == TallyKind::Mixnet)
    );
    election.advance_to(ElectionState::Closed).await;
    let store = election.store();
    let boards = Boards::new(store.clone(), "urna.test", SequencerConfig::default());
    let elections = Elections::new(store.clone(), "urna.test");
    let tally = Tally::new(store.clone(), elections, boards);
    let refused = tally.aggregate(election.id()).await.unwrap_err();
    assert!(matches!(refused, TallyError::WrongPhase(_)), "{refused:?}");
    assert!(store.tally_task(election.id()).await.unwrap().is_none());
}
