//! Voting codes: generated at roll import, shown once to the admin for out-of-band
//! delivery, and stored only as Argon2id hashes.
//!
//! A code is 16 characters of Crockford's base-32 alphabet (80 random bits), shown in
//! four groups (`7KQ2-M9XD-4RTE-HB6W`). Entry is forgiving: case, spaces and hyphens
//! are ignored, and `I`/`L` read as `1`, `O` as `0`. The hash is Argon2id (RFC 9106)
//! over the normalised code with a random 16-byte salt and the [`CodeParams`] chosen
//! by the caller; the parameters are stored beside the hash, so they can be raised
//! later without invalidating old hashes. Hashing is deliberately slow: call
//! [`CodeHash::new`] and [`CodeHash::verify`] off the async executor.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = 16;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

/// A voter's voting code (secret): redacted `Debug`, zeroized on drop.
pub struct VotingCode(Zeroizing<String>);

impl VotingCode {
    /// A fresh random code.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; CODE_LEN]);
        rng.fill_bytes(bytes.as_mut());
        let code: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
            .collect();
        Self(Zeroizing::new(code))
    }

    /// Parses a code as a voter typed it.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] unless it is 16 characters of the alphabet once
    /// spaces and hyphens are removed.
    pub fn parse(text: &str) -> Result<Self> {
        let mut code = Zeroizing::new(String::with_capacity(CODE_LEN));
        for c in text.chars().filter(|c| !matches!(c, '-' | ' ')) {
            let c = match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || code.len() == CODE_LEN {
                return Err(Error::InvalidInput("voting code"));
            }
            code.push(c);
        }
        if code.len() != CODE_LEN {
            return Err(Error::InvalidInput("voting code"));
        }
        Ok(Self(code))
    }

    /// The code in four hyphenated groups, for showing to the admin once.
    #[must_use]
    pub fn display(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(CODE_LEN + 3));
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Debug for VotingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VotingCode").finish_non_exhaustive()
    }
}

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeParams {
    memory_kib: u32,
    iterations: u32,
    lanes: u32,
}

impl Default for CodeParams {
    /// OWASP's Argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            lanes: 1,
        }
    }
}

impl CodeParams {
    /// Custom parameters (tests use small ones).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if Argon2 refuses them (for example memory below
    /// 8 KiB per lane).
    pub fn new(memory_kib: u32, iterations: u32, lanes: u32) -> Result<Self> {
        Params::new(memory_kib, iterations, lanes, Some(HASH_LEN))
            .map_err(|_| Error::InvalidInput("argon2 parameters"))?;
        Ok(Self {
            memory_kib,
            iterations,
            lanes,
        })
    }

    /// Memory in KiB.
    #[must_use]
    pub fn memory_kib(self) -> u32 {
        self.memory_kib
    }

    /// Iterations (time cost).
    #[must_use]
    pub fn iterations(self) -> u32 {
        self.iterations
    }

    /// Lanes (parallelism).
    #[must_use]
    pub fn lanes(self) -> u32 {
        self.lanes
    }

    fn hash(self, code: &str, salt: &[u8; SALT_LEN]) -> Result<[u8; HASH_LEN]> {
        let params = Params::new(self.memory_kib, self.iterations, self.lanes, Some(HASH_LEN))
            .map_err(|_| Error::InvalidInput("argon2 parameters"))?;
        let mut out = [0u8; HASH_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(code.as_bytes(), salt, &mut out)
            .map_err(|_| Error::InvalidInput("argon2 parameters"))?;
        Ok(out)
    }
}

/// The stored form of a voting code: Argon2id parameters, salt and hash.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeHash {
    params: CodeParams,
    salt: [u8; SALT_LEN],
    hash: [u8; HASH_LEN],
}

impl CodeHash {
    /// Hashes `code` with a fresh salt.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the parameters are refused.
    pub fn new<R: CryptoRng + ?Sized>(
        code: &VotingCode,
        params: CodeParams,
        rng: &mut R,
    ) -> Result<Self> {
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        let hash = params.hash(&code.0, &salt)?;
        Ok(Self { params, salt, hash })
    }

    /// A hash no code matches, to verify against when the voter is unknown, so a
    /// login takes as long for an unknown voter as for a known one.
    #[must_use]
    pub fn unmatchable(params: CodeParams) -> Self {
        Self {
            params,
            salt: [0; SALT_LEN],
            hash: [0; HASH_LEN],
        }
    }

    /// Whether `code` is the code this hash was made from (constant-time compare).
    #[must_use]
    pub fn verify(&self, code: &VotingCode) -> bool {
        self.params
            .hash(&code.0, &self.salt)
            .is_ok_and(|h| bool::from(h.ct_eq(&self.hash)))
    }

    /// The parameters.
    #[must_use]
    pub fn params(&self) -> CodeParams {
        self.params
    }

    /// The salt.
    #[must_use]
    pub fn salt(&self) -> &[u8; SALT_LEN] {
        &self.salt
    }

    /// The hash.
    #[must_use]
    pub fn hash(&self) -> &[u8; HASH_LEN] {
        &self.hash
    }

    /// Rebuilds a stored hash.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the parameters are invalid or the salt or hash has
    /// the wrong length.
    pub fn from_parts(params: CodeParams, salt: &[u8], hash: &[u8]) -> Result<Self> {
        let params = CodeParams::new(params.memory_kib, params.iterations, params.lanes)?;
        Ok(Self {
            params,
            salt: salt
                .try_into()
                .map_err(|_| Error::InvalidInput("code salt length"))?,
            hash: hash
                .try_into()
                .map_err(|_| Error::InvalidInput("code hash length"))?,
        })
    }
}

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeHash")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha20Rng;

    fn small() -> CodeParams {
        CodeParams::new(64, 1, 1).unwrap()
    }

    #[test]
    fn a_code_verifies_as_typed_and_nothing_else_does() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let code = VotingCode::generate(&mut rng);
        let shown = code.display();
        assert_eq!(shown.len(), 19);
        let hash = CodeHash::new(&code, small(), &mut rng).unwrap();
        let typed = shown.to_lowercase().replace('-', " ");
        assert!(hash.verify(&VotingCode::parse(&typed).unwrap()));
        let other = VotingCode::generate(&mut rng);
        assert!(!hash.verify(&other));
        assert!(!CodeHash::unmatchable(small()).verify(&code));
        let again = CodeHash::from_parts(small(), hash.salt(), hash.hash()).unwrap();
        assert!(again.verify(&code));
    }

    #[test]
    fn malformed_codes_and_parameters_are_refused() {
        for bad in [
            "",
            "ABCD",
            "ABCD-EFGH-JKMN-PQRSX",
            "ABCD-EFGH-JKMN-PQRU",
            "ÄBCD-EFGH-JKMN-PQRS",
        ] {
            assert!(VotingCode::parse(bad).is_err(), "{bad}");
        }
        assert!(CodeParams::new(1, 1, 1).is_err());
        assert!(CodeHash::from_parts(small(), &[0; 3], &[0; 32]).is_err());
        assert!(format!("{:?}", VotingCode::parse("0000-0000-0000-0000").unwrap()).contains(".."));
    }
}
