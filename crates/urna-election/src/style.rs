//! The canonical ballot style: what the issuance tier signs and a voter's device
//! checks before it encrypts anything.
//!
//! A style document holds everything a voter sees and everything the encryption
//! depends on: the election (id and fingerprint), the joint key ballots are encrypted
//! to, and each contest of the style in ballot order with its title, description,
//! method, options (ids, names, parties, descriptions, in ballot order) and the shape
//! the proofs enforce. A swapped label, a reordered option or a substituted key
//! changes the bytes and breaks the signature. The encoding is specified in
//! docs/protocol.md §3.3 ("Ballot styles").

use urna_crypto::encoding::{Decoder, Encoder};
use urna_crypto::{BallotLayout, ContestShape, DecodeError};

use crate::ballot::{Shape, shape};
use crate::manifest::{Manifest, TallyKind};
use crate::method::Method;

/// Domain tag that starts every style document.
pub const STYLE_TAG: &str = "urna/v1/ballot-style";

/// The longest identifier (election, style, contest, option) a style carries.
pub const MAX_ID_LEN: usize = 64;

/// The longest text (title, name, party, description) a style carries.
pub const MAX_TEXT_LEN: usize = 16 * 1024;

/// The most contests on one style, and options in one contest.
pub const MAX_ITEMS: usize = 1024;

/// Why a style could not be built, decoded or laid out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StyleError {
    /// The manifest has no style with this id.
    #[error("unknown ballot style {0:?}")]
    UnknownStyle(String),
    /// A style names a contest the manifest does not define.
    #[error("ballot style {style:?} names unknown contest {contest:?}")]
    UnknownContest {
        /// The style.
        style: String,
        /// The contest id it names.
        contest: String,
    },
    /// The bytes are not a canonical style document (or an ElectionKeys record).
    #[error("malformed {what}: {source}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        source: DecodeError,
    },
    /// A field holds a value this version does not know (method, tally kind).
    #[error("unknown {0}")]
    Unknown(&'static str),
    /// The contest's shape is not one the cryptography accepts.
    #[error("contest {0:?} has a shape the cryptography refuses")]
    Shape(String),
}

/// One option of a contest, as the voter sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StyleOption {
    /// The option's id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its party (empty if none).
    pub party: String,
    /// A longer description (empty if none).
    pub description: String,
}

/// One contest of a style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StyleContest {
    /// The contest id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its description (empty if none).
    pub description: String,
    /// The counting method.
    pub method: Method,
    /// How it is tallied.
    pub tally: TallyKind,
    /// Seats to fill.
    pub seats: u32,
    /// The lowest score (score and STAR contests, whose encrypted values are offset
    /// by it); 0 otherwise.
    pub score_min: u32,
    /// The options in ballot order.
    pub options: Vec<StyleOption>,
    /// What the proofs of the contest's encrypted vector show.
    pub shape: Shape,
}

/// The canonical ballot style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StyleDocument {
    /// The election's manifest id.
    pub election_id: String,
    /// The election fingerprint.
    pub fingerprint: [u8; 32],
    /// The style id.
    pub style_id: String,
    /// The style's title (empty if none).
    pub title: String,
    /// The joint election key ballots are encrypted to (a Ristretto255 encoding).
    pub election_key: [u8; 32],
    /// The contests in ballot order.
    pub contests: Vec<StyleContest>,
}

impl StyleDocument {
    /// The style `style_id` of `manifest`, for ballots encrypted to `election_key`.
    ///
    /// # Errors
    /// [`StyleError::UnknownStyle`] or [`StyleError::UnknownContest`].
    pub fn from_manifest(
        manifest: &Manifest,
        style_id: &str,
        election_key: [u8; 32],
    ) -> Result<Self, StyleError> {
        let style = manifest
            .ballot_style(style_id)
            .ok_or_else(|| StyleError::UnknownStyle(style_id.to_owned()))?;
        let contests = style
            .contests()
            .iter()
            .map(|id| {
                let contest = manifest
                    .contest(id)
                    .ok_or_else(|| StyleError::UnknownContest {
                        style: style_id.to_owned(),
                        contest: id.clone(),
                    })?;
                Ok(StyleContest {
                    id: contest.id().to_owned(),
                    title: contest.title().to_owned(),
                    description: contest.description().to_owned(),
                    method: contest.method(),
                    tally: contest.tally(),
                    seats: contest.seats(),
                    score_min: match contest.method() {
                        Method::Score | Method::Star => contest.scores().map_or(0, |s| s.min),
                        _ => 0,
                    },
                    options: contest
                        .options()
                        .iter()
                        .map(|o| StyleOption {
                            id: o.id().to_owned(),
                            name: o.name().to_owned(),
                            party: o.party().unwrap_or_default().to_owned(),
                            description: o.description().to_owned(),
                        })
                        .collect(),
                    shape: shape(contest),
                })
            })
            .collect::<Result<_, StyleError>>()?;
        Ok(Self {
            election_id: manifest.id().to_owned(),
            fingerprint: manifest.fingerprint(),
            style_id: style.id().to_owned(),
            title: style.title().to_owned(),
            election_key,
            contests,
        })
    }

    /// The canonical encoding (what the style signature covers).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.str(STYLE_TAG)
            .str(&self.election_id)
            .fixed(&self.fingerprint)
            .str(&self.style_id)
            .str(&self.title)
            .fixed(&self.election_key)
            .len(self.contests.len());
        for c in &self.contests {
            enc.str(&c.id)
                .str(&c.title)
                .str(&c.description)
                .str(c.method.name())
                .u8(tally_byte(c.tally))
                .u32(c.seats)
                .u32(c.score_min)
                .len(c.options.len());
            for o in &c.options {
                enc.str(&o.id)
                    .str(&o.name)
                    .str(&o.party)
                    .str(&o.description);
            }
            enc.u64(c.shape.options as u64)
                .u64(c.shape.max_value)
                .u64(c.shape.min_sum)
                .u64(c.shape.max_sum);
        }
        enc.finish()
    }

    /// Decodes a canonical encoding; anything else (trailing bytes, an unknown method,
    /// oversize fields) is refused.
    ///
    /// # Errors
    /// [`StyleError::Malformed`] or [`StyleError::Unknown`].
    pub fn decode(bytes: &[u8]) -> Result<Self, StyleError> {
        let malformed = |source| StyleError::Malformed {
            what: "ballot style",
            source,
        };
        let mut dec = Decoder::new(bytes);
        if dec.str(STYLE_TAG.len()).map_err(malformed)? != STYLE_TAG {
            return Err(malformed(DecodeError::Tag));
        }
        let id = |dec: &mut Decoder<'_>| dec.str(MAX_ID_LEN).map(str::to_owned);
        let text = |dec: &mut Decoder<'_>| dec.str(MAX_TEXT_LEN).map(str::to_owned);
        let election_id = id(&mut dec).map_err(malformed)?;
        let fingerprint = dec.array().map_err(malformed)?;
        let style_id = id(&mut dec).map_err(malformed)?;
        let title = text(&mut dec).map_err(malformed)?;
        let election_key = dec.array().map_err(malformed)?;
        let count = dec.len(MAX_ITEMS).map_err(malformed)?;
        let mut contests = Vec::with_capacity(count);
        for _ in 0..count {
            let cid = id(&mut dec).map_err(malformed)?;
            let ctitle = text(&mut dec).map_err(malformed)?;
            let cdescription = text(&mut dec).map_err(malformed)?;
            let method: Method = dec
                .str(MAX_ID_LEN)
                .map_err(malformed)?
                .parse()
                .map_err(|_| StyleError::Unknown("counting method"))?;
            let tally = tally_from_byte(dec.u8().map_err(malformed)?)?;
            let seats = dec.u32().map_err(malformed)?;
            let score_min = dec.u32().map_err(malformed)?;
            let n = dec.len(MAX_ITEMS).map_err(malformed)?;
            let mut options = Vec::with_capacity(n);
            for _ in 0..n {
                options.push(StyleOption {
                    id: id(&mut dec).map_err(malformed)?,
                    name: text(&mut dec).map_err(malformed)?,
                    party: text(&mut dec).map_err(malformed)?,
                    description: text(&mut dec).map_err(malformed)?,
                });
            }
            let shape = Shape {
                options: usize::try_from(dec.u64().map_err(malformed)?)
                    .map_err(|_| malformed(DecodeError::Length))?,
                max_value: dec.u64().map_err(malformed)?,
                min_sum: dec.u64().map_err(malformed)?,
                max_sum: dec.u64().map_err(malformed)?,
            };
            contests.push(StyleContest {
                id: cid,
                title: ctitle,
                description: cdescription,
                method,
                tally,
                seats,
                score_min,
                options,
                shape,
            });
        }
        dec.finish().map_err(malformed)?;
        Ok(Self {
            election_id,
            fingerprint,
            style_id,
            title,
            election_key,
            contests,
        })
    }

    /// The layout the cryptography checks ballots of this style against.
    ///
    /// # Errors
    /// [`StyleError::Shape`] for a shape the proofs cannot express. A ranked contest
    /// tallied by mix-net gets a ranking shape (its positions proven a ranking); every
    /// other contest, mix-net or not, one ciphertext per option with range proofs.
    pub fn layout(&self) -> Result<BallotLayout, StyleError> {
        let contests = self
            .contests
            .iter()
            .map(|c| {
                let bad = || StyleError::Shape(c.id.clone());
                let options = u32::try_from(c.shape.options).map_err(|_| bad())?;
                let shape = if c.tally == TallyKind::Mixnet && c.method.is_ranked() {
                    // Rank positions, proven a ranking; the limits on the number ranked
                    // are those whose triangular numbers bound the positions' sum.
                    let ranked = |sum: u64| {
                        (0..=options).find(|&r| u64::from(r) * (u64::from(r) + 1) / 2 == sum)
                    };
                    let (Some(min), Some(max)) = (ranked(c.shape.min_sum), ranked(c.shape.max_sum))
                    else {
                        return Err(bad());
                    };
                    ContestShape::ranked(options, min, max)
                } else {
                    ContestShape::new(options, c.shape.max_value, c.shape.min_sum, c.shape.max_sum)
                };
                Ok((c.id.clone(), shape.map_err(|_| bad())?))
            })
            .collect::<Result<Vec<_>, StyleError>>()?;
        BallotLayout::new(&self.style_id, contests)
            .map_err(|_| StyleError::Shape(self.style_id.clone()))
    }
}

/// The layout of style `style_id` of `manifest` (what casting decodes ballots with).
///
/// # Errors
/// As [`StyleDocument::from_manifest`] and [`StyleDocument::layout`].
pub fn layout(manifest: &Manifest, style_id: &str) -> Result<BallotLayout, StyleError> {
    StyleDocument::from_manifest(manifest, style_id, [0; 32])?.layout()
}

fn tally_byte(tally: TallyKind) -> u8 {
    match tally {
        TallyKind::Homomorphic => 1,
        TallyKind::Mixnet => 2,
    }
}

fn tally_from_byte(byte: u8) -> Result<TallyKind, StyleError> {
    match byte {
        1 => Ok(TallyKind::Homomorphic),
        2 => Ok(TallyKind::Mixnet),
        _ => Err(StyleError::Unknown("tally kind")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUB: &str = include_str!("../../../examples/club-election.yaml");

    fn club() -> Manifest {
        Manifest::from_yaml(CLUB).unwrap()
    }

    #[test]
    fn every_style_round_trips_and_lays_out() {
        let m = club();
        for style in m.ballot_styles() {
            let doc = StyleDocument::from_manifest(&m, style.id(), [5; 32]).unwrap();
            assert_eq!(doc.contests.len(), style.contests().len());
            let bytes = doc.encode();
            assert_eq!(StyleDocument::decode(&bytes).unwrap(), doc);
            let layout = doc.layout().unwrap();
            assert_eq!(layout.style(), style.id());
            assert_eq!(layout.contests().len(), doc.contests.len());
            assert_eq!(layout, super::layout(&m, style.id()).unwrap());
        }
    }

    #[test]
    fn every_field_a_voter_sees_changes_the_bytes() {
        let m = club();
        let style = m.ballot_styles()[0].id().to_owned();
        let doc = StyleDocument::from_manifest(&m, &style, [5; 32]).unwrap();
        let bytes = doc.encode();
        let mut edits: Vec<StyleDocument> = Vec::new();
        let mut d = doc.clone();
        d.election_key[0] ^= 1;
        edits.push(d);
        let mut d = doc.clone();
        d.title.push('!');
        edits.push(d);
        let mut d = doc.clone();
        d.contests[0].title.push('!');
        edits.push(d);
        let mut d = doc.clone();
        d.contests[0].options.swap(0, 1);
        edits.push(d);
        let mut d = doc.clone();
        d.contests[0].options[0].name.push('!');
        edits.push(d);
        let mut d = doc.clone();
        d.contests[0].shape.max_sum += 1;
        edits.push(d);
        for edit in edits {
            assert_ne!(edit.encode(), bytes);
        }
    }

    #[test]
    fn malformed_documents_are_refused() {
        let m = club();
        let style = m.ballot_styles()[0].id().to_owned();
        let bytes = StyleDocument::from_manifest(&m, &style, [5; 32])
            .unwrap()
            .encode();
        let mut long = bytes.clone();
        long.push(0);
        assert!(StyleDocument::decode(&long).is_err());
        for cut in [0, 1, 10, bytes.len() / 2, bytes.len() - 1] {
            assert!(StyleDocument::decode(&bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut tag = bytes.clone();
        tag[5] ^= 1;
        assert!(StyleDocument::decode(&tag).is_err());
        assert!(matches!(
            StyleDocument::from_manifest(&m, "no-such-style", [0; 32]),
            Err(StyleError::UnknownStyle(_))
        ));
    }
}
