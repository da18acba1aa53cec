//! The prepare phase, before the clock starts: each voter logs in, gets a credential
//! blind-signed by auth and encrypts one reference ballot (marking one option per
//! contest), many voters at a time. The client's cryptography happens here so that it
//! never limits the timed run.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use tokio::task::JoinSet;
use urna_sdk::{Choice, Choices, Election, Style, Voter};

/// Prepares one encrypted ballot (its wire bytes) per voter of `voters`
/// (`(voter_id, voting_code)`), `concurrency` voters at a time, printing progress on
/// stderr.
///
/// # Errors
/// The first voter whose login, credential or encryption fails, by id.
pub async fn ballots(
    voter: &Voter,
    election: &Election,
    voters: Vec<(String, String)>,
    concurrency: usize,
) -> Result<Vec<Vec<u8>>> {
    let total = voters.len();
    let started = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));
    let styles: Arc<Mutex<BTreeMap<String, Style>>> = Arc::default();
    let progress = tokio::spawn(progress(done.clone(), total, started));
    let mut tasks = JoinSet::new();
    let mut ballots = Vec::with_capacity(total);
    for (n, (voter_id, code)) in voters.into_iter().enumerate() {
        if tasks.len() >= concurrency.max(1) {
            ballots.push(joined(tasks.join_next().await)?);
        }
        let (voter, election, styles, done) = (
            voter.clone(),
            election.clone(),
            styles.clone(),
            done.clone(),
        );
        tasks.spawn(async move {
            let ballot = one(&voter, &election, &styles, &voter_id, &code, n)
                .await
                .with_context(|| format!("preparing voter {voter_id}"))?;
            done.fetch_add(1, Ordering::Relaxed);
            Ok(ballot)
        });
    }
    while let Some(result) = tasks.join_next().await {
        ballots.push(joined(Some(result))?);
    }
    progress.abort();
    let secs = started.elapsed().as_secs_f64();
    let clear = if std::io::stderr().is_terminal() {
        "\r"
    } else {
        ""
    };
    eprintln!(
        "{clear}prepared {total} ballots in {secs:.1} s ({:.0}/s)          ",
        total as f64 / secs.max(1e-9)
    );
    Ok(ballots)
}

fn joined(result: Option<Result<Result<Vec<u8>>, tokio::task::JoinError>>) -> Result<Vec<u8>> {
    result
        .context("no task to join")?
        .context("a prepare task panicked")?
}

/// One voter: login, style (fetched once per style id), credential, ballot.
async fn one(
    voter: &Voter,
    election: &Election,
    styles: &Mutex<BTreeMap<String, Style>>,
    voter_id: &str,
    code: &str,
    n: usize,
) -> Result<Vec<u8>> {
    let session = voter.login(voter_id, code).await?;
    let cached = lock(styles)?.get(&session.style_id).cloned();
    let style = match cached {
        Some(style) => style,
        None => {
            let style = voter.ballot_style(election, &session.style_id).await?;
            lock(styles)?.insert(session.style_id.clone(), style.clone());
            style
        }
    };
    let choices = reference_choices(&style, n);
    style.validate(&choices).map_err(|e| {
        anyhow!("urna-loadtest marks one option in each contest (the reference ballot): {e}")
    })?;
    let credential = voter.credential(election, &session).await?;
    // Encryption and its proofs are the costly part: off the async workers.
    let ballot = tokio::task::spawn_blocking(move || style.encrypt(&credential, &choices))
        .await
        .context("the encryption task panicked")??
        .0;
    Ok(ballot.to_bytes())
}

/// One marked option per contest, rotating through the options with `n` so that
/// every option gets votes.
fn reference_choices(style: &Style, n: usize) -> Choices {
    style
        .contests()
        .iter()
        .filter(|contest| !contest.options.is_empty())
        .map(|contest| {
            let option = &contest.options[n % contest.options.len()];
            (contest.id.clone(), Choice::Marks(vec![option.id.clone()]))
        })
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>> {
    mutex
        .lock()
        .map_err(|_| anyhow!("a prepare task panicked holding the style cache"))
}

/// Prints `prepared k/N` until aborted: in place twice a second on a terminal, a line
/// every 5 seconds otherwise (logs).
async fn progress(done: Arc<AtomicUsize>, total: usize, started: Instant) {
    let terminal = std::io::stderr().is_terminal();
    let every = Duration::from_millis(if terminal { 500 } else { 5000 });
    loop {
        tokio::time::sleep(every).await;
        let k = done.load(Ordering::Relaxed);
        let rate = k as f64 / started.elapsed().as_secs_f64().max(1e-9);
        if terminal {
            eprint!("\rprepared {k}/{total} ballots ({rate:.0}/s)");
            let _ = std::io::stderr().flush();
        } else {
            eprintln!("prepared {k}/{total} ballots ({rate:.0}/s)");
        }
    }
}
