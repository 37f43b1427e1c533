//! The `Model` swap point: a chat-completion backend (template, OpenAI, Azure, plugin).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::model::{CodeUnit, TokenUsage};

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Text.
    pub content: String,
}

impl ChatMessage {
    /// A message with `role` and `content`.
    pub fn new(role: &str, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// A request for one completion.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ChatRequest {
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// JSON schema the answer must follow, when structured output is wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<serde_json::Value>,
    /// Name of the schema (for `response_format.json_schema.name` and tool names).
    #[serde(default)]
    pub schema_name: String,
    /// Most completion tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Prompt tokens as counted before sending (for tokens-per-minute limits).
    #[serde(default)]
    pub estimated_prompt_tokens: u64,
    /// The units the request documents, for backends that work from structure
    /// rather than text (the offline template model).
    #[serde(default)]
    pub units: Vec<Arc<CodeUnit>>,
}

/// Why a completion stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model finished.
    #[default]
    Stop,
    /// The completion hit the token limit: the answer is truncated.
    Length,
    /// The model called a tool.
    ToolCalls,
    /// The provider's content filter stopped it.
    ContentFilter,
    /// Anything else the server said.
    Other(String),
}

/// One completion.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ChatResponse {
    /// Message content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Arguments of the first tool call, when the server answered with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_arguments: Option<String>,
    /// Why it stopped.
    #[serde(default)]
    pub finish_reason: FinishReason,
    /// Tokens the server counted.
    #[serde(default)]
    pub usage: TokenUsage,
    /// Transport retries this answer took.
    #[serde(default)]
    pub retries: u32,
}

/// A failed completion, after the backend's own retries.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    /// The server refused the credentials: no point in retrying.
    #[error("authentication failed ({status}): {message}")]
    Auth {
        /// HTTP status.
        status: u16,
        /// Server message, secrets removed.
        message: String,
    },
    /// The server kept failing or rate limiting past the retry budget.
    #[error("{message}")]
    Exhausted {
        /// What the last attempt said.
        message: String,
        /// Transport retries spent before giving up (requests sent = retries + 1).
        retries: u32,
    },
    /// The request itself is wrong (400-class other than 401/403/429).
    #[error("request rejected ({status}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Server message.
        message: String,
    },
    /// The run was interrupted while waiting.
    #[error("interrupted")]
    Cancelled,
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl ModelError {
    /// Transport retries the failed call spent (zero unless it was exhausted).
    pub fn retries(&self) -> u32 {
        match self {
            ModelError::Exhausted { retries, .. } => *retries,
            _ => 0,
        }
    }
}

/// A chat-completion backend. Implementations handle their own transport
/// retries, rate limits and timeouts; the caller sees one answer or one error.
#[async_trait]
pub trait Model: Send + Sync {
    /// Name for logs and cache keys (`openai:gpt-4o-mini`, `template`).
    fn id(&self) -> String;

    /// Whether the model reads [`ChatRequest::messages`]. One that answers
    /// from [`ChatRequest::units`] alone (the offline `template` model) says
    /// no, and is sent requests without messages: rendering and counting
    /// the prompt of every unit would cost more than answering.
    fn reads_prompt(&self) -> bool {
        true
    }

    /// One completion.
    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse, ModelError>;
}
