//! The shared `[model]` section: which backend answers, how it is reached,
//! and the limits it runs under. Every key can be set on the command line
//! with `--set model.KEY=VALUE`.

use std::collections::BTreeMap;
use std::time::Duration;

use docpipe_core::registry::OptionDoc;
use serde::{Deserialize, Serialize};

use crate::budget::prices::Price;

/// How the backend asks for JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// Try `json_schema`, then `tools`, `json_object` and `text`, stepping
    /// down when the server says a mode is unsupported; remembered per run.
    #[default]
    Auto,
    /// `response_format: {type: json_schema, strict: true}`.
    JsonSchema,
    /// A forced function call whose parameters are the schema.
    Tools,
    /// `response_format: {type: json_object}` with the schema in the prompt.
    JsonObject,
    /// Plain text; the answer is a fenced JSON block.
    Text,
}

impl StructuredOutput {
    /// Name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            StructuredOutput::Auto => "auto",
            StructuredOutput::JsonSchema => "json_schema",
            StructuredOutput::Tools => "tools",
            StructuredOutput::JsonObject => "json_object",
            StructuredOutput::Text => "text",
        }
    }
}

/// `[model]`: the model backend and its limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSection {
    /// Backend: `template` (offline), `openai`, `azure`, or a plugin's.
    pub provider: String,
    /// Model name (tokenizer, prices, context window; the `model` field for OpenAI).
    pub name: String,
    /// OpenAI-compatible base URL, up to and including `/v1`.
    pub base_url: Option<String>,
    /// Name of the environment variable holding the API key.
    pub api_key_env: Option<String>,
    /// Azure resource endpoint (`https://NAME.openai.azure.com`).
    pub endpoint: Option<String>,
    /// Azure deployment name.
    pub deployment: Option<String>,
    /// Azure API version.
    pub api_version: Option<String>,
    /// Seconds one HTTP request may take.
    pub timeout_s: f64,
    /// Most requests in flight.
    pub concurrency: usize,
    /// Requests per minute (client-side pacing); none: unlimited.
    pub rpm: Option<u32>,
    /// Tokens per minute, prompt plus requested completion; none: unlimited.
    pub tpm: Option<u64>,
    /// Transport retries of one request (429, 5xx, timeouts, connection errors).
    pub max_retries: u32,
    /// Answers per unit: a reply that fails validation is asked again until this many.
    pub max_attempts: u32,
    /// First backoff delay in milliseconds; doubles per retry, with jitter.
    pub retry_backoff_ms: u64,
    /// Longest single wait between retries, in seconds (also caps Retry-After).
    pub max_backoff_s: f64,
    /// Sampling temperature; none: the server's default.
    pub temperature: Option<f32>,
    /// Units of one file documented in one request.
    pub batch_size: usize,
    /// TOML file with `system`, `user` and `unit` prompt templates.
    pub prompt_file: Option<String>,
    /// How JSON is requested.
    pub structured_output: StructuredOutput,
    /// Context window override, in tokens.
    pub context_window: Option<u64>,
    /// Most completion tokens per request (override of the model's table).
    pub max_completion_tokens: Option<u64>,
    /// Prices per model name, in US dollars per million tokens; merged over the defaults.
    pub prices: BTreeMap<String, Price>,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            provider: "template".into(),
            name: "gpt-4o-mini".into(),
            base_url: None,
            api_key_env: None,
            endpoint: None,
            deployment: None,
            api_version: None,
            timeout_s: 60.0,
            concurrency: 8,
            rpm: None,
            tpm: None,
            max_retries: 5,
            max_attempts: 3,
            retry_backoff_ms: 500,
            max_backoff_s: 60.0,
            temperature: None,
            batch_size: 1,
            prompt_file: None,
            structured_output: StructuredOutput::Auto,
            context_window: None,
            max_completion_tokens: None,
            prices: BTreeMap::new(),
        }
    }
}

impl ModelSection {
    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_s.clamp(0.001, 86_400.0))
    }

    /// Concurrency, at least 1.
    pub fn concurrency(&self) -> usize {
        self.concurrency.max(1)
    }

    /// Batch size, at least 1.
    pub fn batch_size(&self) -> usize {
        self.batch_size.max(1)
    }

    /// Attempts, at least 1.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts.max(1)
    }

    /// Every key, for `docpipe stages` and the README.
    pub fn describe() -> Vec<OptionDoc> {
        vec![
            doc(
                "provider",
                "string",
                Some("\"template\""),
                "Backend: `template` (offline, the default), `openai` (OpenAI or any compatible server: Ollama, vLLM, LM Studio, llama.cpp), `azure`, or a plugin's.",
            ),
            doc(
                "name",
                "string",
                Some("\"gpt-4o-mini\""),
                "Model name: sent as `model` to OpenAI-compatible servers; picks the tokenizer, prices, context window.",
            ),
            doc(
                "base_url",
                "string",
                Some("\"https://api.openai.com/v1\""),
                "OpenAI-compatible base URL, up to and including `/v1`.",
            ),
            doc(
                "api_key_env",
                "string",
                Some("\"OPENAI_API_KEY\""),
                "Environment variable (or `.env` entry) holding the key. A local server may need none: then no Authorization header is sent.",
            ),
            doc(
                "endpoint",
                "string",
                Some("$AZURE_OPENAI_ENDPOINT"),
                "Azure resource endpoint, such as `https://NAME.openai.azure.com`.",
            ),
            doc(
                "deployment",
                "string",
                Some("$AZURE_OPENAI_DEPLOYMENT"),
                "Azure deployment name.",
            ),
            doc(
                "api_version",
                "string",
                Some("$AZURE_OPENAI_API_VERSION or \"2024-10-21\""),
                "Azure API version.",
            ),
            doc(
                "timeout_s",
                "float",
                Some("60"),
                "Seconds one HTTP request may take; a slower one is retried.",
            ),
            doc(
                "concurrency",
                "integer",
                Some("8"),
                "Most requests in flight at once.",
            ),
            doc(
                "rpm",
                "integer",
                None,
                "Requests per minute: requests are paced evenly so a run at its quota meets no 429.",
            ),
            doc(
                "tpm",
                "integer",
                None,
                "Tokens per minute (prompt plus requested completion), paced like `rpm`.",
            ),
            doc(
                "max_retries",
                "integer",
                Some("5"),
                "Transport retries of one request: 429, 5xx, timeouts, connection errors. 401/403 are never retried.",
            ),
            doc(
                "max_attempts",
                "integer",
                Some("3"),
                "Answers per unit: a reply that is not valid JSON, breaks the schema or does not match the signature is asked again with the error, this many times in all.",
            ),
            doc(
                "retry_backoff_ms",
                "integer",
                Some("500"),
                "First retry delay; doubles per retry, with jitter. Retry-After and x-ratelimit-reset-* take precedence.",
            ),
            doc(
                "max_backoff_s",
                "float",
                Some("60"),
                "Longest wait between two attempts (caps Retry-After too).",
            ),
            doc(
                "temperature",
                "float",
                None,
                "Sampling temperature; unset: the server's default.",
            ),
            doc(
                "batch_size",
                "integer",
                Some("1"),
                "Units of one file documented in one request.",
            ),
            doc(
                "prompt_file",
                "string",
                None,
                "TOML file with `system`, `user` and `unit` templates replacing the built-in prompt; its hash is part of the prompt version.",
            ),
            doc(
                "structured_output",
                "string",
                Some("\"auto\""),
                "`auto`, `json_schema`, `tools`, `json_object` or `text`; `auto` steps down when the server rejects a mode.",
            ),
            doc(
                "context_window",
                "integer",
                None,
                "Context window in tokens (default: from the model table).",
            ),
            doc(
                "max_completion_tokens",
                "integer",
                None,
                "Most completion tokens per request (default: from the model table).",
            ),
            doc(
                "prices",
                "table",
                None,
                "`[model.prices.\"NAME\"] input_per_mtok = 0.15, output_per_mtok = 0.6`: US dollars per million tokens, over the built-in table.",
            ),
        ]
    }
}

/// `[budget]`: caps on what a run may spend.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetSection {
    /// Most estimated (then actual) cost of a run, in US dollars.
    pub max_cost_usd: Option<f64>,
    /// Most model requests of a run.
    pub max_requests: Option<u64>,
    /// Most prompt tokens of one unit's request; longer units are shortened.
    pub max_prompt_tokens: Option<u64>,
}

impl BudgetSection {
    /// Every key, for `docpipe stages` and the README.
    pub fn describe() -> Vec<OptionDoc> {
        vec![
            doc(
                "max_cost_usd",
                "float",
                None,
                "Most cost of a run in US dollars: units past it end skipped with the reason.",
            ),
            doc(
                "max_requests",
                "integer",
                None,
                "Most model requests of a run: units past it end skipped with the reason.",
            ),
            doc(
                "max_prompt_tokens",
                "integer",
                None,
                "Most prompt tokens per unit; longer units are shortened (signature, start and end of the body kept). Default: the context window minus the completion tokens.",
            ),
        ]
    }
}

fn doc(
    name: &'static str,
    ty: &'static str,
    default: Option<&'static str>,
    text: &'static str,
) -> OptionDoc {
    OptionDoc {
        name,
        ty,
        default,
        doc: text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml::from_str::<ModelSection>("provider = \"openai\"\nconcurency = 3\n");
        assert!(err.is_err());
    }

    #[test]
    fn defaults_and_prices_read() {
        let s: ModelSection = toml::from_str(
            "provider = \"openai\"\ntimeout_s = 5\n[prices.\"my-model\"]\ninput_per_mtok = 1.0\noutput_per_mtok = 2\n",
        )
        .expect("valid section");
        assert_eq!(s.concurrency, 8);
        assert_eq!(s.max_attempts, 3);
        assert_eq!(s.timeout(), Duration::from_secs(5));
        assert_eq!(s.prices["my-model"].output_per_mtok, 2.0);
        assert_eq!(s.structured_output, StructuredOutput::Auto);
    }

    #[test]
    fn every_field_is_described() {
        let described: Vec<&str> = ModelSection::describe().iter().map(|d| d.name).collect();
        let value = serde_json::to_value(ModelSection::default()).expect("serializes");
        let fields: Vec<String> = value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for f in &fields {
            assert!(described.contains(&f.as_str()), "`{f}` has no OptionDoc");
        }
        assert_eq!(fields.len(), described.len());
    }
}
