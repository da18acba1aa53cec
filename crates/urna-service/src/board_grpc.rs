//! The public `urna.v1.Board` gRPC service over the board registry: thin handlers
//! (convert, call the board, convert back) and one mapping from [`Error`] to
//! [`Status`].

use tonic::{Request, Response, Status};
use urna_board::{Entry, SignedCheckpoint, TreeHash};
use urna_proto::v1;
use urna_proto::v1::board_server::{self, BoardServer};
use urna_store::Store;

use crate::boards::Boards;
use crate::error::Error;

/// The most entries one `GetEntries` call returns (one C2SP entry bundle).
pub const MAX_ENTRIES: u32 = 256;

/// The Board service.
#[derive(Debug, Clone)]
pub struct BoardService<S> {
    boards: Boards<S>,
}

/// The tonic server of the Board service over `boards`.
pub fn service<S: Store>(boards: Boards<S>) -> BoardServer<BoardService<S>> {
    BoardServer::new(BoardService { boards })
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::UnknownElection => Status::not_found("unknown election"),
            Error::UnknownBallot => Status::not_found("no ballot with this tracking code"),
            Error::WrongState(_) => Status::failed_precondition("election has no board yet"),
            Error::OutOfRange => Status::out_of_range("past the latest checkpoint"),
            Error::Unavailable => Status::unavailable("board busy, retry"),
            other => {
                tracing::error!(error = %other, "board failure");
                Status::internal("board unavailable")
            }
        }
    }
}

/// The wire form of a signed checkpoint.
pub fn checkpoint_message(signed: &SignedCheckpoint) -> v1::SignedCheckpoint {
    let checkpoint = signed.checkpoint();
    v1::SignedCheckpoint {
        note: signed.note().to_owned(),
        origin: checkpoint.origin().to_owned(),
        tree_size: checkpoint.size(),
        root_hash: checkpoint.root().as_bytes().to_vec(),
    }
}

/// The wire form of an entry at `index`.
pub fn entry_message(index: u64, entry: Vec<u8>) -> v1::BoardEntry {
    let kind = Entry::decode(&entry).map_or(0, |e| i32::from(e.kind().to_byte()));
    v1::BoardEntry { index, kind, entry }
}

/// The wire form of an inclusion proof.
pub fn inclusion_message(
    leaf_index: u64,
    tree_size: u64,
    proof: &[TreeHash],
) -> v1::InclusionProof {
    v1::InclusionProof {
        leaf_index,
        tree_size,
        hashes: hashes(proof),
    }
}

fn hashes(proof: &[TreeHash]) -> Vec<Vec<u8>> {
    proof.iter().map(|h| h.as_bytes().to_vec()).collect()
}

#[tonic::async_trait]
impl<S: Store> board_server::Board for BoardService<S> {
    async fn get_checkpoint(
        &self,
        request: Request<v1::GetCheckpointRequest>,
    ) -> Result<Response<v1::GetCheckpointResponse>, Status> {
        let board = self.boards.get(&request.get_ref().election_id).await?;
        Ok(Response::new(v1::GetCheckpointResponse {
            checkpoint: Some(checkpoint_message(&board.current().await)),
        }))
    }

    async fn get_entries(
        &self,
        request: Request<v1::GetEntriesRequest>,
    ) -> Result<Response<v1::GetEntriesResponse>, Status> {
        let request = request.into_inner();
        if request.count == 0 || request.count > MAX_ENTRIES {
            return Err(Status::invalid_argument("count must be 1 to 256"));
        }
        let board = self.boards.get(&request.election_id).await?;
        if request.start >= board.latest().checkpoint().size() {
            return Err(Error::OutOfRange.into());
        }
        let end = request.start.saturating_add(u64::from(request.count));
        let entries = board.entries(request.start, end).await?;
        Ok(Response::new(v1::GetEntriesResponse {
            entries: (request.start..)
                .zip(entries)
                .map(|(index, entry)| entry_message(index, entry))
                .collect(),
        }))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<v1::GetInclusionProofRequest>,
    ) -> Result<Response<v1::GetInclusionProofResponse>, Status> {
        let request = request.into_inner();
        if request.leaf_index >= request.tree_size {
            return Err(Status::invalid_argument(
                "leaf index must be below tree size",
            ));
        }
        let board = self.boards.get(&request.election_id).await?;
        let proof = board
            .inclusion_proof(request.leaf_index, request.tree_size)
            .await?;
        Ok(Response::new(v1::GetInclusionProofResponse {
            proof: Some(inclusion_message(
                request.leaf_index,
                request.tree_size,
                &proof,
            )),
        }))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<v1::GetConsistencyProofRequest>,
    ) -> Result<Response<v1::GetConsistencyProofResponse>, Status> {
        let request = request.into_inner();
        if request.old_size == 0 || request.old_size > request.new_size {
            return Err(Status::invalid_argument(
                "sizes must satisfy 1 <= old <= new",
            ));
        }
        let board = self.boards.get(&request.election_id).await?;
        let proof = board
            .consistency_proof(request.old_size, request.new_size)
            .await?;
        Ok(Response::new(v1::GetConsistencyProofResponse {
            proof: Some(v1::ConsistencyProof {
                old_size: request.old_size,
                new_size: request.new_size,
                hashes: hashes(&proof),
            }),
        }))
    }

    async fn get_entry_by_tracking_code(
        &self,
        request: Request<v1::GetEntryByTrackingCodeRequest>,
    ) -> Result<Response<v1::GetEntryByTrackingCodeResponse>, Status> {
        let request = request.into_inner();
        let code: [u8; 32] = request
            .tracking_code
            .as_slice()
            .try_into()
            .map_err(|_| Status::invalid_argument("a tracking code is 32 bytes"))?;
        let board = self.boards.get(&request.election_id).await?;
        let (index, checkpoint) = board.located(code).await?;
        let size = checkpoint.checkpoint().size();
        let entry = board
            .entries(index, index + 1)
            .await?
            .pop()
            .ok_or(Error::UnknownBallot)?;
        let proof = board.inclusion_proof(index, size).await?;
        Ok(Response::new(v1::GetEntryByTrackingCodeResponse {
            entry: Some(entry_message(index, entry)),
            inclusion_proof: Some(inclusion_message(index, size, &proof)),
            checkpoint: Some(checkpoint_message(&checkpoint)),
        }))
    }
}
