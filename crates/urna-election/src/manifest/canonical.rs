//! The canonical encoding of a validated manifest and the election fingerprint
//! (docs/protocol.md, section "Election manifest and fingerprint").

use sha2::{Digest, Sha256};
use urna_crypto::encoding::Encoder;

use super::{Contest, Manifest, TallyKind};
use crate::method::TieBreak;

/// Domain tag of the election fingerprint.
pub(crate) const FINGERPRINT_TAG: &str = "urna/v1/manifest";

/// Canonical encoding version carried in the first byte.
const VERSION: u8 = 1;

pub(super) fn encode(m: &Manifest) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u8(VERSION)
        .str(&m.id)
        .str(&m.title)
        .str(&m.description)
        .u64(m.start)
        .u64(m.end)
        .u8(match m.revoting {
            super::Revoting::Once => 0,
            super::Revoting::LastCounts => 1,
        });
    e.len(m.contests.len());
    for c in &m.contests {
        contest(&mut e, c);
    }
    e.len(m.styles.len());
    for s in &m.styles {
        e.str(&s.id).str(&s.title).len(s.contests.len());
        for id in &s.contests {
            e.str(id);
        }
    }
    e.u32(m.trustees.count()).u32(m.trustees.threshold());
    e.finish()
}

fn contest(e: &mut Encoder, c: &Contest) {
    e.str(&c.id)
        .str(&c.title)
        .str(&c.description)
        .str(c.method.name())
        .u8(match c.tally {
            TallyKind::Homomorphic => 0,
            TallyKind::Mixnet => 1,
        })
        .u32(c.seats)
        .u32(c.selections.min)
        .u32(c.selections.max);
    match c.scores {
        None => e.u8(0),
        Some(s) => e.u8(1).u32(s.min).u32(s.max),
    };
    match &c.tie_break {
        TieBreak::PreviousRounds { seed: None } => {
            e.u8(0).u8(0);
        }
        TieBreak::PreviousRounds { seed: Some(seed) } => {
            e.u8(0).u8(1).str(seed);
        }
        TieBreak::FixedOrder(order) => {
            e.u8(1).len(order.len());
            for id in order {
                e.u32(id.get());
            }
        }
        TieBreak::Random { seed } => {
            e.u8(2).str(seed);
        }
    }
    match c.referendum.quorum {
        None => e.u8(0),
        Some(q) => e.u8(1).u64(q),
    };
    match c.referendum.threshold {
        None => e.u8(0),
        Some(t) => e.u8(1).u32(t.numerator()).u32(t.denominator()),
    };
    e.len(c.options.len());
    for o in &c.options {
        e.str(&o.id).str(&o.name);
        match &o.party {
            None => e.u8(0),
            Some(p) => e.u8(1).str(p),
        };
        e.str(&o.description);
    }
}

pub(super) fn fingerprint(m: &Manifest) -> [u8; 32] {
    let mut tag = Encoder::new();
    tag.str(FINGERPRINT_TAG);
    let mut h = Sha256::new();
    h.update(tag.as_slice());
    h.update(encode(m));
    h.finalize().into()
}
