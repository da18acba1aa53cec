//! The `urna.v1.Tally` gRPC service: convert, call [`Tally`], convert back, with one
//! mapping from [`TallyError`] to [`Status`]. RegisterTrustee and CloseRound need the
//! admin token; every trustee submission is authenticated by its signature; reads are
//! public.

use tonic::{Request, Response, Status};
use urna_admin::AdminToken;
use urna_crypto::dkg::Disqualification;
use urna_proto::v1;
use urna_proto::v1::tally_server::TallyServer;
use urna_service::board_grpc::entry_message;
use urna_store::{CeremonyPhase, Store, TrusteeKeys};

use crate::ceremony::CeremonyState;
use crate::error::{Invalid, TallyError};
use crate::mix::MixWork;
use crate::tally::Tally;

/// The longest trustee name accepted.
const MAX_NAME_LEN: usize = 256;

/// The largest request the service decodes: a mix step's output and proof, or a
/// mixed contest's partial decryption, is about 0.5 KiB per ballot of five options,
/// so this bounds a mix-net contest near 100,000 ballots (docs/operations.md).
pub const MAX_REQUEST_BYTES: usize = 64 << 20;

/// The Tally service: the domain and the admin token that guards registration.
#[derive(Clone)]
pub struct TallyService<S> {
    tally: Tally<S>,
    admin: AdminToken,
}

/// The tonic server of the Tally service over `tally`, registration guarded by `admin`.
pub fn service<S: Store>(tally: Tally<S>, admin: AdminToken) -> TallyServer<TallyService<S>> {
    TallyServer::new(TallyService { tally, admin })
        .max_decoding_message_size(MAX_REQUEST_BYTES)
        .max_encoding_message_size(MAX_REQUEST_BYTES)
}

impl<S> TallyService<S> {
    /// Admits the call only with `authorization: Bearer <admin token>`.
    fn check_admin<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "));
        if presented.is_some_and(|p| self.admin.matches(p)) {
            Ok(())
        } else {
            tracing::warn!("tally: admin call refused: missing or wrong admin token");
            Err(Status::unauthenticated("admin token required"))
        }
    }
}

#[tonic::async_trait]
impl<S: Store> v1::tally_server::Tally for TallyService<S> {
    async fn register_trustee(
        &self,
        request: Request<v1::RegisterTrusteeRequest>,
    ) -> Result<Response<v1::RegisterTrusteeResponse>, Status> {
        self.check_admin(&request)?;
        let r = request.into_inner();
        if r.name.len() > MAX_NAME_LEN {
            return Err(TallyError::from(Invalid::TrusteeName).into());
        }
        let keys = TrusteeKeys {
            index: r.trustee_index,
            name: r.name,
            signing_key: key32(&r.signing_key)?,
            encryption_key: key32(&r.encryption_key)?,
        };
        let registered = self.tally.register_trustee(&r.election_id, keys).await?;
        Ok(Response::new(v1::RegisterTrusteeResponse { registered }))
    }

    async fn submit_dealing(
        &self,
        request: Request<v1::SubmitDealingRequest>,
    ) -> Result<Response<v1::SubmitDealingResponse>, Status> {
        let r = request.into_inner();
        let shares = r
            .shares
            .into_iter()
            .map(|s| (s.recipient, s.ciphertext))
            .collect();
        self.tally
            .submit_dealing(
                &r.election_id,
                r.trustee_index,
                r.dealing,
                shares,
                r.signature,
            )
            .await?;
        // The ceremony's entries reach the board only after genesis (§4.7).
        Ok(Response::new(v1::SubmitDealingResponse { board_index: 0 }))
    }

    async fn get_dealings(
        &self,
        request: Request<v1::GetDealingsRequest>,
    ) -> Result<Response<v1::GetDealingsResponse>, Status> {
        let r = request.into_inner();
        let dealings = self
            .tally
            .dealings(&r.election_id, r.recipient)
            .await?
            .into_iter()
            .map(|d| v1::DealingRecord {
                dealer: d.dealer,
                dealing: d.dealing,
                share: d.sealed.map(|ciphertext| v1::SealedShare {
                    recipient: r.recipient,
                    ciphertext,
                }),
            })
            .collect();
        Ok(Response::new(v1::GetDealingsResponse { dealings }))
    }

    async fn submit_complaint(
        &self,
        request: Request<v1::SubmitComplaintRequest>,
    ) -> Result<Response<v1::SubmitComplaintResponse>, Status> {
        let r = request.into_inner();
        self.tally
            .submit_complaint(&r.election_id, r.trustee_index, r.complaint, r.signature)
            .await?;
        Ok(Response::new(v1::SubmitComplaintResponse {
            board_index: 0,
        }))
    }

    async fn confirm_shares(
        &self,
        request: Request<v1::ConfirmSharesRequest>,
    ) -> Result<Response<v1::ConfirmSharesResponse>, Status> {
        let r = request.into_inner();
        let confirmed = self
            .tally
            .confirm_shares(&r.election_id, r.trustee_index, r.complaints, r.signature)
            .await?;
        Ok(Response::new(v1::ConfirmSharesResponse { confirmed }))
    }

    async fn submit_reveal(
        &self,
        request: Request<v1::SubmitRevealRequest>,
    ) -> Result<Response<v1::SubmitRevealResponse>, Status> {
        let r = request.into_inner();
        self.tally
            .submit_reveal(
                &r.election_id,
                r.trustee_index,
                r.revealed_share,
                r.signature,
            )
            .await?;
        Ok(Response::new(v1::SubmitRevealResponse { board_index: 0 }))
    }

    async fn get_ceremony_state(
        &self,
        request: Request<v1::GetCeremonyStateRequest>,
    ) -> Result<Response<v1::GetCeremonyStateResponse>, Status> {
        let r = request.into_inner();
        let state = self.tally.ceremony_state(&r.election_id).await?;
        Ok(Response::new(state_message(state)))
    }

    async fn close_round(
        &self,
        request: Request<v1::CloseRoundRequest>,
    ) -> Result<Response<v1::CloseRoundResponse>, Status> {
        self.check_admin(&request)?;
        let r = request.into_inner();
        let next = self.tally.close_round(&r.election_id).await?;
        tracing::info!(election = %r.election_id, round = ?next, "ceremony round closed by the admin");
        Ok(Response::new(v1::CloseRoundResponse {
            phase: phase(next).into(),
        }))
    }

    async fn get_mix_task(
        &self,
        request: Request<v1::GetMixTaskRequest>,
    ) -> Result<Response<v1::GetMixTaskResponse>, Status> {
        let r = request.into_inner();
        let work = self.tally.mix_work(&r.election_id, r.trustee_index).await?;
        let response = match work {
            MixWork::Shuffle(task) => v1::GetMixTaskResponse {
                state: v1::MixState::Shuffle.into(),
                batch_index: task.batch,
                contest_id: task.contest,
                step: task.step,
                steps: task.steps,
                width: task.width,
                input: task.input.concat(),
                source_index: task.source_index,
            },
            MixWork::Wait | MixWork::Done => v1::GetMixTaskResponse {
                state: if work == MixWork::Wait {
                    v1::MixState::Wait
                } else {
                    v1::MixState::Done
                }
                .into(),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn submit_shuffle(
        &self,
        request: Request<v1::SubmitShuffleRequest>,
    ) -> Result<Response<v1::SubmitShuffleResponse>, Status> {
        let r = request.into_inner();
        let board_index = self
            .tally
            .submit_shuffle(
                &r.election_id,
                r.trustee_index,
                r.batch_index,
                r.step,
                r.output,
                r.proof,
                r.signature,
            )
            .await?;
        Ok(Response::new(v1::SubmitShuffleResponse { board_index }))
    }

    async fn get_decryption_task(
        &self,
        request: Request<v1::GetDecryptionTaskRequest>,
    ) -> Result<Response<v1::GetDecryptionTaskResponse>, Status> {
        let r = request.into_inner();
        // Aggregation runs on first demand once the election is closed.
        let task = self.tally.aggregate(&r.election_id).await?;
        let batches = (0u32..)
            .zip(self.tally.decryption_batches(&r.election_id).await?)
            .map(|(batch_index, b)| v1::DecryptionBatch {
                batch_index,
                contest_id: b.contest,
                ciphertexts: b.ciphertexts.iter().map(|c| c.to_vec()).collect(),
                width: b.width,
                source_index: b.source_index,
                mix_input: b.mix_input.concat(),
            })
            .collect();
        Ok(Response::new(v1::GetDecryptionTaskResponse {
            source_index: task.source_index,
            batches,
        }))
    }

    async fn submit_partial_decryption(
        &self,
        request: Request<v1::SubmitPartialDecryptionRequest>,
    ) -> Result<Response<v1::SubmitPartialDecryptionResponse>, Status> {
        let r = request.into_inner();
        let recorded = self
            .tally
            .submit_partial(
                &r.election_id,
                r.trustee_index,
                r.batch_index,
                r.partial_decryption,
                r.signature,
            )
            .await?;
        Ok(Response::new(v1::SubmitPartialDecryptionResponse {
            board_index: recorded.board_index,
            answered: recorded.answered,
        }))
    }

    async fn get_results(
        &self,
        request: Request<v1::GetResultsRequest>,
    ) -> Result<Response<v1::GetResultsResponse>, Status> {
        let r = request.into_inner();
        let results = self.tally.results(&r.election_id).await?;
        let entry = self.tally.result_entry(&r.election_id).await?;
        let (Some(results), Some((index, entry))) = (results, entry) else {
            return Err(Status::failed_precondition("results are not ready"));
        };
        let contests = results
            .into_iter()
            .map(|c| v1::ContestResult {
                contest_id: c.contest,
                ballots: c.ballots,
                totals: c
                    .totals
                    .into_iter()
                    .map(|(option_id, total)| v1::OptionTotal { option_id, total })
                    .collect(),
                winners: c.winners,
                cvr_format: c
                    .cvr
                    .as_ref()
                    .map(|cvr| cvr.format.name().to_owned())
                    .unwrap_or_default(),
                cvr_digest: c
                    .cvr
                    .as_ref()
                    .map(|cvr| cvr.digest.to_vec())
                    .unwrap_or_default(),
                count_json: c
                    .cvr
                    .as_ref()
                    .map(|cvr| cvr.rounds.clone())
                    .unwrap_or_default(),
                cvr: c.cvr.map(|cvr| cvr.text).unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(v1::GetResultsResponse {
            contests,
            result_entry: Some(entry_message(index, entry)),
        }))
    }
}

/// A 32-byte key from the wire.
fn key32(bytes: &[u8]) -> Result<[u8; 32], Status> {
    bytes
        .try_into()
        .map_err(|_| TallyError::from(Invalid::PublicKey).into())
}

fn state_message(state: CeremonyState) -> v1::GetCeremonyStateResponse {
    let trustee_count = u32::try_from(state.trustees.len()).unwrap_or(u32::MAX);
    let trustees = state
        .trustees
        .into_iter()
        .map(|t| {
            let (disqualification, accuser) = disqualification(t.disqualification);
            let keys = t.keys.as_ref();
            v1::TrusteeStatus {
                index: t.index,
                name: keys.map(|k| k.name.clone()).unwrap_or_default(),
                registered: keys.is_some(),
                dealt: t.dealt,
                disqualification: disqualification.into(),
                accuser,
                signing_key: keys.map(|k| k.signing_key.to_vec()).unwrap_or_default(),
                encryption_key: keys.map(|k| k.encryption_key.to_vec()).unwrap_or_default(),
            }
        })
        .collect();
    v1::GetCeremonyStateResponse {
        phase: phase(state.phase).into(),
        threshold: state.threshold,
        trustee_count,
        trustees,
        complaints: state.complaints,
        reveals: state.reveals,
        threshold_public_key: state.key.map(|k| k.to_bytes()).unwrap_or_default(),
        election_fingerprint: state.election.to_vec(),
        confirmed: state.confirmed,
    }
}

fn phase(phase: CeremonyPhase) -> v1::CeremonyPhase {
    match phase {
        CeremonyPhase::Registration => v1::CeremonyPhase::Registration,
        CeremonyPhase::Dealing => v1::CeremonyPhase::Dealing,
        CeremonyPhase::Complaints => v1::CeremonyPhase::Complaints,
        CeremonyPhase::Reveals => v1::CeremonyPhase::Reveals,
        CeremonyPhase::Done => v1::CeremonyPhase::Done,
        CeremonyPhase::Failed => v1::CeremonyPhase::Failed,
    }
}

fn disqualification(d: Option<Disqualification>) -> (v1::DisqualificationReason, u32) {
    use v1::DisqualificationReason as R;
    match d {
        None => (R::Unspecified, 0),
        Some(Disqualification::NoDealing) => (R::NoDealing, 0),
        Some(Disqualification::BadRevealedShare { accuser }) => (R::BadReveal, accuser),
        Some(Disqualification::UnansweredComplaint { accuser }) => {
            (R::UnansweredComplaint, accuser)
        }
        Some(_) => (R::InvalidDealing, 0),
    }
}

impl From<TallyError> for Status {
    fn from(error: TallyError) -> Self {
        match error {
            TallyError::UnknownElection => Status::not_found("election not found"),
            TallyError::Invalid(what) => Status::invalid_argument(match what {
                Invalid::TrusteeIndex => "invalid trustee index",
                Invalid::TrusteeName => "trustee name too long",
                Invalid::PublicKey => "invalid public key",
                Invalid::Dealing => "invalid dealing",
                Invalid::Shares => "sealed shares must be one per trustee in order",
                Invalid::Complaint => "invalid complaint",
                Invalid::Reveal => "invalid revealed share",
                Invalid::Confirmation => "the complaint count differs from the complaints filed",
                Invalid::Batch => "no such decryption batch",
                Invalid::Partial => "invalid partial decryption",
                Invalid::Shuffle => "invalid shuffle: the output or proof does not check",
                Invalid::MixStep => "this trustee has already shuffled this batch",
            }),
            TallyError::Unauthenticated => {
                Status::permission_denied("not signed by the registered trustee")
            }
            TallyError::Conflict(_) => {
                Status::already_exists("a different record is already recorded")
            }
            TallyError::WrongPhase(needed) => {
                tracing::debug!(needed, "tally: request out of its round");
                Status::failed_precondition(
                    "not possible in the ceremony's or election's current state",
                )
            }
            TallyError::Board(urna_service::Error::Unavailable) => {
                Status::unavailable("board busy")
            }
            TallyError::Store(urna_store::Error::Backend(e)) => {
                tracing::error!(error = %e, "tally: store backend failed");
                Status::unavailable("storage unavailable")
            }
            other => {
                tracing::error!(error = %other, "tally: internal error");
                Status::internal("internal error")
            }
        }
    }
}
