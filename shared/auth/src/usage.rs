//! Usage counting: requests and errors per key and minute, in PostgreSQL.
//!
//! Requests add to an in-memory tally; `flush` writes the tally as one multi-row upsert
//! into rows owned by this writer alone, so no two writers ever wait on each other's
//! row lock. In Lambda (one request at a time per container) the flush runs after each
//! request; the local runtime flushes from a background task. A failed flush keeps the
//! tally for the next one: nothing is lost while the process lives.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use pm_domain::ApiKeyId;
use pm_store::{Db, DbError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushMode {
    /// Flush after every request (Lambda).
    AfterEachRequest,
    /// A background task calls [`UsageRecorder::flush`] (local runtime).
    Background,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    requests: i64,
    errors: i64,
    last: Option<DateTime<Utc>>,
}

pub struct UsageRecorder {
    writer: i32,
    mode: FlushMode,
    pending: Mutex<HashMap<(ApiKeyId, DateTime<Utc>), Tally>>,
}

impl UsageRecorder {
    pub fn new(mode: FlushMode) -> Self {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("the OS random number generator works");
        Self {
            writer: i32::from_le_bytes(bytes),
            mode,
            pending: Mutex::new(HashMap::new()),
        }
    }

    pub fn mode(&self) -> FlushMode {
        self.mode
    }

    pub fn record(&self, key_id: ApiKeyId, is_error: bool) {
        let now = Utc::now();
        let minute = now
            .duration_trunc(TimeDelta::minutes(1))
            .expect("minutes truncate");
        let mut pending = self.pending.lock().expect("usage lock poisoned");
        let tally = pending.entry((key_id, minute)).or_default();
        tally.requests += 1;
        tally.errors += i64::from(is_error);
        tally.last = Some(tally.last.map_or(now, |last| last.max(now)));
    }

    /// Writes everything recorded so far. Returns how many (key, minute) rows it wrote.
    pub async fn flush(&self, db: &Db) -> Result<usize, DbError> {
        let batch: Vec<((ApiKeyId, DateTime<Utc>), Tally)> = {
            let mut pending = self.pending.lock().expect("usage lock poisoned");
            pending.drain().collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match self.write(db, &batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                self.restore(batch);
                Err(e)
            }
        }
    }

    async fn write(
        &self,
        db: &Db,
        batch: &[((ApiKeyId, DateTime<Utc>), Tally)],
    ) -> Result<(), DbError> {
        let keys: Vec<ApiKeyId> = batch.iter().map(|((k, _), _)| *k).collect();
        let minutes: Vec<DateTime<Utc>> = batch.iter().map(|((_, m), _)| *m).collect();
        let requests: Vec<i64> = batch.iter().map(|(_, t)| t.requests).collect();
        let errors: Vec<i64> = batch.iter().map(|(_, t)| t.errors).collect();
        let last: Vec<DateTime<Utc>> = batch
            .iter()
            .map(|((_, m), t)| t.last.unwrap_or(*m))
            .collect();
        let client = db.client().await?;
        client
            .execute(
                "INSERT INTO api_key_usage (key_id, minute, writer, requests, errors, last_used_at) \
                 SELECT k, m, $3, r, e, l \
                 FROM unnest($1::uuid[], $2::timestamptz[], $4::int8[], $5::int8[], $6::timestamptz[]) \
                   AS t(k, m, r, e, l) \
                 ON CONFLICT (key_id, minute, writer) DO UPDATE SET \
                   requests = api_key_usage.requests + EXCLUDED.requests, \
                   errors = api_key_usage.errors + EXCLUDED.errors, \
                   last_used_at = GREATEST(api_key_usage.last_used_at, EXCLUDED.last_used_at)",
                &[&keys, &minutes, &self.writer, &requests, &errors, &last],
            )
            .await?;
        Ok(())
    }

    fn restore(&self, batch: Vec<((ApiKeyId, DateTime<Utc>), Tally)>) {
        let mut pending = self.pending.lock().expect("usage lock poisoned");
        for (slot, tally) in batch {
            let entry = pending.entry(slot).or_default();
            entry.requests += tally.requests;
            entry.errors += tally.errors;
            entry.last = entry.last.max(tally.last);
        }
    }
}
