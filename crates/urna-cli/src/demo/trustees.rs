//! The trustees' side of the demo: the key ceremony and the threshold decryption of the
//! encrypted totals. Each trustee's secrets stay in its own `Trustee` value; only public
//! records (dealings, complaints, partial decryptions with proofs) cross between them.

use anyhow::{Context as _, Result, bail};
use rand::rngs::ChaCha20Rng;
use urna_crypto::dkg::{self, Dealer, DkgParameters, KeyShare, SecretShare, ThresholdPublicKey};
use urna_crypto::threshold::{self, PartialDecryption};
use urna_crypto::{Ciphertext, Context, DlogTable, PublicKey};

/// One trustee after the ceremony: its index and its secret key share.
struct Trustee {
    index: u32,
    share: KeyShare,
}

/// The finished ceremony: the public record and the trustees' private shares.
pub struct Ceremony {
    key: ThresholdPublicKey,
    public_key: PublicKey,
    trustees: Vec<Trustee>,
}

impl Ceremony {
    /// Runs Pedersen's DKG among `n` trustees with threshold `k`: dealings, private
    /// shares, complaints (none, with honest trustees) and the joint key.
    pub fn run(election: &[u8; 32], n: u32, k: u32, rng: &mut ChaCha20Rng) -> Result<Self> {
        let params = DkgParameters::new(*election, k, n)?;
        let dealers = (1..=n)
            .map(|i| Dealer::new(&params, i, rng))
            .collect::<Result<Vec<_>, _>>()?;
        let mut record = dkg::Ceremony::new(params);
        for dealer in &dealers {
            record.add_dealing(dealer.dealing().clone())?;
        }
        record.close_dealings()?;
        // Each trustee receives one share from every dealer and complains about bad ones.
        let mut received: Vec<Vec<SecretShare>> = Vec::new();
        for recipient in 1..=n {
            let shares = dealers
                .iter()
                .map(|dealer| dealer.share_for(recipient))
                .collect::<Result<Vec<_>, _>>()?;
            for complaint in record.complaints_for(recipient, &shares) {
                record.add_complaint(complaint)?;
            }
            received.push(shares);
        }
        record.close_complaints()?;
        let complaints: Vec<_> = record.complaints().cloned().collect();
        for complaint in complaints {
            let dealer = dealers
                .iter()
                .find(|d| d.index() == complaint.dealer())
                .context("complaint about an unknown dealer")?;
            record.add_reveal(dealer.reveal(&complaint)?)?;
        }
        let key = record.finish()?.clone();
        if record.qualified().len() != n as usize {
            bail!("dealers disqualified: {:?}", record.disqualified());
        }
        let trustees = (1..=n)
            .zip(&received)
            .map(|(index, shares)| {
                let share = record.key_share(index, shares)?;
                key.check_share(&share)?;
                Ok(Trustee { index, share })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            public_key: key.public_key(),
            key,
            trustees,
        })
    }

    /// The joint election key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }
}

impl Ceremony {
    /// The present trustees (`present`, at least `k` of them) decrypt each contest's
    /// encrypted totals. Every partial decryption travels in its canonical encoding,
    /// is decoded and has every proof checked before it is combined; plaintexts are
    /// recovered from `m·G` with a baby-step giant-step table.
    pub fn decrypt(
        &self,
        election: &[u8; 32],
        contests: &[(&str, Vec<Ciphertext>)],
        present: &[u32],
        rng: &mut ChaCha20Rng,
    ) -> Result<Vec<Vec<u64>>> {
        let table = DlogTable::with_size(1 << 16, 1 << 32);
        contests
            .iter()
            .map(|(id, ciphertexts)| {
                let context = Context::new("tally").with(election).with(id.as_bytes());
                let verified = present
                    .iter()
                    .map(|index| {
                        let trustee = self
                            .trustees
                            .iter()
                            .find(|t| t.index == *index)
                            .with_context(|| format!("no trustee {index}"))?;
                        let answer =
                            PartialDecryption::create(&trustee.share, ciphertexts, &context, rng)?;
                        let received =
                            PartialDecryption::from_bytes(&answer.to_bytes(), ciphertexts.len())?;
                        received
                            .verify(&self.key, ciphertexts, &context)
                            .with_context(|| format!("trustee {index}'s decryption proof failed"))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let points = threshold::combine(&self.key, ciphertexts, &context, &verified)?;
                points
                    .iter()
                    .map(|point| Ok(table.recover(point.point())?))
                    .collect::<Result<Vec<u64>>>()
            })
            .collect()
    }
}
