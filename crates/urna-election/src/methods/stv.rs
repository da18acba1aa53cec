//! Single transferable vote: Scottish STV, WIGM and Meek, and what they share.

pub(crate) mod gregory;
pub mod meek;
pub mod scottish;
pub mod wigm;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::{Error, Result};
use crate::profile::RankedProfile;

/// Marks an entry of [`Grouped`] preferences as tied with the entry after it.
pub(crate) const TIED: u32 = 1 << 31;

/// Identical ballots merged, in order of first appearance (so a count never depends
/// on hash order), without withdrawn candidates and without empty or zero-count ones.
///
/// Each ballot's preferences are one flat run of candidate indices; an entry carrying
/// [`TIED`] shares its preference group with the next entry.
#[derive(Clone, Debug)]
pub(crate) struct Grouped {
    entries: Vec<u32>,
    spans: Vec<(usize, usize)>,
    counts: Vec<u64>,
    /// Every voter, including those whose ballot ranks nobody who stands.
    pub voters: u64,
}

impl Grouped {
    pub(crate) fn new(profile: &RankedProfile) -> Self {
        let withdrawn: Vec<bool> = profile
            .candidates()
            .iter()
            .map(|c| c.is_withdrawn())
            .collect();
        // Hash of a run -> its first ballot; ballots with equal hashes are chained
        // through `next` and told apart by comparing runs.
        let mut heads: HashMap<u64, usize, BuildHasherDefault<Prehashed>> = HashMap::default();
        let mut next: Vec<usize> = Vec::new();
        let mut entries = Vec::new();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let mut counts: Vec<u64> = Vec::new();
        let mut key = Vec::new();
        for b in profile.ballots() {
            if b.count() == 0 {
                continue;
            }
            key.clear();
            for g in b.ranking() {
                let before = key.len();
                key.extend(
                    g.iter()
                        .filter(|c| !withdrawn[c.index()])
                        .map(|c| c.get() | TIED),
                );
                if key.len() > before
                    && let Some(last) = key.last_mut()
                {
                    *last &= !TIED;
                }
            }
            if key.is_empty() {
                continue;
            }
            let h = hash_run(&key);
            let mut at = heads.get(&h).copied().unwrap_or(usize::MAX);
            while at != usize::MAX && entries[spans[at].0..spans[at].1] != key[..] {
                at = next[at];
            }
            if at != usize::MAX {
                counts[at] += b.count();
                continue;
            }
            let i = spans.len();
            next.push(heads.insert(h, i).unwrap_or(usize::MAX));
            spans.push((entries.len(), entries.len() + key.len()));
            entries.extend_from_slice(&key);
            counts.push(b.count());
        }
        Self {
            entries,
            spans,
            counts,
            voters: profile.voters(),
        }
    }

    /// How many distinct ballots.
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// The raw preference entries of ballot `i`.
    pub(crate) fn prefs(&self, i: usize) -> &[u32] {
        let (a, b) = self.spans[i];
        &self.entries[a..b]
    }

    /// How many voters cast ballot `i`.
    pub(crate) fn count(&self, i: usize) -> u64 {
        self.counts[i]
    }

    /// Whether ballot `i` has no tied preferences.
    pub(crate) fn is_strict(&self, i: usize) -> bool {
        self.prefs(i).iter().all(|e| e & TIED == 0)
    }
}

/// A fast multiplicative hash of a preference run (FxHash's constant); collisions are
/// harmless, since runs with equal hashes are compared.
fn hash_run(run: &[u32]) -> u64 {
    run.iter().fold(run.len() as u64, |h, &x| {
        (h.rotate_left(5) ^ u64::from(x)).wrapping_mul(0x517c_c1b7_2722_0a95)
    })
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The preference group of `prefs` starting at `pos` (raw entries; mask with
/// `!TIED`), or `None` past the end.
pub(crate) fn group_at(prefs: &[u32], pos: usize) -> Option<&[u32]> {
    let rest = prefs.get(pos..).filter(|r| !r.is_empty())?;
    let len = rest
        .iter()
        .position(|e| e & TIED == 0)
        .map_or(rest.len(), |p| p + 1);
    Some(&rest[..len])
}

/// The seats to fill: `seats` if given, else the profile's; at least one, and fewer
/// than the candidates standing would make the count trivial but is allowed.
pub(crate) fn seats(profile: &RankedProfile, seats: Option<u32>) -> Result<u32> {
    let seats = seats
        .or(profile.seats())
        .ok_or_else(|| Error::Count("the number of seats is not given".into()))?;
    if seats == 0 {
        return Err(Error::Count("no seats to fill".into()));
    }
    Ok(seats)
}

/// Each candidate's state as a count starts: `withdrawn` for a withdrawn candidate,
/// `hopeful` for everyone else.
pub(crate) fn starting<S: Copy>(profile: &RankedProfile, hopeful: S, withdrawn: S) -> Vec<S> {
    profile
        .candidates()
        .iter()
        .map(|c| if c.is_withdrawn() { withdrawn } else { hopeful })
        .collect()
}

/// `10^places` as an i128.
pub(crate) fn pow10(places: u32) -> i128 {
    10i128.pow(places)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Candidate, CandidateId, RankedBallot};

    #[test]
    fn groups_identical_ballots_and_drops_withdrawn() {
        let id = CandidateId::new;
        let profile = RankedProfile::new(
            vec![
                Candidate::new("a"),
                Candidate::withdrawn("b"),
                Candidate::new("c"),
            ],
            Some(1),
            None,
            vec![
                RankedBallot::strict(2, &[id(0), id(2)]),
                RankedBallot::strict(1, &[id(1)]),
                RankedBallot::strict(3, &[id(0), id(1), id(2)]),
                RankedBallot::strict(0, &[id(2)]),
            ],
        )
        .unwrap();
        let g = Grouped::new(&profile);
        assert_eq!(g.len(), 1);
        assert_eq!(g.prefs(0), &[0, 2]);
        assert_eq!(g.count(0), 5);
        assert_eq!(g.voters, 6);
        assert!(seats(&profile, Some(0)).is_err());
        assert_eq!(seats(&profile, None).unwrap(), 1);
    }

    #[test]
    fn groups_ties() {
        let id = CandidateId::new;
        let profile = RankedProfile::new(
            vec![
                Candidate::new("a"),
                Candidate::withdrawn("b"),
                Candidate::new("c"),
                Candidate::new("d"),
            ],
            Some(1),
            None,
            vec![RankedBallot::new(
                1,
                vec![vec![id(1), id(2)], vec![id(0), id(3)]],
            )],
        )
        .unwrap();
        let g = Grouped::new(&profile);
        let p = g.prefs(0);
        assert_eq!(p, &[2, TIED, 3]);
        assert!(!g.is_strict(0));
        assert_eq!(group_at(p, 0), Some(&[2][..]));
        assert_eq!(group_at(p, 1), Some(&[TIED, 3][..]));
        assert_eq!(group_at(p, 3), None);
    }
}
