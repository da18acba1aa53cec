//! The sequencer: one thread that owns the log, takes appends from a queue,
//! integrates them in batches, signs one checkpoint per batch and only then
//! acknowledges each entry.
//!
//! Order of each batch: (1) integrate — entries, hash tiles and head written in one
//! durable transaction; (2) sign a checkpoint of the new tree and store it; (3) reply.
//! A crash before (1) commits loses only unacknowledged entries. A crash between (1)
//! and (2) leaves entries stored but unsigned: on start, the sequencer signs a
//! checkpoint for the stored tree before taking new work, and since the root of a size
//! is a function of the stored entries (and the store refuses a second root for a
//! checkpointed size), the tree can never fork. If (1) or (2) fails while running,
//! the batch is answered with the error and the sequencer stops, so that the next
//! start recovers from the store rather than from uncertain memory.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::checkpoint::SignedCheckpoint;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::note::NoteSigner;
use crate::store::Store;

/// How the sequencer batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequencerConfig {
    /// How long a batch waits for more entries after its first one (default 100 ms).
    pub interval: Duration,
    /// The most entries in one batch (default 4,096).
    pub max_batch: usize,
    /// The most appends waiting in the queue; beyond it appends are refused with
    /// [`Error::QueueFull`] (default 65,536).
    pub queue: usize,
}

impl Default for SequencerConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(100),
            max_batch: 4096,
            queue: 65_536,
        }
    }
}

/// The acknowledgement of an append: where the entry is, and a signed checkpoint
/// that covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The entry's index in the log.
    pub index: u64,
    /// The checkpoint signed for the batch that integrated the entry.
    pub checkpoint: SignedCheckpoint,
}

type Reply = mpsc::Sender<Result<Appended>>;

/// An append waiting for its acknowledgement.
#[derive(Debug)]
pub struct Pending(Receiver<Result<Appended>>);

impl Pending {
    /// Blocks until the entry is durably stored and covered by a signed checkpoint.
    pub fn wait(self) -> Result<Appended> {
        self.0.recv().map_err(|_| Error::SequencerStopped)?
    }
}

/// A running sequencer; dropping it (or [`Sequencer::shutdown`]) integrates what is
/// queued and stops the thread.
#[derive(Debug)]
pub struct Sequencer {
    queue: Option<SyncSender<(Vec<u8>, Reply)>>,
    worker: Option<JoinHandle<()>>,
    start: SignedCheckpoint,
}

impl Sequencer {
    /// Opens the log over `store` (its origin is the signer's key name), signs a
    /// checkpoint for any integrated but unsigned entries (recovery after a crash),
    /// and starts the sequencing thread.
    pub fn start<S: Store + 'static>(
        store: S,
        signer: NoteSigner,
        config: SequencerConfig,
    ) -> Result<Self> {
        let origin = signer.name().to_owned();
        let mut log = Log::open(store, &origin)?;
        let signed = match log.latest_checkpoint()? {
            // Reuse the stored note if this key signed it (after a key rotation,
            // the same tree head is signed again with the new key).
            Some(cp) if cp.size == log.size() => {
                match SignedCheckpoint::open(cp.note.as_bytes(), &origin, &[signer.verifier()]) {
                    Ok(signed) => signed,
                    Err(_) => log.sign_checkpoint(&signer)?,
                }
            }
            _ => log.sign_checkpoint(&signer)?,
        };
        let (tx, rx) = mpsc::sync_channel(config.queue.max(1));
        let worker = thread::Builder::new()
            .name("urna-board-sequencer".into())
            .spawn(move || run(log, signer, config, rx))
            .map_err(|_| Error::SequencerStopped)?;
        Ok(Self {
            queue: Some(tx),
            worker: Some(worker),
            start: signed,
        })
    }

    /// The checkpoint the log had when the sequencer started.
    pub fn initial_checkpoint(&self) -> &SignedCheckpoint {
        &self.start
    }

    /// Queues an entry without waiting; refuses at once if the queue is full.
    pub fn submit(&self, entry: &Entry) -> Result<Pending> {
        self.enqueue(entry.encode())
    }

    /// Queues already encoded entry bytes (for producers that hold the encoding);
    /// bytes that are not a valid entry (unknown version or kind, malformed) are
    /// refused here, before they reach the log.
    pub fn submit_encoded(&self, bytes: Vec<u8>) -> Result<Pending> {
        Entry::decode(&bytes)?;
        self.enqueue(bytes)
    }

    fn enqueue(&self, bytes: Vec<u8>) -> Result<Pending> {
        let queue = self.queue.as_ref().ok_or(Error::SequencerStopped)?;
        let (reply, wait) = mpsc::channel();
        match queue.try_send((bytes, reply)) {
            Ok(()) => Ok(Pending(wait)),
            Err(TrySendError::Full(_)) => Err(Error::QueueFull),
            Err(TrySendError::Disconnected(_)) => Err(Error::SequencerStopped),
        }
    }

    /// Appends an entry and waits for its acknowledgement.
    pub fn append(&self, entry: &Entry) -> Result<Appended> {
        self.submit(entry)?.wait()
    }

    /// Integrates what is queued, then stops the thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.queue = None;
        if let Some(worker) = self.worker.take() {
            // A panicked worker has already answered nothing more; there is nothing
            // else to recover here.
            let _ = worker.join();
        }
    }
}

impl Drop for Sequencer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run<S: Store>(
    mut log: Log<S>,
    signer: NoteSigner,
    config: SequencerConfig,
    rx: Receiver<(Vec<u8>, Reply)>,
) {
    let max = config.max_batch.max(1);
    // Ends when every sender is gone and the queue is drained.
    while let Ok(first) = rx.recv() {
        let deadline = Instant::now() + config.interval;
        let mut batch = vec![first];
        while batch.len() < max {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match rx.recv_timeout(deadline - now) {
                Ok(item) => batch.push(item),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        let (entries, replies): (Vec<Vec<u8>>, Vec<Reply>) = batch.into_iter().unzip();
        let outcome = log
            .integrate(&entries)
            .and_then(|start| Ok((start, log.sign_checkpoint(&signer)?)));
        match outcome {
            Ok((start, checkpoint)) => {
                for (i, reply) in replies.into_iter().enumerate() {
                    // A caller that stopped waiting is no reason to stop sequencing.
                    let _ = reply.send(Ok(Appended {
                        index: start + i as u64,
                        checkpoint: checkpoint.clone(),
                    }));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
                // Stop: queued appends get `SequencerStopped`, and the next start
                // recovers from the store.
                return;
            }
        }
    }
}
