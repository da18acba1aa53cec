//! The voters: each one logs in to auth with its voting code, gets its ballot style
//! (checked against the style key) and a blind-signed credential, encrypts its choices
//! and casts them through casting, checking the receipt against the board key. Some
//! first challenge a ballot (Benaloh: casting publishes it as spoiled with its
//! opening, and the voter checks the opening), some change their mind and cast again
//! (the manifest's re-voting policy decides which counts). Voters run concurrently.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context as _, Result, anyhow};
use indicatif::ProgressBar;
use rand::rngs::ChaCha20Rng;
use rand::{RngExt as _, SeedableRng as _};
use urna_election::{Manifest, Revoting};
use urna_sdk::{Election, Voter};

use super::ballots::{self, Totals};

/// One in this many voters challenges a ballot before casting.
const CHALLENGE_ONE_IN: u32 = 20;
/// One in this many voters casts a second ballot.
const RECAST_ONE_IN: u32 = 10;

/// What the voters did, and what the published totals must be.
#[derive(Debug, Default)]
pub struct Turnout {
    /// Voters who cast a ballot.
    pub voters: u64,
    /// Ballots cast (re-casts included).
    pub cast: u64,
    /// Ballots challenged and spoiled.
    pub challenged: u64,
    /// Voters who cast twice.
    pub recast: u64,
    /// Per contest, the number of counted ballots holding it.
    pub ballots: std::collections::BTreeMap<String, u64>,
    /// The totals of the counted ballots.
    pub totals: Totals,
    /// Per contest, the counted ballots' encoded option vectors (for mix-net contests,
    /// whose cast-vote records hold them).
    pub rows: std::collections::BTreeMap<String, Vec<Vec<u64>>>,
}

/// The voters, sharing one client of the services.
pub struct Voters {
    pub voter: Voter,
    pub election: Election,
    pub manifest: Arc<Manifest>,
    pub seed: u64,
}

impl Voters {
    /// Votes for every `(voter id, voting code)` with `concurrency` voters at a time.
    pub async fn run(
        self,
        roll: Vec<(String, String)>,
        concurrency: usize,
        progress: ProgressBar,
    ) -> Result<Turnout> {
        let voters = Arc::new(self);
        let queue = Arc::new(Mutex::new(
            roll.into_iter().enumerate().collect::<VecDeque<_>>(),
        ));
        let turnout = Arc::new(Mutex::new(Turnout::default()));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..concurrency.max(1) {
            let (voters, queue, turnout, progress) = (
                voters.clone(),
                queue.clone(),
                turnout.clone(),
                progress.clone(),
            );
            workers.spawn(async move {
                loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .pop_front();
                    let Some((n, (id, code))) = next else {
                        return Ok::<(), anyhow::Error>(());
                    };
                    voters
                        .vote(n, &id, &code, &turnout)
                        .await
                        .with_context(|| format!("voter {id}"))?;
                    progress.inc(1);
                }
            });
        }
        while let Some(done) = workers.join_next().await {
            done??;
        }
        let turnout = Arc::try_unwrap(turnout)
            .map_err(|_| anyhow!("a voter task outlived the vote"))?
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(turnout)
    }

    /// One voter's visit, reproducible from the seed and the voter's position.
    async fn vote(&self, n: usize, id: &str, code: &str, turnout: &Mutex<Turnout>) -> Result<()> {
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed ^ ((n as u64) << 20) ^ 0x5eed);
        let session = self.voter.login(id, code).await?;
        let style = self
            .voter
            .ballot_style(&self.election, &session.style_id)
            .await?;
        let credential = self.voter.credential(&self.election, &session).await?;
        let challenge = rng.random_ratio(1, CHALLENGE_ONE_IN);
        let recast = rng.random_ratio(1, RECAST_ONE_IN);
        let first = ballots::choose(&self.manifest, &session.style_id, &mut rng)?;
        if challenge {
            let (ballot, opening) = style.encrypt(&credential, &first.choices)?;
            self.voter
                .challenge(&self.election, &style, &ballot, &opening)
                .await?;
        }
        let (ballot, _) = style.encrypt(&credential, &first.choices)?;
        self.voter.cast(&self.election, &ballot).await?;
        let mut counted = first;
        if recast {
            let second = ballots::choose(&self.manifest, &session.style_id, &mut rng)?;
            let (ballot, _) = style.encrypt(&credential, &second.choices)?;
            let receipt = self.voter.cast(&self.election, &ballot).await;
            match (self.manifest.revoting(), receipt) {
                (Revoting::LastCounts, Ok(receipt)) if receipt.supersedes_previous => {
                    counted = second;
                }
                (Revoting::LastCounts, Ok(_)) => {
                    return Err(anyhow!("a second ballot did not supersede the first"));
                }
                (Revoting::Once, Err(_)) => {}
                (Revoting::Once, Ok(_)) => {
                    return Err(anyhow!("a second ballot was accepted under `once`"));
                }
                (Revoting::LastCounts, Err(e)) => return Err(e.into()),
            }
        }
        let mut t = turnout.lock().unwrap_or_else(PoisonError::into_inner);
        t.voters += 1;
        t.cast += 1 + u64::from(recast && self.manifest.revoting() == Revoting::LastCounts);
        t.challenged += u64::from(challenge);
        t.recast += u64::from(recast);
        for (contest, vector) in &counted.vectors {
            *t.ballots.entry(contest.clone()).or_default() += 1;
            t.rows
                .entry(contest.clone())
                .or_default()
                .push(vector.clone());
        }
        counted.add_to(&mut t.totals);
        Ok(())
    }
}
