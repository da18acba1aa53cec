//! The wire form of a signed ballot style (feature `election`): the structured view of
//! a [`StyleDocument`] that `GetBallotStyleResponse` carries beside the signed bytes.
//! The issuance service builds it, and a client rebuilds it from the bytes it verified
//! to check that the view says exactly what was signed.

use urna_election::{Method, StyleContest, StyleDocument, TallyKind};

use crate::v1;

/// The response for `document` with its canonical bytes, signing key and signature.
#[must_use]
pub fn style_response(
    document: &StyleDocument,
    canonical_style: Vec<u8>,
    signing_key: Vec<u8>,
    signature: Vec<u8>,
) -> v1::GetBallotStyleResponse {
    v1::GetBallotStyleResponse {
        election_id: document.election_id.clone(),
        election_fingerprint: document.fingerprint.to_vec(),
        style_id: document.style_id.clone(),
        title: document.title.clone(),
        contests: document.contests.iter().map(contest).collect(),
        election_public_key: document.election_key.to_vec(),
        canonical_style,
        signing_key,
        signature,
    }
}

fn contest(c: &StyleContest) -> v1::Contest {
    v1::Contest {
        id: c.id.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        method: method(c.method).into(),
        tally: match c.tally {
            TallyKind::Homomorphic => v1::TallyKind::Homomorphic,
            TallyKind::Mixnet => v1::TallyKind::Mixnet,
        }
        .into(),
        seats: c.seats,
        options: c
            .options
            .iter()
            .map(|o| v1::ContestOption {
                id: o.id.clone(),
                name: o.name.clone(),
                party: o.party.clone(),
                description: o.description.clone(),
            })
            .collect(),
        // A style document holds at most 1,024 options (urna_election::style::MAX_ITEMS).
        shape: Some(v1::ContestShape {
            options: u32::try_from(c.shape.options).unwrap_or(u32::MAX),
            max_value: c.shape.max_value,
            min_total: c.shape.min_sum,
            max_total: c.shape.max_sum,
        }),
        score_min: c.score_min,
    }
}

/// The wire enum of a counting method.
#[must_use]
pub fn method(m: Method) -> v1::CountingMethod {
    use v1::CountingMethod as C;
    match m {
        Method::Plurality => C::Plurality,
        Method::Approval => C::Approval,
        Method::Referendum => C::Referendum,
        Method::Score => C::Score,
        Method::Star => C::Star,
        Method::Borda => C::Borda,
        Method::Irv => C::Irv,
        Method::ScottishStv => C::ScottishStv,
        Method::MeekStv => C::MeekStv,
        Method::WigmStv => C::WigmStv,
        Method::Schulze => C::Schulze,
        Method::RankedPairs => C::RankedPairs,
    }
}
