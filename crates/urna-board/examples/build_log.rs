//! Builds a bulletin board of 1,000 entries in a directory, then prints its signed
//! checkpoint and an inclusion proof checked the way a voter's client checks it.
//!
//! ```text
//! cargo run -p urna-board --example build_log -- DIR
//! ```
//!
//! DIR gets `board.db` (the SQLite log) and `board.key` (the log's signing key, in the
//! signed-note private key format). Running it again appends 1,000 more entries.

use std::path::PathBuf;
use std::process::ExitCode;

use urna_board::tiles::hash_tiles;
use urna_board::{
    Entry, EntryKind, Log, NoteSigner, Sequencer, SequencerConfig, SignedCheckpoint, SqliteStore,
    verify_inclusion,
};

const ORIGIN: &str = "urna.example/demo-election";
const ENTRIES: u32 = 1_000;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("build_log: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or("usage: build_log DIR")?
        .into();
    std::fs::create_dir_all(&dir)?;

    let key_path = dir.join("board.key");
    let signer = if key_path.exists() {
        NoteSigner::parse(std::fs::read_to_string(&key_path)?.trim())?
    } else {
        let signer = NoteSigner::from_seed(ORIGIN, &rand::random::<[u8; 32]>())?;
        write_secret(&key_path, &(signer.to_private_key_string() + "\n"))?;
        signer
    };
    let verifier = signer.verifier();
    let db = dir.join("board.db");

    // Sequence 1,000 ballots: submitted together, integrated in batches, each
    // acknowledged once stored and covered by a signed checkpoint.
    let election = [0x5a; 32];
    let seq = Sequencer::start(SqliteStore::open(&db)?, signer, SequencerConfig::default())?;
    let pending = (0..ENTRIES)
        .map(|i| {
            let body = format!("encrypted ballot #{i}").into_bytes();
            seq.submit(&Entry::new(EntryKind::Ballot, election, body)?)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut receipts = Vec::with_capacity(pending.len());
    for p in pending {
        receipts.push(p.wait()?);
    }
    seq.shutdown();

    // What an observer sees: the latest checkpoint, opened with the log's public key.
    let log = Log::open(SqliteStore::open(&db)?, ORIGIN)?;
    let stored = log.latest_checkpoint()?.ok_or("no checkpoint")?;
    let checkpoint = SignedCheckpoint::open(
        stored.note.as_bytes(),
        ORIGIN,
        std::slice::from_ref(&verifier),
    )?;
    let size = checkpoint.checkpoint().size();

    // What a voter checks: their entry is in the tree the checkpoint commits to.
    let receipt = &receipts[receipts.len() / 3];
    let entry = log.entries(receipt.index, receipt.index + 1)?.remove(0);
    let leaf = Entry::decode(&entry)?.leaf_hash();
    let proof = log.inclusion_proof(receipt.index, size)?;
    verify_inclusion(
        &leaf,
        receipt.index,
        size,
        &proof,
        checkpoint.checkpoint().root(),
    )?;

    println!("log directory: {}", dir.display());
    println!("verifier key:  {verifier}");
    println!(
        "tree size:     {size} ({} hash tiles)",
        hash_tiles(size).count()
    );
    println!();
    println!("signed checkpoint:");
    print!("{checkpoint}");
    println!();
    println!("inclusion proof for entry {} of {size}:", receipt.index);
    println!("  leaf hash {leaf}");
    for (i, h) in proof.iter().enumerate() {
        println!("  proof[{i:2}] {h}");
    }
    println!("inclusion proof verifies against the signed checkpoint: OK");
    Ok(())
}

/// Writes the signing key readable by its owner only.
fn write_secret(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}
