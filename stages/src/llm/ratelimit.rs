//! Client-side limits: a semaphore for requests in flight, and pacers for
//! requests and tokens per minute.
//!
//! The pacers space requests evenly (a GCRA without burst): request `k` may
//! start no earlier than the previous one plus its cost times `60 s / quota`.
//! Any 60-second window then holds at most the quota (for tokens: plus the
//! request that opens the window), whether the server counts by fixed
//! minutes, by sliding window or by continuous refill. A run configured at
//! its quota therefore meets no 429. A `Retry-After` from the server pauses
//! every request of the model, not only the one that got it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// Spaces events so that at most `per_minute` units pass per minute.
#[derive(Debug)]
pub struct Pacer {
    per_unit: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer for `per_minute` units per minute (at least 1).
    pub fn per_minute(per_minute: u64) -> Pacer {
        Pacer {
            per_unit: Duration::from_secs_f64(60.0 / per_minute.max(1) as f64),
            next: Mutex::new(None),
        }
    }

    /// Reserves a start for an event costing `units` and returns when it may
    /// start. The reservation holds even when the caller gives up.
    pub async fn acquire(&self, units: u64) {
        let start = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let start = next.map_or(now, |n| n.max(now));
            *next = Some(start + self.per_unit.mul_f64(units as f64));
            start
        };
        tokio::time::sleep_until(start).await;
    }
}

/// Every client-side limit of one model.
#[derive(Debug)]
pub struct RateLimiter {
    in_flight: Semaphore,
    requests: Option<Pacer>,
    tokens: Option<Pacer>,
    tpm: Option<u64>,
    paused_until: Mutex<Option<Instant>>,
}

/// Permission to send one request; dropping it frees the concurrency slot.
#[derive(Debug)]
pub struct Admission<'a> {
    _permit: SemaphorePermit<'a>,
}

impl RateLimiter {
    /// Limits of `concurrency` requests in flight, `rpm` requests and `tpm` tokens per minute.
    pub fn new(concurrency: usize, rpm: Option<u32>, tpm: Option<u64>) -> RateLimiter {
        RateLimiter {
            in_flight: Semaphore::new(concurrency.max(1)),
            requests: rpm.map(|r| Pacer::per_minute(u64::from(r))),
            tokens: tpm.map(Pacer::per_minute),
            tpm,
            paused_until: Mutex::new(None),
        }
    }

    /// Waits for a concurrency slot, the request and token pacers and any
    /// pause the server asked for. `tokens` is prompt plus requested completion.
    pub async fn admit(&self, tokens: u64) -> Admission<'_> {
        // The semaphore is never closed, so acquire cannot fail; if it ever
        // did, waiting again is the only sensible answer.
        let permit = loop {
            if let Ok(p) = self.in_flight.acquire().await {
                break p;
            }
        };
        if let Some(pacer) = &self.requests {
            pacer.acquire(1).await;
        }
        if let (Some(pacer), Some(tpm)) = (&self.tokens, self.tpm) {
            // One request larger than the whole quota still goes, alone.
            pacer.acquire(tokens.min(tpm)).await;
        }
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        Admission { _permit: permit }
    }

    /// Holds every request back for `wait` (a 429's Retry-After, or a
    /// rate-limit header saying the quota is spent).
    pub fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(actual: Duration, expected: Duration) -> bool {
        actual >= expected && actual < expected + Duration::from_millis(80)
    }

    #[tokio::test]
    async fn requests_are_spaced_by_the_quota() {
        let limiter = RateLimiter::new(100, Some(6000), None);
        let start = Instant::now();
        for _ in 0..11 {
            let _a = limiter.admit(0).await;
        }
        // 11 requests at 6000/min: the 11th starts 10 x 10 ms after the first.
        assert!(
            near(start.elapsed(), Duration::from_millis(100)),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn tokens_are_paced_by_cost() {
        let limiter = RateLimiter::new(100, None, Some(600_000));
        let start = Instant::now();
        let _a = limiter.admit(500).await;
        let _b = limiter.admit(500).await;
        let _c = limiter.admit(10).await;
        // 10,000 tokens/s: the third request waits for the first two's 1000 tokens.
        assert!(
            near(start.elapsed(), Duration::from_millis(100)),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn a_pause_holds_every_request() {
        let limiter = RateLimiter::new(4, None, None);
        limiter.pause_for(Duration::from_millis(200));
        let start = Instant::now();
        let _a = limiter.admit(1).await;
        assert!(
            near(start.elapsed(), Duration::from_millis(200)),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn the_semaphore_bounds_requests_in_flight() {
        let limiter = RateLimiter::new(2, None, None);
        let a = limiter.admit(1).await;
        let _b = limiter.admit(1).await;
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.admit(1)).await;
        assert!(
            third.is_err(),
            "a third request got in while two were in flight"
        );
        drop(a);
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.admit(1)).await;
        assert!(third.is_ok());
    }
}
