//! A real gRPC round trip: a tonic server for the `Board` service, backed by a real
//! urna-board log in memory, bound to `127.0.0.1:0`, called with the generated client.
//! The client checks what it receives with urna-board's verifiers only (signed note,
//! inclusion and consistency proofs), as a voter's SDK or an observer would.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Code, Request, Response, Status};
use urna_board::{
    Entry, EntryKind, Log, MemoryStore, NoteSigner, SignedCheckpoint, TreeHash, verify_consistency,
    verify_inclusion,
};
use urna_proto::v1;
use urna_proto::v1::board_client::BoardClient;
use urna_proto::v1::board_server::{Board, BoardServer};

const ELECTION: &str = "club-agm-2026";
const ORIGIN: &str = "urna.example/club-agm-2026";
const FINGERPRINT: [u8; 32] = [9; 32];
const MAX_ENTRIES: u32 = 256;

/// The tracking code of a ballot encoding (docs/protocol.md §1.9).
fn tracking_code(ballot: &[u8]) -> [u8; 32] {
    let tag = b"urna/v1/tracking-code";
    let mut hasher = Sha256::new();
    hasher.update((tag.len() as u32).to_be_bytes());
    hasher.update(tag);
    hasher.update((ballot.len() as u32).to_be_bytes());
    hasher.update(ballot);
    hasher.finalize().into()
}

/// The in-test Board: one election's log, its signed checkpoints and a tracking-code
/// index. Handlers convert, call the log, convert back; the lock is never held across
/// an await.
struct TestBoard {
    log: Mutex<Log<MemoryStore>>,
    signer: NoteSigner,
    latest: Mutex<SignedCheckpoint>,
    ballots: Mutex<HashMap<[u8; 32], u64>>,
}

impl TestBoard {
    fn new() -> Self {
        let signer = NoteSigner::from_seed(ORIGIN, &[7; 32]).unwrap();
        let mut log = Log::open(MemoryStore::new(), ORIGIN).unwrap();
        let manifest = Entry::new(EntryKind::ElectionManifest, FINGERPRINT, b"m".to_vec());
        log.integrate(&[manifest.unwrap().encode()]).unwrap();
        let latest = log.sign_checkpoint(&signer).unwrap();
        Self {
            log: Mutex::new(log),
            signer,
            latest: Mutex::new(latest),
            ballots: Mutex::new(HashMap::new()),
        }
    }

    /// Appends ballots as one batch and signs a checkpoint for it.
    fn append_ballots(&self, ballots: &[Vec<u8>]) {
        let entries: Vec<Vec<u8>> = ballots
            .iter()
            .map(|b| Entry::new(EntryKind::Ballot, FINGERPRINT, b.clone()).unwrap())
            .map(|e| e.encode())
            .collect();
        let mut log = self.log.lock().unwrap();
        let first = log.integrate(&entries).unwrap();
        let mut index = self.ballots.lock().unwrap();
        for (offset, ballot) in ballots.iter().enumerate() {
            index.insert(tracking_code(ballot), first + offset as u64);
        }
        *self.latest.lock().unwrap() = log.sign_checkpoint(&self.signer).unwrap();
    }

    fn check_election(&self, election_id: &str) -> Result<u64, Status> {
        if election_id != ELECTION {
            return Err(Status::not_found("unknown election"));
        }
        Ok(self.latest.lock().unwrap().checkpoint().size())
    }

    fn checkpoint(&self) -> v1::SignedCheckpoint {
        let signed = self.latest.lock().unwrap();
        let checkpoint = signed.checkpoint();
        v1::SignedCheckpoint {
            note: signed.note().to_owned(),
            origin: checkpoint.origin().to_owned(),
            tree_size: checkpoint.size(),
            root_hash: checkpoint.root().as_bytes().to_vec(),
        }
    }

    fn entry(&self, index: u64) -> Result<v1::BoardEntry, Status> {
        let bytes = self.log.lock().unwrap().entries(index, index + 1);
        let mut bytes = bytes.map_err(|_| Status::internal("board unavailable"))?;
        let entry = bytes
            .pop()
            .ok_or_else(|| Status::internal("board unavailable"))?;
        let decoded = Entry::decode(&entry).map_err(|_| Status::internal("board unavailable"))?;
        Ok(v1::BoardEntry {
            index,
            kind: i32::from(decoded.kind().to_byte()),
            entry,
        })
    }

    fn inclusion(&self, leaf_index: u64, tree_size: u64) -> Result<v1::InclusionProof, Status> {
        let log = self.log.lock().unwrap();
        let proof = log.inclusion_proof(leaf_index, tree_size);
        let proof = proof.map_err(|_| Status::internal("board unavailable"))?;
        Ok(v1::InclusionProof {
            leaf_index,
            tree_size,
            hashes: proof.iter().map(|h| h.as_bytes().to_vec()).collect(),
        })
    }
}

#[tonic::async_trait]
impl Board for TestBoard {
    async fn get_checkpoint(
        &self,
        request: Request<v1::GetCheckpointRequest>,
    ) -> Result<Response<v1::GetCheckpointResponse>, Status> {
        self.check_election(&request.get_ref().election_id)?;
        Ok(Response::new(v1::GetCheckpointResponse {
            checkpoint: Some(self.checkpoint()),
        }))
    }

    async fn get_entries(
        &self,
        request: Request<v1::GetEntriesRequest>,
    ) -> Result<Response<v1::GetEntriesResponse>, Status> {
        let request = request.into_inner();
        let size = self.check_election(&request.election_id)?;
        if request.count == 0 || request.count > MAX_ENTRIES {
            return Err(Status::invalid_argument("count must be 1 to 256"));
        }
        if request.start >= size {
            return Err(Status::out_of_range("start is past the checkpoint"));
        }
        let end = size.min(request.start + u64::from(request.count));
        let entries = (request.start..end)
            .map(|index| self.entry(index))
            .collect::<Result<_, _>>()?;
        Ok(Response::new(v1::GetEntriesResponse { entries }))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<v1::GetInclusionProofRequest>,
    ) -> Result<Response<v1::GetInclusionProofResponse>, Status> {
        let request = request.into_inner();
        let size = self.check_election(&request.election_id)?;
        if request.tree_size > size {
            return Err(Status::out_of_range("tree size is past the checkpoint"));
        }
        if request.leaf_index >= request.tree_size {
            return Err(Status::invalid_argument(
                "leaf index must be below tree size",
            ));
        }
        let proof = self.inclusion(request.leaf_index, request.tree_size)?;
        Ok(Response::new(v1::GetInclusionProofResponse {
            proof: Some(proof),
        }))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<v1::GetConsistencyProofRequest>,
    ) -> Result<Response<v1::GetConsistencyProofResponse>, Status> {
        let request = request.into_inner();
        let size = self.check_election(&request.election_id)?;
        if request.new_size > size {
            return Err(Status::out_of_range("new size is past the checkpoint"));
        }
        if request.old_size == 0 || request.old_size > request.new_size {
            return Err(Status::invalid_argument(
                "sizes must satisfy 1 <= old <= new",
            ));
        }
        let log = self.log.lock().unwrap();
        let proof = log.consistency_proof(request.old_size, request.new_size);
        let proof = proof.map_err(|_| Status::internal("board unavailable"))?;
        Ok(Response::new(v1::GetConsistencyProofResponse {
            proof: Some(v1::ConsistencyProof {
                old_size: request.old_size,
                new_size: request.new_size,
                hashes: proof.iter().map(|h| h.as_bytes().to_vec()).collect(),
            }),
        }))
    }

    async fn get_entry_by_tracking_code(
        &self,
        request: Request<v1::GetEntryByTrackingCodeRequest>,
    ) -> Result<Response<v1::GetEntryByTrackingCodeResponse>, Status> {
        let request = request.into_inner();
        let size = self.check_election(&request.election_id)?;
        let code: [u8; 32] = request
            .tracking_code
            .as_slice()
            .try_into()
            .map_err(|_| Status::invalid_argument("a tracking code is 32 bytes"))?;
        let index = self.ballots.lock().unwrap().get(&code).copied();
        let index = index.ok_or_else(|| Status::not_found("no ballot with this tracking code"))?;
        Ok(Response::new(v1::GetEntryByTrackingCodeResponse {
            entry: Some(self.entry(index)?),
            inclusion_proof: Some(self.inclusion(index, size)?),
            checkpoint: Some(self.checkpoint()),
        }))
    }
}

/// A running server and the means to stop it.
struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

async fn serve(board: TestBoard) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(Server::builder().serve_with_incoming_shutdown(
        BoardServer::new(board),
        TcpIncoming::from(listener),
        async {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        },
    ));
    Running { addr, stop, task }
}

async fn client(addr: SocketAddr) -> BoardClient<tonic::transport::Channel> {
    BoardClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

fn hashes(proof: &[Vec<u8>]) -> Vec<TreeHash> {
    proof
        .iter()
        .map(|h| TreeHash::from_slice(h).unwrap())
        .collect()
}

/// Opens a checkpoint received over the wire with the log's public key only, and
/// checks the convenience fields against the signed note.
fn open(checkpoint: &v1::SignedCheckpoint, signer: &NoteSigner) -> SignedCheckpoint {
    let opened =
        SignedCheckpoint::open(checkpoint.note.as_bytes(), ORIGIN, &[signer.verifier()]).unwrap();
    assert_eq!(checkpoint.origin, ORIGIN);
    assert_eq!(checkpoint.tree_size, opened.checkpoint().size());
    assert_eq!(checkpoint.root_hash, opened.checkpoint().root().as_bytes());
    opened
}

#[tokio::test]
async fn checkpoint_entries_and_proofs_round_trip_over_a_socket() {
    let board = TestBoard::new();
    let signer = NoteSigner::from_seed(ORIGIN, &[7; 32]).unwrap();
    let ballots: Vec<Vec<u8>> = (0u8..5).map(|i| vec![i; 40 + usize::from(i)]).collect();
    board.append_ballots(&ballots[..2]);
    let old = board.checkpoint();
    board.append_ballots(&ballots[2..]);
    let running = serve(board).await;
    let mut client = client(running.addr).await;

    // The latest checkpoint: 1 manifest + 5 ballots, signed by the log's key.
    let response = client
        .get_checkpoint(v1::GetCheckpointRequest {
            election_id: ELECTION.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let latest = open(&response.checkpoint.unwrap(), &signer);
    assert_eq!(latest.checkpoint().size(), 6);

    // Entries come back byte for byte, with their kinds.
    let entries = client
        .get_entries(v1::GetEntriesRequest {
            election_id: ELECTION.to_owned(),
            start: 1,
            count: 256,
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(entries.len(), 5);
    for (offset, (entry, ballot)) in entries.iter().zip(&ballots).enumerate() {
        assert_eq!(entry.index, 1 + offset as u64);
        assert_eq!(entry.kind(), v1::EntryKind::Ballot);
        assert_eq!(
            Entry::decode(&entry.entry).unwrap().body(),
            ballot.as_slice()
        );
    }

    // A voter's receipt check: find the ballot by tracking code, verify its inclusion.
    let found = client
        .get_entry_by_tracking_code(v1::GetEntryByTrackingCodeRequest {
            election_id: ELECTION.to_owned(),
            tracking_code: tracking_code(&ballots[3]).to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    let entry = found.entry.unwrap();
    let proof = found.inclusion_proof.unwrap();
    let checkpoint = open(&found.checkpoint.unwrap(), &signer);
    assert_eq!((entry.index, proof.leaf_index, proof.tree_size), (4, 4, 6));
    let leaf = TreeHash::leaf(&entry.entry);
    let root = checkpoint.checkpoint().root();
    verify_inclusion(&leaf, 4, 6, &hashes(&proof.hashes), root).unwrap();

    // The same entry proven in the older tree it first appeared in, then that tree
    // proven a prefix of the latest.
    let old_size = old.tree_size;
    let proof = client
        .get_inclusion_proof(v1::GetInclusionProofRequest {
            election_id: ELECTION.to_owned(),
            leaf_index: 2,
            tree_size: old_size,
        })
        .await
        .unwrap()
        .into_inner()
        .proof
        .unwrap();
    let old_root = TreeHash::from_slice(&old.root_hash).unwrap();
    let leaf = TreeHash::leaf(&entries[1].entry);
    verify_inclusion(&leaf, 2, old_size, &hashes(&proof.hashes), &old_root).unwrap();
    let consistency = client
        .get_consistency_proof(v1::GetConsistencyProofRequest {
            election_id: ELECTION.to_owned(),
            old_size,
            new_size: 6,
        })
        .await
        .unwrap()
        .into_inner()
        .proof
        .unwrap();
    assert_eq!((consistency.old_size, consistency.new_size), (3, 6));
    let proof = hashes(&consistency.hashes);
    verify_consistency(old_size, 6, &proof, &old_root, root).unwrap();
    // A tampered proof hash fails, so the check above is not vacuous.
    let mut bad = proof.clone();
    bad[0] = TreeHash::from_bytes([0; 32]);
    assert!(verify_consistency(old_size, 6, &bad, &old_root, root).is_err());

    running.stop.send(()).unwrap();
    running.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn bad_requests_get_their_status_codes_over_the_socket() {
    let board = TestBoard::new();
    board.append_ballots(&[vec![1; 40]]);
    let running = serve(board).await;
    let mut client = client(running.addr).await;
    let election_id = ELECTION.to_owned();

    let status = client
        .get_checkpoint(v1::GetCheckpointRequest {
            election_id: "no-such-election".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(status.message(), "unknown election");

    let entries = |start, count| v1::GetEntriesRequest {
        election_id: election_id.clone(),
        start,
        count,
    };
    let status = client.get_entries(entries(0, 257)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client.get_entries(entries(2, 1)).await.unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange);

    let inclusion = |leaf_index, tree_size| v1::GetInclusionProofRequest {
        election_id: election_id.clone(),
        leaf_index,
        tree_size,
    };
    let status = client
        .get_inclusion_proof(inclusion(2, 2))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client
        .get_inclusion_proof(inclusion(0, 3))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange);

    let status = client
        .get_entry_by_tracking_code(v1::GetEntryByTrackingCodeRequest {
            election_id: election_id.clone(),
            tracking_code: vec![0; 31],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client
        .get_entry_by_tracking_code(v1::GetEntryByTrackingCodeRequest {
            election_id,
            tracking_code: tracking_code(&[2; 40]).to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    drop(running.stop);
    running.task.await.unwrap().unwrap();
}

/// Sends bytes as they are, without protobuf encoding: what a broken or hostile
/// client puts on the wire.
#[derive(Clone, Default)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Status> {
        use bytes::BufMut as _;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        use bytes::Buf as _;
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

#[tokio::test]
async fn a_request_that_is_not_protobuf_is_invalid_argument_with_a_fixed_message() {
    let running = serve(TestBoard::new()).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/urna.v1.Board/GetCheckpoint");
    // Field 1 with wire type 7 does not exist: prost refuses it.
    let status = grpc
        .unary(Request::new(vec![0x0f, 0xff, 0xff]), path, RawCodec)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "malformed request");
    let _ = running.stop.send(());
    running.task.await.unwrap().unwrap();
}
