//! Profiles from the literature shared by the methods' tests.

use crate::profile::{Candidate, CandidateId, RankedBallot, RankedProfile};

/// The Tennessee capital example (Wikipedia, "Condorcet method"): 42% Memphis,
/// 26% Nashville, 15% Chattanooga, 17% Knoxville, each ranking by distance.
pub(crate) fn tennessee() -> RankedProfile {
    let c = CandidateId::new;
    let (m, n, ch, k) = (c(0), c(1), c(2), c(3));
    RankedProfile::new(
        ["Memphis", "Nashville", "Chattanooga", "Knoxville"]
            .map(Candidate::new)
            .into(),
        Some(1),
        None,
        vec![
            RankedBallot::strict(42, &[m, n, ch, k]),
            RankedBallot::strict(26, &[n, ch, k, m]),
            RankedBallot::strict(15, &[ch, k, n, m]),
            RankedBallot::strict(17, &[k, ch, n, m]),
        ],
    )
    .unwrap()
}

/// `n` standing candidates named C0, C1, …
pub(crate) fn cands(n: usize) -> Vec<Candidate> {
    (0..n).map(|i| Candidate::new(format!("C{i}"))).collect()
}

/// A profile from `(count, "ACBED")` rows over candidates named A, B, C, …
pub(crate) fn letters(n: usize, rows: &[(u64, &str)]) -> RankedProfile {
    let cands = (0..n)
        .map(|i| Candidate::new(char::from(b'A' + i as u8).to_string()))
        .collect();
    let ballots = rows
        .iter()
        .map(|(count, order)| {
            let ids: Vec<CandidateId> = order
                .bytes()
                .map(|b| CandidateId::new(u32::from(b - b'A')))
                .collect();
            RankedBallot::strict(*count, &ids)
        })
        .collect();
    RankedProfile::new(cands, Some(1), None, ballots).unwrap()
}

/// Schulze (2018), section 3.1, example 1: 45 voters over A–E with a majority cycle.
pub(crate) fn schulze_example_1() -> RankedProfile {
    letters(
        5,
        &[
            (5, "ACBED"),
            (5, "ADECB"),
            (8, "BEDAC"),
            (3, "CABED"),
            (7, "CAEBD"),
            (2, "CBADE"),
            (7, "DCEBA"),
            (8, "EBADC"),
        ],
    )
}
