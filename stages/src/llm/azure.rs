//! Azure OpenAI: the chat-completions protocol at
//! `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V`
//! with the key in the `api-key` header. `AZURE_OPENAI_ENDPOINT`,
//! `AZURE_OPENAI_DEPLOYMENT` and `AZURE_OPENAI_API_VERSION` fill what `[model]`
//! leaves out; the key comes from `AZURE_OPENAI_API_KEY` (or `api_key_env`).

use std::sync::Arc;

use docpipe_core::chat::Model;
use docpipe_core::registry::{BuildContext, BuildError};

use super::openai::{ChatModel, Endpoint};
use super::secrets::Secret;
use super::section::ModelSection;

/// Variable holding the Azure key when `api_key_env` is not set.
pub const DEFAULT_KEY_ENV: &str = "AZURE_OPENAI_API_KEY";
/// API version used when neither the file nor the environment names one.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// Builds the `azure` provider from `[model]` and the environment.
pub fn build(ctx: &BuildContext<'_>) -> Result<Arc<dyn Model>, BuildError> {
    let section: ModelSection = ctx.section("model")?;
    let pick = |configured: &Option<String>, var: &str| {
        configured
            .clone()
            .or_else(|| ctx.env(var))
            .filter(|v| !v.trim().is_empty())
    };
    let endpoint = pick(&section.endpoint, "AZURE_OPENAI_ENDPOINT");
    let deployment = pick(&section.deployment, "AZURE_OPENAI_DEPLOYMENT");
    let api_version = pick(&section.api_version, "AZURE_OPENAI_API_VERSION")
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    let key_env = section
        .api_key_env
        .clone()
        .unwrap_or_else(|| DEFAULT_KEY_ENV.to_string());
    let key = ctx
        .env(&key_env)
        .filter(|k| !k.trim().is_empty())
        .map(|k| Secret::new(k.trim()));
    if ctx.validate_only {
        // Check what can be checked without the secrets a run needs.
        if let Some(e) = &endpoint
            && !(e.starts_with("https://") || e.starts_with("http://"))
        {
            return Err(bad_endpoint(e));
        }
        return Ok(Arc::new(ValidateOnly));
    }
    let endpoint = endpoint.ok_or_else(|| {
        BuildError::section("model", "endpoint", "no Azure OpenAI endpoint: `[model] endpoint` is not set and neither is `AZURE_OPENAI_ENDPOINT`")
            .with_help("set `[model] endpoint = \"https://NAME.openai.azure.com\"` or the variable `AZURE_OPENAI_ENDPOINT`")
    })?;
    if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
        return Err(bad_endpoint(&endpoint));
    }
    let deployment = deployment.ok_or_else(|| {
        BuildError::section("model", "deployment", "no Azure OpenAI deployment: `[model] deployment` is not set and neither is `AZURE_OPENAI_DEPLOYMENT`")
            .with_help("set `[model] deployment` to the deployment name shown in the Azure portal")
    })?;
    let key = key.ok_or_else(|| {
        BuildError::section(
            "model",
            "api_key_env",
            format!("no API key for Azure OpenAI: `{key_env}` is not set"),
        )
        .with_help(format!(
            "set `{key_env}` in the environment or in `.env` next to pipeline.toml"
        ))
    })?;
    let url = format!(
        "{}/openai/deployments/{}/chat/completions?api-version={}",
        endpoint.trim_end_matches('/'),
        encode_path(&deployment),
        encode_path(&api_version)
    );
    let id = format!("azure:{deployment}");
    Ok(Arc::new(ChatModel::new(
        id,
        Endpoint::Azure { url, key },
        &section,
    )?))
}

fn bad_endpoint(e: &str) -> BuildError {
    BuildError::section(
        "model",
        "endpoint",
        format!("the Azure endpoint must be an http(s) URL, found `{e}`"),
    )
    .with_help("write it as `https://NAME.openai.azure.com`")
}

/// Percent-encodes what may not appear in a path segment or query value.
fn encode_path(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The model `docpipe validate` builds: it checks configuration only and is never called.
struct ValidateOnly;

#[async_trait::async_trait]
impl Model for ValidateOnly {
    fn id(&self) -> String {
        "azure".into()
    }

    async fn complete(
        &self,
        _request: docpipe_core::chat::ChatRequest,
    ) -> Result<docpipe_core::chat::ChatResponse, docpipe_core::chat::ModelError> {
        Err(docpipe_core::chat::ModelError::Other(
            "the configuration was only validated; no model was built".into(),
        ))
    }
}
