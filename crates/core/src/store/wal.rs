//! SQLite's write-ahead log: copied into the database file beside the writer, and started
//! again from its beginning so that it stays short under a steady load.
//!
//! SQLite's own automatic checkpoint runs inside the commit that takes the log past 1,000
//! pages, and whoever waited for that commit (a call's 202, a claim) waited for the copy too,
//! about once in 150 calls. So every connection has `wal_autocheckpoint = 0` and this task
//! does it instead.

use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// How often the log is copied.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The log's length, in frames of one page, past which `checkpoints` starts it again: SQLite's
/// own automatic checkpoint size (1,000 pages of 4 KiB).
const RESTART_PAST_FRAMES: i64 = 1_000;

/// Frames the writer may append during the last passive copy for the writer's own copy to be
/// short (1 MiB), and how many passive copies a turn makes at most to get there.
const CAUGHT_UP_FRAMES: i64 = 256;
const CATCH_UP_TRIES: usize = 4;

/// Tries to start the log again per turn, and the pause between two.
const RESTART_TRIES: usize = 5;
const RESTART_TRY_EVERY: Duration = Duration::from_millis(20);

/// Tries to empty the log after an erasure, and the pause between two.
const EMPTY_TRIES: usize = 10;
const EMPTY_TRY_EVERY: Duration = Duration::from_millis(50);

/// How long a checkpoint on the writer's connection waits for the log's readers (the
/// connection otherwise waits up to 10 s for a lock): writes queue behind it meanwhile.
const READERS_WAIT_MS: u32 = 5;

/// How long a connection waits for a lock (SQLite's busy timeout), set on every connection
/// and set back after a checkpoint on the writer.
pub(super) const BUSY_TIMEOUT_MS: u32 = 10_000;

/// The log's file is cut back to this size whenever the log starts again: a burst's long log
/// does not keep its length, nor its old frames past this point, once it is over.
pub(super) const LOG_FILE_LIMIT_BYTES: u32 = 16 << 20;

/// Each turn, a passive checkpoint on the read pool copies what it can without waiting for
/// readers or the writer. That alone never let the log start again under a steady load: a
/// write starts it again only when it finds all of it copied and no reader still reading
/// from it, and some reader always was. The log grew without end (77 MB for 1,200 calls) and
/// every frame went to a new block of the file. So once the log is long, and the passive
/// copies have caught up with the writer (`caught_up`), the writer's own connection, where no
/// frame can be appended meanwhile, copies the few frames left, waits a few milliseconds for
/// the readers in the log to finish, and starts it again.
pub(super) async fn checkpoints(pool: AnyPool, writer: AnyPool) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        every.tick().await;
        match caught_up(&pool).await {
            Ok(Some(log)) if log > RESTART_PAST_FRAMES => start_again(&writer).await,
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(error = %e, "a write-ahead log checkpoint did not run; the next one will");
            }
        }
    }
}

/// Passive checkpoints on the read pool, one after another while the writer appends more than
/// `CAUGHT_UP_FRAMES` during one: the log's length once one has copied all of it and the
/// writer appended less than that meanwhile, or `None` if a reader of older frames kept one
/// from copying all (the writer would wait for the copy that remains; not this turn). A
/// retention pass rewrites pages fast, and the writer once waited 1.27 s for a restart's copy
/// of what the passive one had not reached.
async fn caught_up(pool: &AnyPool) -> Result<Option<i64>, sqlx::Error> {
    let mut before = 0;
    for _ in 0..CATCH_UP_TRIES {
        let (_, log, copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(pool).await?;
        if copied < log {
            return Ok(None);
        }
        if log < before + CAUGHT_UP_FRAMES {
            return Ok(Some(log));
        }
        before = log;
    }
    Ok(None)
}

async fn start_again(writer: &AnyPool) {
    let restarted = in_tries(writer, Restart::FromTheStart, RESTART_TRIES, RESTART_TRY_EVERY).await;
    if let Err(e) = restarted {
        tracing::debug!(error = %e, "the write-ahead log was not started again; the next turn tries");
    }
}

/// After an erasure, whose calls' frames the log may still hold from when they were stored:
/// the log copied into the database file (passive copies on the read pool first, beside the
/// writer) and emptied, its file truncated. `Ok(false)` when readers outlasted every try.
pub(super) async fn empty(pool: &AnyPool, writer: &AnyPool) -> Result<bool, sqlx::Error> {
    if let Err(e) = caught_up(pool).await {
        tracing::debug!(error = %e, "a write-ahead log checkpoint did not run before emptying it");
    }
    in_tries(writer, Restart::Emptied, EMPTY_TRIES, EMPTY_TRY_EVERY).await
}

/// Up to `tries` checkpoints on the writer, `pause` apart with writes let through between
/// them: one try waits only a few milliseconds for the readers in the log, and a reader that a
/// busy machine paused can outlast that. Whether one of them finished.
async fn in_tries(
    writer: &AnyPool, restart: Restart, tries: usize, pause: Duration,
) -> Result<bool, sqlx::Error> {
    for attempt in 1..=tries {
        if on_the_writer(writer, restart).await? {
            return Ok(true);
        }
        if attempt < tries {
            tokio::time::sleep(pause).await;
        }
    }
    Ok(false)
}

/// How a checkpoint on the writer leaves the log.
#[derive(Clone, Copy, Debug)]
enum Restart {
    /// Written again from its beginning (`RESTART`).
    FromTheStart,
    /// Also cut to nothing on disk (`TRUNCATE`): after an erasure, whose rows it may hold.
    Emptied,
}

/// Copies the whole log on the writer's connection and starts it again, waiting at most
/// `READERS_WAIT_MS` for its readers; `Ok(false)` when a reader outlasted that wait (the
/// copy was made, the log not started again). Runs as a task of its own, so that a caller
/// that gives up (an erasure whose client went away) cannot leave the writer between the two
/// busy timeouts.
async fn on_the_writer(writer: &AnyPool, restart: Restart) -> Result<bool, sqlx::Error> {
    let writer = writer.clone();
    tokio::spawn(async move {
        let pragma = match restart {
            Restart::FromTheStart => "PRAGMA wal_checkpoint(RESTART)",
            Restart::Emptied => "PRAGMA wal_checkpoint(TRUNCATE)",
        };
        let mut conn = writer.acquire().await?;
        conn.execute(format!("PRAGMA busy_timeout = {READERS_WAIT_MS}").as_str()).await?;
        let done = sqlx::query_as::<_, (i64, i64, i64)>(pragma).fetch_one(&mut *conn).await;
        if let Err(e) =
            conn.execute(format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}").as_str()).await
        {
            // A writer that gave up on a lock after a few milliseconds would fail writes: this
            // connection is closed rather than handed back, and the pool opens another.
            drop(conn.close().await);
            return Err(e);
        }
        Ok(done?.0 == 0)
    })
    .await
    .unwrap_or_else(|e| Err(sqlx::Error::Io(std::io::Error::other(e))))
}

#[cfg(test)]
mod tests {
    use super::{BUSY_TIMEOUT_MS, Restart, on_the_writer};
    use crate::store::Store;
    use crate::vault::Keyring;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    async fn store(dir: &tempfile::TempDir) -> Store {
        let url = format!("sqlite://{}/wal.db", dir.path().display());
        Store::connect(&url, Keyring::parse(&Keyring::generate_key()).unwrap()).await.unwrap()
    }

    async fn busy_timeout(pool: &sqlx::AnyPool) -> i64 {
        sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(pool).await.unwrap()
    }

    /// The writer waits its usual time for locks again after a checkpoint of either kind.
    #[tokio::test]
    async fn the_writer_gets_its_busy_timeout_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        for restart in [Restart::FromTheStart, Restart::Emptied] {
            assert!(on_the_writer(&store.writer, restart).await.unwrap());
            assert_eq!(busy_timeout(&store.writer).await, i64::from(BUSY_TIMEOUT_MS));
        }
    }

    /// Writes that never pause, beside eight readers that overlap so that one is always in the
    /// middle of a read: the log still starts again from its beginning, so its file stays well
    /// short of what went through it (it grew past all of it before).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_starts_again_under_a_load_that_never_pauses() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let (pool, writer) = (store.pool().clone(), store.writer.clone());
        sqlx::query("CREATE TABLE filler (x BLOB)").execute(&writer).await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        // Each read costs the same however long the table grows, and holds the log meanwhile.
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let (pool, stop) = (pool.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let _: i64 = sqlx::query_scalar(
                            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
                             SELECT COUNT(*) FROM n, (SELECT rowid FROM filler ORDER BY rowid DESC LIMIT 1)",
                        )
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    }
                })
            })
            .collect();
        // 48 MiB through the log, ten rows of 8 KiB (about 20 frames) per transaction, back to
        // back: nothing else copies the log meanwhile.
        let written: u64 = 600 * 10 * 8192;
        for _ in 0..600 {
            sqlx::query(
                "INSERT INTO filler SELECT randomblob(8192) FROM \
                 (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i FROM n)",
            )
            .execute(&writer)
            .await
            .unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        for reader in readers {
            reader.await.unwrap();
        }
        let log = std::fs::metadata(dir.path().join("wal.db-wal")).unwrap().len();
        assert!(log < written / 2, "the log's file grew to {log} bytes for {written} written");
    }
}
