//! Group commit: concurrent writes of one kind go to a task that writes whatever has queued up
//! by the time the previous write is done, in one transaction, and answers each caller. At low
//! load that is one write at a time with no added wait; under load, one round trip to the
//! database (and, on SQLite, one turn of its single writer) for many requests.

use super::held::HeldConnection;
use crate::error::AppError;
use sqlx::AnyConnection;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// One batch's write, borrowing the writer's connection.
pub(super) type Write<'c, R> = Pin<Box<dyn Future<Output = Result<Vec<R>, AppError>> + Send + 'c>>;

/// Requests queued beyond this wait for room: memory stays bounded under any burst.
const QUEUE: usize = 1024;
/// The most requests written in one transaction.
pub(super) const MAX_BATCH: usize = 64;

type Reply<R> = oneshot::Sender<Result<R, AppError>>;

pub(super) struct GroupCommit<T, R> {
    queue: mpsc::Sender<(T, Reply<R>)>,
}

impl<T, R> Clone for GroupCommit<T, R> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone() }
    }
}

impl<T, R> std::fmt::Debug for GroupCommit<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// Starts the task; `write` writes one batch on the writer's connection and returns one
    /// answer per request, in order, or one error for the whole batch (which every caller of the
    /// batch then gets).
    pub(super) fn start<F>(writer: HeldConnection, write: F) -> Self
    where
        F: for<'c> Fn(&'c mut AnyConnection, Vec<T>) -> Write<'c, R> + Send + 'static,
    {
        let (queue, mut requests) = mpsc::channel::<(T, Reply<R>)>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while requests.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (items, replies): (Vec<T>, Vec<Reply<R>>) = batch.drain(..).unzip();
                let written = match writer.acquire().await {
                    Ok(mut conn) => {
                        let written = write(&mut conn, items).await;
                        if written.is_ok() {
                            conn.keep();
                        }
                        written
                    }
                    Err(e) => Err(e),
                };
                match written {
                    Ok(answers) => {
                        for (reply, answer) in replies.into_iter().zip(answers) {
                            let _ = reply.send(Ok(answer));
                        }
                    }
                    Err(err) => {
                        for reply in replies {
                            let _ = reply.send(Err(err.clone()));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    /// Queues `item` for the next batch and waits until it is written.
    pub(super) async fn write(&self, item: T) -> Result<R, AppError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((item, reply))
            .await
            .map_err(|_| AppError::internal("the group-commit task has stopped"))?;
        answer.await.map_err(|_| AppError::internal("the group-commit task dropped a request"))?
    }
}
