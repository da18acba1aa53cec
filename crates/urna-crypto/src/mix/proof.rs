//! The Terelius–Wikström proof that a shuffle is correct, made non-interactive.
//!
//! The algorithms follow Haenni, Locher, Koenig and Dubuis, "Pseudo-Code Algorithms for
//! Verifiable Re-Encryption Mix-Nets" (FC 2017 workshops), written additively and
//! extended to rows of `w` ciphertexts (one response `s₄,ₖ` per column). Notation:
//! `n` rows, input rows `eⱼ`, output rows `e'ᵢ = eπ(ᵢ) + Enc(0; r'ᵢ)`, generators `G`,
//! `h₀`, `h₁ … h_n`, election key `K`; ciphertexts are `(a, b) = (r·G, m·G + r·K)`.
//!
//! Prover:
//! 1. permutation commitment: `c_π(i) = r_π(i)·G + hᵢ` with fresh `rⱼ`;
//! 2. `uⱼ = H("urna/v1/shuffle/u", d, j)` with `d` the statement digest (context, `K`,
//!    `n`, `w`, every input and output ciphertext, every `cⱼ`); `u'ᵢ = u_π(i)`;
//! 3. commitment chain: `ĉ₀ = h₀`, `ĉᵢ = r̂ᵢ·G + u'ᵢ·ĉᵢ₋₁` with fresh `r̂ᵢ`;
//! 4. with fresh `ω₁, ω₂, ω₃, ω₄,ₖ, ω̂ᵢ, ω'ᵢ`: `t₁ = ω₁·G`, `t₂ = ω₂·G`,
//!    `t₃ = ω₃·G + Σ ω'ᵢ·hᵢ`, `t₄ₐ,ₖ = −ω₄,ₖ·G + Σ ω'ᵢ·a'ᵢ,ₖ`,
//!    `t₄ᵦ,ₖ = −ω₄,ₖ·K + Σ ω'ᵢ·b'ᵢ,ₖ`, `t̂ᵢ = ω̂ᵢ·G + ω'ᵢ·ĉᵢ₋₁`;
//! 5. `c = H("urna/v1/shuffle/challenge", d, ĉ₁…ĉ_n, t₁, t₂, t₃, t₄ₐ, t₄ᵦ, t̂₁…t̂_n)`;
//! 6. `s₁ = ω₁ + c·Σrⱼ`, `s₂ = ω₂ + c·Σ r̂ᵢvᵢ` with `vᵢ = Π_{j>i} u'ⱼ`,
//!    `s₃ = ω₃ + c·Σ rⱼuⱼ`, `s₄,ₖ = ω₄,ₖ + c·Σ r'ᵢ,ₖu'ᵢ`, `ŝᵢ = ω̂ᵢ + c·r̂ᵢ`,
//!    `s'ᵢ = ω'ᵢ + c·u'ᵢ`.
//!
//! The proof is `(c₁…c_n, ĉ₁…ĉ_n, c, s₁, s₂, s₃, s₄, ŝ, s')`; the verifier recomputes
//! every `t` from the responses and accepts iff the challenge comes out the same.
//!
//! The prover's multiplications by secrets run in constant time: a voter's device
//! proves its ranking with this code ([`crate::ranking`]), where the permutation is the
//! vote. (Its table lookups are indexed by the permutation, which a co-resident
//! cache-timing attacker could observe; the verifier's work is all public and runs in
//! variable time.)

use curve25519_dalek::constants::{RISTRETTO_BASEPOINT_POINT, RISTRETTO_BASEPOINT_TABLE};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, MultiscalarMul, VartimeMultiscalarMul};
use rand_core::CryptoRng;
use zeroize::Zeroize;

use super::{MixBallots, ShuffleWitness, generators};
use crate::elgamal::{EncryptionKey, PublicKey};
use crate::encoding::{Decoder, Encoder};
use crate::error::{DecodeError, Error, VerifyError};
use crate::group::Element;
use crate::transcript::{Context, Transcript};

const STATEMENT_TAG: &str = "urna/v1/shuffle/statement";
const U_TAG: &str = "urna/v1/shuffle/u";
const CHALLENGE_TAG: &str = "urna/v1/shuffle/challenge";

/// A proof that one [`MixBallots`] is a re-encrypted permutation of another under the
/// election key. Its size is `128·n + 32·(4 + w)` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShuffleProof {
    /// Permutation commitment `c₁ … c_n`.
    commitments: Vec<Element>,
    /// Commitment chain `ĉ₁ … ĉ_n`.
    chain: Vec<Element>,
    challenge: Scalar,
    s1: Scalar,
    s2: Scalar,
    s3: Scalar,
    /// One per column.
    s4: Vec<Scalar>,
    /// One per row.
    s_hat: Vec<Scalar>,
    /// One per row.
    s_prime: Vec<Scalar>,
}

/// The prover's commitments `t`, or the verifier's recomputation of them.
struct Commitments {
    t1: Element,
    t2: Element,
    t3: Element,
    t4a: Vec<Element>,
    t4b: Vec<Element>,
    t_hat: Vec<Element>,
}

impl ShuffleProof {
    /// Proves that `output` came from `input` by [`shuffle`](super::shuffle) with
    /// `witness`, under `context` (election fingerprint, contest and mix step).
    pub fn prove<R: CryptoRng + ?Sized>(
        key: &EncryptionKey,
        input: &MixBallots,
        output: &MixBallots,
        witness: &ShuffleWitness,
        context: &Context,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let (n, w) = (input.len(), input.width());
        if output.len() != n
            || output.width() != w
            || witness.permutation().len() != n
            || witness.nonces().len() != n * w
        {
            return Err(Error::Parameters(
                "the shuffle's input, output and witness differ in shape",
            ));
        }
        let permutation = witness.permutation();
        let mut seen = vec![false; n];
        for &j in permutation {
            match seen.get_mut(j) {
                Some(slot) if !*slot => *slot = true,
                _ => return Err(Error::Parameters("the witness is not a permutation")),
            }
        }
        let (h0, hs) = generators(n);

        // 1. Permutation commitment.
        let mut r: Vec<Scalar> = (0..n).map(|_| Scalar::random(rng)).collect();
        let mut commitment_points = vec![RistrettoPoint::identity(); n];
        for (i, &j) in permutation.iter().enumerate() {
            commitment_points[j] = &r[j] * RISTRETTO_BASEPOINT_TABLE + hs[i];
        }
        let commitments: Vec<Element> = commitment_points.into_iter().map(Element::from).collect();

        // 2. Challenges u.
        let digest = statement_digest(key.public_key(), input, output, &commitments, context);
        let u = challenges(&digest, n);
        let mut u_prime: Vec<Scalar> = permutation.iter().map(|&j| u[j]).collect();

        // 3. Commitment chain.
        let mut r_hat: Vec<Scalar> = (0..n).map(|_| Scalar::random(rng)).collect();
        let mut chain = Vec::with_capacity(n);
        let mut previous = h0;
        for (r_hat, u_prime) in r_hat.iter().zip(&u_prime) {
            let next = r_hat * RISTRETTO_BASEPOINT_TABLE + u_prime * previous;
            chain.push(Element::from_point(next));
            previous = next;
        }

        // 4. Commitments t.
        let mut omega = [(); 3].map(|()| Scalar::random(rng));
        let mut omega4: Vec<Scalar> = (0..w).map(|_| Scalar::random(rng)).collect();
        let mut omega_hat: Vec<Scalar> = (0..n).map(|_| Scalar::random(rng)).collect();
        let mut omega_prime: Vec<Scalar> = (0..n).map(|_| Scalar::random(rng)).collect();
        // ω' hides the permutation in s' = ω' + c·u', so its multiplications run in
        // constant time (a voter's device proves rankings with this code).
        let t3 = &omega[2] * RISTRETTO_BASEPOINT_TABLE
            + RistrettoPoint::multiscalar_mul(&omega_prime, &hs);
        let column = |k: usize, part: fn(&crate::Ciphertext) -> &Element| {
            RistrettoPoint::multiscalar_mul(
                &omega_prime,
                output.rows().map(|row| *part(&row[k]).point()),
            )
        };
        let t4a = (0..w)
            .map(|k| {
                Element::from_point(
                    column(k, crate::Ciphertext::a) - &omega4[k] * RISTRETTO_BASEPOINT_TABLE,
                )
            })
            .collect();
        let t4b = (0..w)
            .map(|k| Element::from_point(column(k, crate::Ciphertext::b) - key.mul(&omega4[k])))
            .collect();
        let t_hat = (0..n)
            .map(|i| {
                let previous = if i == 0 { &h0 } else { chain[i - 1].point() };
                Element::from_point(
                    &omega_hat[i] * RISTRETTO_BASEPOINT_TABLE + omega_prime[i] * previous,
                )
            })
            .collect();
        let t = Commitments {
            t1: Element::from_point(&omega[0] * RISTRETTO_BASEPOINT_TABLE),
            t2: Element::from_point(&omega[1] * RISTRETTO_BASEPOINT_TABLE),
            t3: Element::from_point(t3),
            t4a,
            t4b,
            t_hat,
        };

        // 5. Challenge.
        let c = final_challenge(&digest, &chain, &t);

        // 6. Responses.
        let mut r_sum: Scalar = r.iter().sum();
        let mut v = Scalar::ONE;
        let mut r_chain = Scalar::ZERO;
        for i in (0..n).rev() {
            r_chain += r_hat[i] * v;
            v *= u_prime[i];
        }
        let mut r_weighted: Scalar = r.iter().zip(&u).map(|(r, u)| r * u).sum();
        let nonces = witness.nonces();
        let s4 = (0..w)
            .map(|k| {
                let mut r_prime: Scalar = (0..n).map(|i| nonces[i * w + k] * u_prime[i]).sum();
                let s = omega4[k] + c * r_prime;
                r_prime.zeroize();
                s
            })
            .collect();
        let proof = Self {
            commitments,
            chain,
            challenge: c,
            s1: omega[0] + c * r_sum,
            s2: omega[1] + c * r_chain,
            s3: omega[2] + c * r_weighted,
            s4,
            s_hat: omega_hat
                .iter()
                .zip(&r_hat)
                .map(|(o, r)| o + c * r)
                .collect(),
            s_prime: omega_prime
                .iter()
                .zip(&u_prime)
                .map(|(o, u)| o + c * u)
                .collect(),
        };
        for secret in [&mut r_sum, &mut v, &mut r_chain, &mut r_weighted] {
            secret.zeroize();
        }
        r.zeroize();
        r_hat.zeroize();
        u_prime.zeroize();
        omega.zeroize();
        omega4.zeroize();
        omega_hat.zeroize();
        omega_prime.zeroize();
        Ok(proof)
    }

    /// Checks that `output` is a re-encrypted permutation of `input` under `key`, proved
    /// under `context`.
    pub fn verify(
        &self,
        key: &PublicKey,
        input: &MixBallots,
        output: &MixBallots,
        context: &Context,
    ) -> Result<(), VerifyError> {
        let (n, w) = (input.len(), input.width());
        if output.len() != n
            || output.width() != w
            || self.commitments.len() != n
            || self.chain.len() != n
            || self.s4.len() != w
            || self.s_hat.len() != n
            || self.s_prime.len() != n
        {
            return Err(VerifyError::Shape);
        }
        let (h0, hs) = generators(n);
        let digest = statement_digest(key, input, output, &self.commitments, context);
        let u = challenges(&digest, n);
        let c = self.challenge;
        let minus_c = -c;
        let g = RISTRETTO_BASEPOINT_POINT;

        // c̄ = Σcⱼ − Σhᵢ and ĉ = ĉ_n − (Πuⱼ)·h₀.
        let commitment_sum: RistrettoPoint = self.commitments.iter().map(Element::point).sum();
        let c_bar = commitment_sum - hs.iter().sum::<RistrettoPoint>();
        let u_product: Scalar = u.iter().product();
        let last = self.chain[n - 1].point();
        let c_hat = last - u_product * h0;
        let t1 = RistrettoPoint::vartime_double_scalar_mul_basepoint(&minus_c, &c_bar, &self.s1);
        let t2 = RistrettoPoint::vartime_double_scalar_mul_basepoint(&minus_c, &c_hat, &self.s2);

        // −c·uⱼ, the weight of every input term.
        let minus_cu: Vec<Scalar> = u.iter().map(|u| minus_c * u).collect();
        let t3 = RistrettoPoint::vartime_multiscalar_mul(
            minus_cu.iter().chain(&self.s_prime).chain([&self.s3]),
            self.commitments
                .iter()
                .map(Element::point)
                .chain(&hs)
                .chain([&g]),
        );
        let column = |k: usize, part: fn(&crate::Ciphertext) -> &Element, base: &RistrettoPoint| {
            let minus_s4 = -self.s4[k];
            Element::from_point(RistrettoPoint::vartime_multiscalar_mul(
                minus_cu.iter().chain(&self.s_prime).chain([&minus_s4]),
                input
                    .rows()
                    .map(|row| *part(&row[k]).point())
                    .chain(output.rows().map(|row| *part(&row[k]).point()))
                    .chain([*base]),
            ))
        };
        let t4a = (0..w)
            .map(|k| column(k, crate::Ciphertext::a, &g))
            .collect();
        let t4b = (0..w)
            .map(|k| column(k, crate::Ciphertext::b, key.element().point()))
            .collect();
        let t_hat = (0..n)
            .map(|i| {
                let previous = if i == 0 {
                    &h0
                } else {
                    self.chain[i - 1].point()
                };
                Element::from_point(RistrettoPoint::vartime_multiscalar_mul(
                    [&self.s_hat[i], &self.s_prime[i], &minus_c],
                    [&g, previous, self.chain[i].point()],
                ))
            })
            .collect();
        let t = Commitments {
            t1: Element::from_point(t1),
            t2: Element::from_point(t2),
            t3: Element::from_point(t3),
            t4a,
            t4b,
            t_hat,
        };
        if final_challenge(&digest, &self.chain, &t) == c {
            Ok(())
        } else {
            Err(VerifyError::Shuffle)
        }
    }

    /// Appends `c₁…c_n ‖ ĉ₁…ĉ_n ‖ c ‖ s₁ ‖ s₂ ‖ s₃ ‖ s₄,₁…s₄,w ‖ ŝ₁…ŝ_n ‖ s'₁…s'_n`
    /// (no counts: `n` and `w` come from the statement).
    pub fn encode(&self, out: &mut Encoder) {
        for element in self.commitments.iter().chain(&self.chain) {
            out.element(element);
        }
        for scalar in [&self.challenge, &self.s1, &self.s2, &self.s3]
            .into_iter()
            .chain(&self.s4)
            .chain(&self.s_hat)
            .chain(&self.s_prime)
        {
            out.scalar(scalar);
        }
    }

    /// Reads the proof of a shuffle of `rows` rows of `width` ciphertexts, refusing
    /// non-canonical points and scalars.
    pub fn decode(input: &mut Decoder<'_>, rows: usize, width: usize) -> Result<Self, DecodeError> {
        let elements = |input: &mut Decoder<'_>, count: usize| {
            (0..count)
                .map(|_| input.element())
                .collect::<Result<Vec<_>, _>>()
        };
        let scalars = |input: &mut Decoder<'_>, count: usize| {
            (0..count)
                .map(|_| input.scalar())
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            commitments: elements(input, rows)?,
            chain: elements(input, rows)?,
            challenge: input.scalar()?,
            s1: input.scalar()?,
            s2: input.scalar()?,
            s3: input.scalar()?,
            s4: scalars(input, width)?,
            s_hat: scalars(input, rows)?,
            s_prime: scalars(input, rows)?,
        })
    }
}

/// `d = H("urna/v1/shuffle/statement", context, K, n, w, input ciphertexts, output
/// ciphertexts, c₁…c_n)`, every ciphertext as `a ‖ b`.
fn statement_digest(
    key: &PublicKey,
    input: &MixBallots,
    output: &MixBallots,
    commitments: &[Element],
    context: &Context,
) -> [u8; 64] {
    let mut transcript = Transcript::new(STATEMENT_TAG);
    transcript
        .context(context)
        .element(key.element())
        .u64(input.len() as u64)
        .u64(input.width() as u64);
    for ciphertext in input.ciphertexts().iter().chain(output.ciphertexts()) {
        transcript.bytes(&ciphertext.to_bytes());
    }
    for commitment in commitments {
        transcript.element(commitment);
    }
    transcript.digest()
}

/// `uⱼ = H("urna/v1/shuffle/u", d, j)` for `j` in `0..n`.
fn challenges(digest: &[u8; 64], n: usize) -> Vec<Scalar> {
    let mut base = Transcript::new(U_TAG);
    base.bytes(digest);
    (0..n as u64)
        .map(|j| base.clone().u64(j).challenge())
        .collect()
}

fn final_challenge(digest: &[u8; 64], chain: &[Element], t: &Commitments) -> Scalar {
    let mut transcript = Transcript::new(CHALLENGE_TAG);
    transcript.bytes(digest);
    for element in chain
        .iter()
        .chain([&t.t1, &t.t2, &t.t3])
        .chain(&t.t4a)
        .chain(&t.t4b)
        .chain(&t.t_hat)
    {
        transcript.element(element);
    }
    transcript.challenge()
}
