//! An encrypted contest: one ciphertext per option, a range proof per option, and a
//! selection-limit proof on their sum; or, for a ranked contest tallied by mix-net,
//! one rank position per option with the proof that they form a ranking
//! ([`crate::ranking`]).
//!
//! This is the unit the casting service and the verifier check, and the unit that is
//! added up homomorphically at the tally. Which contests a ballot has, and what each
//! option means, is urna-election's business; this module sees only a [`ContestShape`].

use core::fmt;

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;

use crate::elgamal::{Ciphertext, EncryptionKey, Nonce, PublicKey};
use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, Error, VerifyError};
use crate::proofs::batch::{BatchVerifier, Batchable, Terms, Weights, verify_single};
use crate::proofs::range::{Bound, MAX_BRANCHES, RangeKind, RangeProof, RangeStatement};
use crate::ranking::{CheckedRanking, RankingProof, RankingShape, ranked_count};
use crate::transcript::Context;

/// The most options a contest may have.
pub const MAX_OPTIONS: u32 = 1024;

/// What the cryptography needs to know about a contest: how many options, the largest
/// value an option may hold (1 for a choice, L for a score of 0..=L), and the allowed
/// range of the sum of all options (the selection limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContestShape {
    options: u32,
    max_value: u64,
    min_total: u64,
    max_total: u64,
    /// For a ranked contest: the values are rank positions, proven a ranking.
    ranking: Option<RankingShape>,
}

impl ContestShape {
    /// A validated shape: 1 to 1024 options, `1 <= max_value < 1024`,
    /// `min_total <= max_total <= options·max_value`, and at most 1024 possible totals.
    pub fn new(
        options: u32,
        max_value: u64,
        min_total: u64,
        max_total: u64,
    ) -> Result<Self, Error> {
        if options == 0 || options > MAX_OPTIONS {
            return Err(Error::Parameters("a contest has 1 to 1024 options"));
        }
        if max_value == 0 || max_value >= MAX_BRANCHES {
            return Err(Error::Parameters("an option's maximum value is 1 to 1023"));
        }
        let reachable = u64::from(options) * max_value;
        if min_total > max_total || max_total > reachable || max_total - min_total >= MAX_BRANCHES {
            return Err(Error::Parameters(
                "selection limits must satisfy min <= max <= options x max value, with at most 1024 totals",
            ));
        }
        Ok(Self {
            options,
            max_value,
            min_total,
            max_total,
            ranking: None,
        })
    }

    /// A ranked contest's shape: each option's value is its rank position (1 for the
    /// first choice, 0 if unranked), and a voter ranks `min_ranked` to `max_ranked`
    /// options; the values are proven to be exactly the positions `1 … r`. The value
    /// range is then `0..=options` and the sum's `r(r+1)/2` for those limits.
    pub fn ranked(options: u32, min_ranked: u32, max_ranked: u32) -> Result<Self, Error> {
        let ranking = RankingShape::new(options, min_ranked, max_ranked)?;
        let triangle = |r: u32| u64::from(r) * (u64::from(r) + 1) / 2;
        Ok(Self {
            options,
            max_value: u64::from(options),
            min_total: triangle(min_ranked),
            max_total: triangle(max_ranked),
            ranking: Some(ranking),
        })
    }

    /// The ranking's shape, for a ranked contest.
    pub fn ranking(&self) -> Option<&RankingShape> {
        self.ranking.as_ref()
    }

    /// Number of options.
    pub fn options(&self) -> u32 {
        self.options
    }

    /// Largest value of one option.
    pub fn max_value(&self) -> u64 {
        self.max_value
    }

    /// Smallest allowed sum of all options.
    pub fn min_total(&self) -> u64 {
        self.min_total
    }

    /// Largest allowed sum of all options.
    pub fn max_total(&self) -> u64 {
        self.max_total
    }

    /// Whether the contest needs a selection-limit proof: not when the limits are
    /// `0..=options·max_value`, which every ballot with valid options meets anyway
    /// (approval, score without a budget).
    pub fn has_selection_proof(&self) -> bool {
        self.ranking.is_none()
            && !(self.min_total == 0 && self.max_total == u64::from(self.options) * self.max_value)
    }

    fn option_statement<'a>(
        &self,
        ciphertext: &'a Ciphertext,
        index: usize,
        context: &'a Context,
    ) -> RangeStatement<'a> {
        RangeStatement {
            kind: RangeKind::Option,
            ciphertext,
            lo: 0,
            hi: self.max_value,
            index: index as u64,
            context,
        }
    }

    fn selection_statement<'a>(
        &self,
        sum: &'a Ciphertext,
        context: &'a Context,
    ) -> RangeStatement<'a> {
        RangeStatement {
            kind: RangeKind::Selection,
            ciphertext: sum,
            lo: self.min_total,
            hi: self.max_total,
            index: u64::from(self.options),
            context,
        }
    }
}

/// One contest of a ballot, encrypted and proven well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedContest {
    ciphertexts: Vec<Ciphertext>,
    proofs: Vec<RangeProof>,
    selection: Option<RangeProof>,
    /// A ranked contest's proof (then `proofs` is empty and `selection` is `None`).
    ranking: Option<RankingProof>,
}

/// The secret opening of an encrypted contest: the values and the encryption nonces.
/// Revealing it (a Benaloh challenge) spoils the contest; it must never be revealed for
/// a ballot that is cast.
pub struct ContestOpening {
    values: Vec<u64>,
    nonces: Vec<Nonce>,
}

impl EncryptedContest {
    /// Encrypts `values` (one per option) and proves them well-formed under `context`.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        key: &EncryptionKey,
        shape: &ContestShape,
        values: &[u64],
        context: &Context,
        rng: &mut R,
    ) -> Result<(Self, ContestOpening), Error> {
        if values.len() != shape.options as usize {
            return Err(Error::Parameters("one value per option"));
        }
        if let Some(ranking) = &shape.ranking {
            let ranked = ranked_count(values, ranking)?;
            let (ciphertexts, nonces): (Vec<Ciphertext>, Vec<Nonce>) =
                values.iter().map(|&v| key.encrypt(v, rng)).unzip();
            let proof = RankingProof::prove(
                key,
                ranking,
                (values, ranked),
                (&ciphertexts, &nonces),
                context,
                rng,
            )?;
            let contest = Self {
                ciphertexts,
                proofs: Vec::new(),
                selection: None,
                ranking: Some(proof),
            };
            return Ok((contest, ContestOpening::new(values.to_vec(), nonces)));
        }
        let total = values.iter().try_fold(0u64, |sum, v| sum.checked_add(*v));
        if !total.is_some_and(|t| (shape.min_total..=shape.max_total).contains(&t)) {
            return Err(Error::Parameters("selections outside the contest's limits"));
        }
        let mut ciphertexts = Vec::with_capacity(values.len());
        let mut nonces = Vec::with_capacity(values.len());
        let mut proofs = Vec::with_capacity(values.len());
        for (index, &value) in values.iter().enumerate() {
            let (ciphertext, nonce) = key.encrypt(value, rng);
            let statement = shape.option_statement(&ciphertext, index, context);
            proofs.push(RangeProof::prove(key, &statement, value, &nonce, rng)?);
            ciphertexts.push(ciphertext);
            nonces.push(nonce);
        }
        let selection = if shape.has_selection_proof() {
            let sum = Ciphertext::sum(&ciphertexts);
            let statement = shape.selection_statement(&sum, context);
            let total = values.iter().sum();
            Some(RangeProof::prove(
                key,
                &statement,
                total,
                &Nonce::sum(&nonces),
                rng,
            )?)
        } else {
            None
        };
        let contest = Self {
            ciphertexts,
            proofs,
            selection,
            ranking: None,
        };
        let opening = ContestOpening {
            values: values.to_vec(),
            nonces,
        };
        Ok((contest, opening))
    }

    /// The option ciphertexts, in option order.
    pub fn ciphertexts(&self) -> &[Ciphertext] {
        &self.ciphertexts
    }

    /// Verifies every proof of this contest on its own.
    pub fn verify(
        &self,
        key: &PublicKey,
        shape: &ContestShape,
        context: &Context,
    ) -> Result<(), VerifyError> {
        let mut seed = Encoder::new();
        seed.bytes(context.as_bytes());
        self.encode(&mut seed);
        let item = Checked {
            contest: self,
            shape,
            context,
        };
        if shape.ranking.is_some() {
            return verify_single(&item, key, seed.as_slice(), VerifyError::Ranking);
        }
        verify_single(&item, key, seed.as_slice(), VerifyError::Range).or_else(|_| {
            // The combined check failed: find the proof to blame, for the report.
            for (index, (ciphertext, proof)) in
                self.ciphertexts.iter().zip(&self.proofs).enumerate()
            {
                proof.verify(key, &shape.option_statement(ciphertext, index, context))?;
            }
            if let Some(selection) = &self.selection {
                let sum = Ciphertext::sum(&self.ciphertexts);
                selection.verify(key, &shape.selection_statement(&sum, context))?;
            }
            Err(VerifyError::Range)
        })
    }

    /// Appends the encoding: the option count (`u32`), each ciphertext, each option
    /// proof, then the selection proof if the shape has one; for a ranked contest the
    /// option count, each position's ciphertext, then the ranking proof.
    pub fn encode(&self, out: &mut Encoder) {
        out.len(self.ciphertexts.len());
        for ciphertext in &self.ciphertexts {
            ciphertext.encode(out);
        }
        if let Some(ranking) = &self.ranking {
            ranking.encode(out);
        }
        for proof in &self.proofs {
            proof.encode(out);
        }
        if let Some(selection) = &self.selection {
            selection.encode(out);
        }
    }

    /// Reads an encoding that must match `shape` exactly (option count, branch counts).
    pub fn decode(input: &mut Decoder<'_>, shape: &ContestShape) -> Result<Self, DecodeError> {
        let options = input.len(MAX_OPTIONS as usize)?;
        if options != shape.options as usize {
            return Err(DecodeError::Length);
        }
        let ciphertexts = (0..options)
            .map(|_| Ciphertext::decode(input))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(ranking) = &shape.ranking {
            return Ok(Self {
                ciphertexts,
                proofs: Vec::new(),
                selection: None,
                ranking: Some(RankingProof::decode(input, ranking)?),
            });
        }
        let option_branches = (shape.max_value + 1) as usize;
        let proofs = (0..options)
            .map(|_| RangeProof::decode(input, option_branches))
            .collect::<Result<Vec<_>, _>>()?;
        let selection = if shape.has_selection_proof() {
            let branches = (shape.max_total - shape.min_total + 1) as usize;
            Some(RangeProof::decode(input, branches)?)
        } else {
            None
        };
        Ok(Self {
            ciphertexts,
            proofs,
            selection,
            ranking: None,
        })
    }
}

impl ContestOpening {
    pub(crate) fn new(values: Vec<u64>, nonces: Vec<Nonce>) -> Self {
        Self { values, nonces }
    }

    /// The values (one per option).
    pub fn values(&self) -> &[u64] {
        &self.values
    }

    /// The nonces as scalars, to publish with a spoiled (challenged) ballot.
    pub fn reveal(&self) -> Vec<Scalar> {
        self.nonces.iter().map(Nonce::reveal).collect()
    }

    /// An opening published with a spoiled ballot.
    pub fn from_revealed(values: Vec<u64>, nonces: &[Scalar]) -> Self {
        Self {
            values,
            nonces: nonces.iter().copied().map(Nonce::from_scalar).collect(),
        }
    }

    /// Checks that this opening reproduces every ciphertext of `contest` (the voter's
    /// side of a Benaloh challenge: the device encrypted what the voter chose).
    pub fn check(
        &self,
        key: &EncryptionKey,
        contest: &EncryptedContest,
    ) -> Result<(), VerifyError> {
        self.check_ciphertexts(key, &contest.ciphertexts)
    }

    /// Checks that this opening reproduces `ciphertexts`, one per value (a ranked
    /// contest's positions).
    pub fn check_ciphertexts(
        &self,
        key: &EncryptionKey,
        ciphertexts: &[Ciphertext],
    ) -> Result<(), VerifyError> {
        if self.values.len() != ciphertexts.len() || self.nonces.len() != self.values.len() {
            return Err(VerifyError::Opening);
        }
        let all_match = self.values.iter().zip(&self.nonces).zip(ciphertexts).all(
            |((value, nonce), ciphertext)| key.encrypt_with_nonce(*value, nonce) == *ciphertext,
        );
        if all_match {
            Ok(())
        } else {
            Err(VerifyError::Opening)
        }
    }
}

impl fmt::Debug for ContestOpening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContestOpening").finish_non_exhaustive()
    }
}

/// A contest with the statement it is checked against.
struct Checked<'a> {
    contest: &'a EncryptedContest,
    shape: &'a ContestShape,
    context: &'a Context,
}

impl Batchable for Checked<'_> {
    fn failure(&self) -> VerifyError {
        if self.shape.ranking.is_some() {
            VerifyError::Ranking
        } else {
            VerifyError::Range
        }
    }

    fn equations(
        &self,
        key: &PublicKey,
        weights: &mut dyn Weights,
        terms: &mut Terms,
    ) -> Result<(), VerifyError> {
        let contest = self.contest;
        match (&contest.ranking, &self.shape.ranking) {
            (Some(proof), Some(shape)) => {
                let ranking = CheckedRanking {
                    positions: &contest.ciphertexts,
                    proof,
                    shape,
                    context: self.context,
                };
                return ranking.equations(key, weights, terms);
            }
            (None, None) => {}
            _ => return Err(VerifyError::Shape),
        }
        if contest.ciphertexts.len() != self.shape.options as usize
            || contest.proofs.len() != contest.ciphertexts.len()
            || contest.selection.is_some() != self.shape.has_selection_proof()
        {
            return Err(VerifyError::Shape);
        }
        for (index, (ciphertext, proof)) in
            contest.ciphertexts.iter().zip(&contest.proofs).enumerate()
        {
            let statement = self.shape.option_statement(ciphertext, index, self.context);
            proof.equations(key, &statement, weights, terms)?;
        }
        match &contest.selection {
            Some(selection) => {
                let sum = Ciphertext::sum(&contest.ciphertexts);
                let statement = self.shape.selection_statement(&sum, self.context);
                selection.equations(key, &statement, weights, terms)
            }
            None => Ok(()),
        }
    }
}

impl<Id, R: CryptoRng + ?Sized> BatchVerifier<'_, Id, R> {
    /// Adds one encrypted contest, checked against `shape` under `context`.
    pub fn add_contest(
        &mut self,
        id: Id,
        contest: &EncryptedContest,
        shape: &ContestShape,
        context: &Context,
    ) {
        self.add(
            id,
            &Checked {
                contest,
                shape,
                context,
            },
        );
    }

    /// Adds one range proof.
    pub fn add_range(&mut self, id: Id, proof: &RangeProof, statement: &RangeStatement<'_>) {
        self.add(id, &Bound { proof, statement });
    }
}
