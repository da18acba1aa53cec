//! What a voter keeps: enough to check, then and later, that the ballot is on the
//! public board unchanged.

use urna_board::{SignedCheckpoint, TreeHash};

/// A receipt of a cast or spoiled ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The election's id.
    pub election_id: String,
    /// The tracking code.
    pub tracking_code: [u8; 32],
    /// The tracking code in short human form.
    pub short_code: String,
    /// The entry's leaf index on the board.
    pub index: u64,
    /// The board entry (canonical envelope) recording the ballot.
    pub entry: Vec<u8>,
    /// The entry's inclusion proof in the tree of `checkpoint`.
    pub inclusion_proof: Vec<TreeHash>,
    /// A signed checkpoint that includes the entry.
    pub checkpoint: SignedCheckpoint,
    /// Under `last-counts`: this ballot supersedes an earlier one of its credential.
    pub supersedes_previous: bool,
    /// The ballot was challenged and spoiled (never counted).
    pub spoiled: bool,
}
