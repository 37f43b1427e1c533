//! HTTP for the model backends: one JSON POST with a per-request timeout,
//! client-side limits, and bounded retries of transport failures (429, 5xx,
//! timeouts, connection errors, an answer that is not JSON) with exponential
//! backoff and jitter, honouring `Retry-After` (seconds or HTTP date) and
//! `x-ratelimit-reset-requests` / `-tokens`. 401 and 403 fail at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use docpipe_core::chat::ModelError;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::ratelimit::RateLimiter;
use super::secrets::{Secret, scrub_all};

/// How failed requests are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubles per retry.
    pub initial_backoff: Duration,
    /// Longest wait between attempts (caps server hints too).
    pub max_backoff: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// A successful answer.
#[derive(Debug)]
pub struct HttpReply {
    /// The JSON body.
    pub body: Value,
    /// Retries it took.
    pub retries: u32,
}

/// One header of a request; the value may be a secret.
#[derive(Debug, Clone)]
pub enum HeaderValue {
    /// Shown in logs as is.
    Plain(String),
    /// Never shown.
    Secret(Secret),
}

/// Sends JSON requests for one model.
#[derive(Debug)]
pub struct HttpTransport {
    client: reqwest::Client,
    policy: RetryPolicy,
    limiter: Arc<RateLimiter>,
    secrets: Vec<Secret>,
    jitter_state: AtomicU64,
}

/// What one attempt came to.
enum Attempt {
    Done(Value),
    /// Worth another try after at least `hint` (a server's wish), with `message`.
    Retry {
        message: String,
        hint: Option<Duration>,
        why: Trouble,
    },
    Fail(ModelError),
}

/// What kind of failure a retried request met: the advice when the retries
/// run out depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trouble {
    /// No connection (refused, no route, DNS).
    Connect,
    /// No answer in time.
    Timeout,
    /// 429.
    RateLimited,
    /// 408, 409, 5xx.
    Server,
    /// An answer that is not JSON, or broke off.
    Answer,
}

impl Trouble {
    /// What to do about it, for a request to `url`.
    fn advice(self, url: &str) -> String {
        match self {
            Trouble::Connect => format!(
                "is the server running at {url}? check `[model] base_url` (or `endpoint` for Azure)"
            ),
            Trouble::Timeout => {
                "raise `[model] timeout_s`, or lower `concurrency` if the server is overloaded"
                    .into()
            }
            Trouble::RateLimited => {
                "lower `[model] concurrency`, set `rpm`/`tpm` to the quota, or raise `max_retries`"
                    .into()
            }
            Trouble::Server => {
                "the server keeps failing: try again later, or raise `[model] max_retries`".into()
            }
            Trouble::Answer => {
                format!("check that {url} is an OpenAI-compatible chat completions endpoint")
            }
        }
    }
}

impl HttpTransport {
    /// A transport with `policy` and `limiter`. `secrets` are scrubbed from every message.
    pub fn new(
        policy: RetryPolicy,
        limiter: Arc<RateLimiter>,
        secrets: Vec<Secret>,
    ) -> Result<HttpTransport, String> {
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64)
            | 1;
        Ok(HttpTransport {
            client,
            policy,
            limiter,
            secrets,
            jitter_state: AtomicU64::new(seed),
        })
    }

    /// The limiter (shared by every request of the model).
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// POSTs `body` to `url` and returns the JSON answer. `tokens` is what the
    /// request counts against a tokens-per-minute limit.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&'static str, HeaderValue)],
        body: &Value,
        tokens: u64,
    ) -> Result<HttpReply, ModelError> {
        let mut retries = 0u32;
        loop {
            let attempt = {
                let _admission = self.limiter.admit(tokens).await;
                self.attempt(url, headers, body).await
            };
            match attempt {
                Attempt::Done(body) => return Ok(HttpReply { body, retries }),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { message, hint, why } => {
                    if retries >= self.policy.max_retries {
                        return Err(ModelError::Exhausted {
                            message: format!(
                                "gave up after {} attempt(s): {message}; {}",
                                retries + 1,
                                why.advice(url)
                            ),
                            retries,
                        });
                    }
                    let wait = match hint {
                        Some(h) => {
                            let h = h.min(self.policy.max_backoff);
                            self.limiter.pause_for(h);
                            h
                        }
                        None => self.backoff(retries),
                    };
                    tracing::warn!(
                        url,
                        retry = retries + 1,
                        wait_ms = wait.as_millis() as u64,
                        "model request failed: {message}; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    retries += 1;
                }
            }
        }
    }

    async fn attempt(
        &self,
        url: &str,
        headers: &[(&'static str, HeaderValue)],
        body: &Value,
    ) -> Attempt {
        let mut request = self
            .client
            .post(url)
            .timeout(self.policy.timeout)
            .json(body);
        for (name, value) in headers {
            request = match value {
                HeaderValue::Plain(v) => request.header(*name, v.as_str()),
                HeaderValue::Secret(s) => request.header(*name, s.expose()),
            };
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    message: self.describe_error(&e),
                    hint: None,
                    why: if e.is_timeout() {
                        Trouble::Timeout
                    } else if e.is_connect() {
                        Trouble::Connect
                    } else {
                        Trouble::Answer
                    },
                };
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = match response.text().await {
            Ok(t) => t,
            Err(e) => {
                return Attempt::Retry {
                    message: self.describe_error(&e),
                    hint: None,
                    why: if e.is_timeout() {
                        Trouble::Timeout
                    } else {
                        Trouble::Answer
                    },
                };
            }
        };
        let message = self.server_message(&text);
        match status {
            200..=299 => {
                self.note_quota(&headers);
                match serde_json::from_str::<Value>(&text) {
                    Ok(v) => Attempt::Done(v),
                    Err(e) => Attempt::Retry {
                        message: format!(
                            "the server answered {status} with a body that is not JSON ({e})"
                        ),
                        hint: None,
                        why: Trouble::Answer,
                    },
                }
            }
            401 | 403 => Attempt::Fail(ModelError::Auth { status, message }),
            429 => Attempt::Retry {
                message: format!("rate limited (429): {message}"),
                hint: retry_hint(&headers, SystemTime::now()),
                why: Trouble::RateLimited,
            },
            408 | 409 | 500..=599 => Attempt::Retry {
                message: format!("server error ({status}): {message}"),
                hint: retry_after(&headers, SystemTime::now()),
                why: Trouble::Server,
            },
            _ => Attempt::Fail(ModelError::Rejected { status, message }),
        }
    }

    /// A successful answer saying the quota is spent pauses the next requests.
    fn note_quota(&self, headers: &HeaderMap) {
        for (remaining, reset) in [
            (
                "x-ratelimit-remaining-requests",
                "x-ratelimit-reset-requests",
            ),
            ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
        ] {
            let spent = header_str(headers, remaining).is_some_and(|v| v.trim() == "0");
            if spent && let Some(wait) = header_str(headers, reset).and_then(parse_reset_duration) {
                self.limiter.pause_for(wait.min(self.policy.max_backoff));
            }
        }
    }

    /// Exponential backoff with jitter: between half and all of `initial * 2^retry`, capped.
    fn backoff(&self, retry: u32) -> Duration {
        let base = self
            .policy
            .initial_backoff
            .saturating_mul(1u32 << retry.min(16))
            .min(self.policy.max_backoff);
        base.mul_f64(0.5 + 0.5 * self.random_unit())
    }

    fn random_unit(&self) -> f64 {
        // xorshift64*: jitter needs spread, not cryptographic quality.
        let mut x = self.jitter_state.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.jitter_state.store(x, Ordering::Relaxed);
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn describe_error(&self, e: &reqwest::Error) -> String {
        let what = if e.is_timeout() {
            format!(
                "no answer within {:.1} s (`[model] timeout_s`)",
                self.policy.timeout.as_secs_f64()
            )
        } else if e.is_connect() {
            format!("cannot connect: {}", error_chain(e))
        } else {
            error_chain(e)
        };
        scrub_all(&what, &self.secrets)
    }

    /// The server's error message (OpenAI's `error.message`), short, without secrets.
    fn server_message(&self, text: &str) -> String {
        let message = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| {
                v.pointer("/error/message")
                    .or_else(|| v.pointer("/error"))
                    .or_else(|| v.pointer("/message"))
                    .and_then(|m| m.as_str().map(str::to_string))
            })
            .unwrap_or_else(|| text.chars().take(300).collect());
        scrub_all(message.trim(), &self.secrets)
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// How long a 429 asks to wait: `Retry-After`, else the longer of the
/// `x-ratelimit-reset-*` headers.
pub fn retry_hint(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    retry_after(headers, now).or_else(|| {
        ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
            .iter()
            .filter_map(|h| header_str(headers, h).and_then(parse_reset_duration))
            .max()
    })
}

/// `Retry-After` (or Azure's `retry-after-ms`) as a duration from `now`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(ms) =
        header_str(headers, "retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
    {
        return (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header_str(headers, "retry-after")?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// OpenAI's reset durations: `1s`, `6m0s`, `20ms`, `1m30.5s`, `2h`, or plain seconds.
pub fn parse_reset_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let mut total = 0.0f64;
    let mut rest = text;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * factor;
        any = true;
    }
    any.then(|| Duration::from_secs_f64(total))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP dates take.
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if *zone != "GMT" && *zone != "UTC" {
        return None;
    }
    let day: u64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u64
        + 1;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + (*h as i64) * 3600 + (*m as i64) * 60 + *s as i64;
    u64::try_from(secs)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue as Hv;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let mut h = HeaderMap::new();
        h.insert("retry-after", Hv::from_static("3"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        h.insert(
            "retry-after",
            Hv::from_static("Sun, 06 Nov 1994 08:49:42 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(5)));
        h.insert(
            "retry-after",
            Hv::from_static("Sun, 06 Nov 1994 08:49:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert("retry-after", Hv::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn reset_headers_read_go_durations() {
        assert_eq!(parse_reset_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_reset_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(
            parse_reset_duration("20ms"),
            Some(Duration::from_millis(20))
        );
        assert_eq!(
            parse_reset_duration("1m30.5s"),
            Some(Duration::from_millis(90_500))
        );
        assert_eq!(parse_reset_duration("abc"), None);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset-requests", Hv::from_static("2s"));
        h.insert("x-ratelimit-reset-tokens", Hv::from_static("500ms"));
        assert_eq!(
            retry_hint(&h, SystemTime::now()),
            Some(Duration::from_secs(2))
        );
    }
}
