//! The OpenAI chat-completions protocol, spoken to OpenAI, to any compatible
//! server (Ollama, vLLM, LM Studio, llama.cpp) and, with another URL and
//! header, to Azure OpenAI ([`super::azure`]).
//!
//! Structured output: the request asks for JSON in the configured mode. In
//! `auto`, a server that rejects a mode (a 4xx naming `response_format`,
//! `json_schema`, tools, or saying "unsupported") is asked again at once in
//! the next mode: `json_schema` (strict) -> `tools` -> `json_object` ->
//! `text` with a fenced block. The mode that worked is remembered for the
//! model instance, so later requests go straight to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use async_trait::async_trait;
use docpipe_core::chat::{ChatMessage, ChatRequest, ChatResponse, FinishReason, Model, ModelError};
use docpipe_core::model::TokenUsage;
use docpipe_core::registry::{BuildContext, BuildError};
use serde_json::{Value, json};

use super::ratelimit::RateLimiter;
use super::secrets::Secret;
use super::section::{ModelSection, StructuredOutput};
use super::transport::{HeaderValue, HttpTransport, RetryPolicy};

/// Base URL of OpenAI's API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Variable holding the OpenAI key when `api_key_env` is not set.
pub const DEFAULT_KEY_ENV: &str = "OPENAI_API_KEY";

/// The modes `auto` walks through, in order.
const MODES: [StructuredOutput; 4] = [
    StructuredOutput::JsonSchema,
    StructuredOutput::Tools,
    StructuredOutput::JsonObject,
    StructuredOutput::Text,
];

/// Where requests go and how they authenticate.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// `POST {base_url}/chat/completions`, `Authorization: Bearer KEY` when a key is set.
    OpenAi {
        /// Full URL of chat completions.
        url: String,
        /// The key; `None` sends no Authorization header (local servers).
        key: Option<Secret>,
        /// Model name sent as `model`.
        model: String,
    },
    /// `POST {endpoint}/openai/deployments/{d}/chat/completions?api-version=V`, `api-key: KEY`.
    Azure {
        /// Full URL with the API version.
        url: String,
        /// The key.
        key: Secret,
    },
}

/// A chat model reached over HTTP (OpenAI or Azure protocol).
#[derive(Debug)]
pub struct ChatModel {
    id: String,
    endpoint: Endpoint,
    transport: HttpTransport,
    configured_mode: StructuredOutput,
    /// Index into [`MODES`] of the mode that works (auto only).
    mode: AtomicU8,
    /// Send `max_completion_tokens` instead of `max_tokens` (newer OpenAI models).
    completion_tokens_param: AtomicBool,
}

impl ChatModel {
    /// A model for `endpoint` with the limits of `section`.
    pub fn new(
        id: String,
        endpoint: Endpoint,
        section: &ModelSection,
    ) -> Result<ChatModel, BuildError> {
        let secrets = match &endpoint {
            Endpoint::OpenAi { key, .. } => key.iter().cloned().collect(),
            Endpoint::Azure { key, .. } => vec![key.clone()],
        };
        let policy = RetryPolicy {
            max_retries: section.max_retries,
            initial_backoff: std::time::Duration::from_millis(section.retry_backoff_ms),
            max_backoff: std::time::Duration::from_secs_f64(
                section.max_backoff_s.clamp(0.0, 86_400.0),
            ),
            timeout: section.timeout(),
        };
        let limiter = Arc::new(RateLimiter::new(
            section.concurrency(),
            section.rpm,
            section.tpm,
        ));
        let transport = HttpTransport::new(policy, limiter, secrets).map_err(BuildError::new)?;
        let reasoning = ["o1", "o3", "o4", "gpt-5"]
            .iter()
            .any(|p| section.name.starts_with(p));
        Ok(ChatModel {
            id,
            endpoint,
            transport,
            configured_mode: section.structured_output,
            mode: AtomicU8::new(0),
            completion_tokens_param: AtomicBool::new(reasoning),
        })
    }

    /// The structured output mode the next request uses.
    pub fn current_mode(&self) -> StructuredOutput {
        match self.configured_mode {
            StructuredOutput::Auto => {
                MODES[usize::from(self.mode.load(Ordering::Relaxed)).min(MODES.len() - 1)]
            }
            m => m,
        }
    }

    fn body(&self, request: &ChatRequest, mode: StructuredOutput) -> Value {
        let mut messages: Vec<ChatMessage> = request.messages.clone();
        let schema = request.schema.as_ref();
        let name = if request.schema_name.is_empty() {
            "answer"
        } else {
            request.schema_name.as_str()
        };
        let mut body = json!({});
        if let Some(schema) = schema {
            match mode {
                StructuredOutput::JsonSchema | StructuredOutput::Auto => {
                    body["response_format"] = json!({
                        "type": "json_schema",
                        "json_schema": {"name": name, "strict": true, "schema": schema}
                    });
                }
                StructuredOutput::Tools => {
                    body["tools"] = json!([{
                        "type": "function",
                        "function": {
                            "name": name,
                            "description": "Record the answer.",
                            "strict": true,
                            "parameters": schema
                        }
                    }]);
                    body["tool_choice"] = json!({"type": "function", "function": {"name": name}});
                }
                StructuredOutput::JsonObject => {
                    body["response_format"] = json!({"type": "json_object"});
                    messages.push(ChatMessage::new(
                        "system",
                        format!(
                            "Answer with one JSON object that follows this JSON schema:\n{schema}"
                        ),
                    ));
                }
                StructuredOutput::Text => {
                    messages.push(ChatMessage::new(
                        "system",
                        format!(
                            "Answer with one JSON object in a fenced ```json block, and nothing else. It follows this JSON schema:\n{schema}"
                        ),
                    ));
                }
            }
        }
        body["messages"] = serde_json::to_value(&messages).unwrap_or(Value::Null);
        if let Endpoint::OpenAi { model, .. } = &self.endpoint {
            body["model"] = json!(model);
        }
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(n) = request.max_tokens {
            let key = if self.completion_tokens_param.load(Ordering::Relaxed) {
                "max_completion_tokens"
            } else {
                "max_tokens"
            };
            body[key] = json!(n);
        }
        body
    }

    fn url_and_headers(&self) -> (&str, Vec<(&'static str, HeaderValue)>) {
        match &self.endpoint {
            Endpoint::OpenAi { url, key, .. } => {
                let headers = key
                    .iter()
                    .map(|k| {
                        (
                            "authorization",
                            HeaderValue::Secret(Secret::new(format!("Bearer {}", k.expose()))),
                        )
                    })
                    .collect();
                (url, headers)
            }
            Endpoint::Azure { url, key } => {
                (url, vec![("api-key", HeaderValue::Secret(key.clone()))])
            }
        }
    }

    /// After a 4xx: adapt the request when the server names what it does not
    /// support; `true` when the request should be sent again.
    fn adapt(&self, error: &ModelError, mode: StructuredOutput) -> bool {
        let ModelError::Rejected { status, message } = error else {
            return false;
        };
        if !matches!(status, 400 | 404 | 415 | 422 | 501) {
            return false;
        }
        let m = message.to_lowercase();
        if m.contains("max_tokens") && m.contains("max_completion_tokens") {
            let was = self
                .completion_tokens_param
                .fetch_xor(true, Ordering::Relaxed);
            tracing::info!(model = %self.id, "server wants {}", if was { "max_tokens" } else { "max_completion_tokens" });
            return true;
        }
        if self.configured_mode != StructuredOutput::Auto || mode == StructuredOutput::Text {
            return false;
        }
        let about_mode = [
            "response_format",
            "json_schema",
            "tool",
            "function",
            "not support",
            "unsupported",
            "unrecognized",
            "unknown",
            "strict",
            "invalid schema",
        ]
        .iter()
        .any(|w| m.contains(w));
        if !about_mode {
            return false;
        }
        let index = MODES.iter().position(|x| *x == mode).unwrap_or(0);
        // Step down only from the mode that failed (another request may have stepped already).
        let _ = self.mode.compare_exchange(
            index as u8,
            (index + 1) as u8,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        tracing::info!(model = %self.id, from = mode.as_str(), to = self.current_mode().as_str(), "structured output mode unsupported, stepping down");
        true
    }
}

#[async_trait]
impl Model for ChatModel {
    fn id(&self) -> String {
        self.id.clone()
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse, ModelError> {
        let tokens = request.estimated_prompt_tokens + u64::from(request.max_tokens.unwrap_or(0));
        let mut retries = 0;
        // Each adaptation changes the request; there are at most 3 mode steps and one parameter flip.
        for _ in 0..6 {
            let mode = self.current_mode();
            let body = self.body(&request, mode);
            let (url, headers) = self.url_and_headers();
            match self.transport.post_json(url, &headers, &body, tokens).await {
                Ok(reply) => {
                    let mut response = parse_response(&reply.body)?;
                    response.retries = retries + reply.retries;
                    return Ok(response);
                }
                Err(e) if self.adapt(&e, mode) => {
                    retries += 1;
                }
                Err(e) => return Err(e),
            }
        }
        Err(ModelError::Other(format!(
            "model `{}` rejected every way of asking for JSON; set `[model] structured_output = \"text\"`",
            self.id
        )))
    }
}

/// The parts of a chat-completions answer docpipe uses.
pub fn parse_response(body: &Value) -> Result<ChatResponse, ModelError> {
    let choice = body.pointer("/choices/0").ok_or_else(|| {
        ModelError::Other(
            "the server's answer has no `choices`: is `base_url` a chat-completions API?".into(),
        )
    })?;
    let message = choice.get("message").cloned().unwrap_or(Value::Null);
    let content = message
        .get("content")
        .and_then(Value::as_str)
        .map(str::to_string);
    let tool_arguments = message
        .pointer("/tool_calls/0/function/arguments")
        .and_then(Value::as_str)
        .map(str::to_string);
    let finish_reason = match choice.get("finish_reason").and_then(Value::as_str) {
        None | Some("stop") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("tool_calls") | Some("function_call") => FinishReason::ToolCalls,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_string()),
    };
    let usage = TokenUsage {
        prompt: body
            .pointer("/usage/prompt_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        completion: body
            .pointer("/usage/completion_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    };
    Ok(ChatResponse {
        content,
        tool_arguments,
        finish_reason,
        usage,
        retries: 0,
    })
}

/// Builds the `openai` provider from `[model]` and the environment.
pub fn build(ctx: &BuildContext<'_>) -> Result<Arc<dyn Model>, BuildError> {
    let section: ModelSection = ctx.section("model")?;
    let base = section
        .base_url
        .clone()
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    let base = base.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(BuildError::section(
            "model",
            "base_url",
            format!("must be an http(s) URL, found `{base}`"),
        )
        .with_help(
            "write the URL up to and including `/v1`, such as `http://127.0.0.1:11434/v1`",
        ));
    }
    let key_env = section
        .api_key_env
        .clone()
        .unwrap_or_else(|| DEFAULT_KEY_ENV.to_string());
    let key = ctx
        .env(&key_env)
        .filter(|k| !k.trim().is_empty())
        .map(|k| Secret::new(k.trim()));
    // A local server may need no key; OpenAI itself, or a variable the file names, must be set.
    let key_required = base == DEFAULT_BASE_URL || section.api_key_env.is_some();
    if key.is_none() && !ctx.validate_only && key_required {
        return Err(BuildError::section(
            "model",
            "api_key_env",
            format!("no API key for OpenAI: `{key_env}` is not set"),
        )
            .with_help(format!(
                "set `{key_env}` in the environment or in `.env` next to pipeline.toml, or point `[model] api_key_env` at the variable that holds it"
            )));
    }
    let endpoint = Endpoint::OpenAi {
        url: format!("{base}/chat/completions"),
        key,
        model: section.name.clone(),
    };
    Ok(Arc::new(ChatModel::new(
        format!("openai:{}", section.name),
        endpoint,
        &section,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_with_a_tool_call_is_read() {
        let body = json!({
            "choices": [{"message": {"content": null, "tool_calls": [{"function": {"name": "docstrings", "arguments": "{\"docstrings\":[]}"}}]}, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 4}
        });
        let r = parse_response(&body).expect("valid answer");
        assert_eq!(r.tool_arguments.as_deref(), Some("{\"docstrings\":[]}"));
        assert_eq!(r.finish_reason, FinishReason::ToolCalls);
        assert_eq!(
            r.usage,
            TokenUsage {
                prompt: 10,
                completion: 4
            }
        );
        assert!(parse_response(&json!({"object": "list"})).is_err());
    }
}
