//! Token counts, prices and the `token-budget` stage.
//!
//! `token-budget` sits before `llm-generate`. For each unit it counts the
//! prompt's tokens with the model's tokenizer, shortens a source that would
//! not fit the context window (signature, start and end of the body kept),
//! estimates the completion and the cost, and applies the `[budget]` caps:
//! a unit that would take the run past `max_cost_usd` or `max_requests` ends
//! `Skipped` with the reason. With `--estimate` every unit ends skipped
//! ("estimate only"), no model is called, and the totals are printed.

pub mod prices;
pub mod tokens;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use docpipe_core::executor::Emitter;
use docpipe_core::model::{CodeUnit, Envelope, Item, ItemKind, UnitKind, UnitState};
use docpipe_core::printable;
use docpipe_core::registry::{
    BuildContext, BuildError, DefaultConcurrency, NoOptions, PortDoc, Registry, StageRole,
    StageSpec,
};
use docpipe_core::stage::{BuiltStage, StageContext, StageError, Transform};
use serde::Serialize;
use serde_json::json;

use crate::generate::prompt::{PromptTemplates, PromptUnit};
use crate::generate::{
    COMPLETION_TOKENS_PER_UNIT, PROMPT_SOURCE_KEY, prompt_templates, style_name,
};
use crate::llm::section::{BudgetSection, ModelSection};
use crate::python::signature::params_to_document;
use crate::reply::schema;
use prices::{Price, PriceTable};
use tokens::{ModelLimits, TokenCounter, shorten_source};

/// Key of `Envelope::extra` with the unit's estimate.
pub const BUDGET_KEY: &str = "budget";

pub(crate) fn register(registry: &mut Registry) {
    registry.add_section::<BudgetSection>(
        "budget",
        "Caps on what a run may spend on the model: cost, requests, prompt tokens per unit.",
        BudgetSection::describe(),
    );
    registry.add_stage::<NoOptions, _>(
        StageSpec {
            type_name: "token-budget",
            role: StageRole::Transform,
            summary: "Counts prompt tokens, shortens units that do not fit, estimates cost, applies `[budget]` caps and `--estimate`",
            input: Some(ItemKind::Unit),
            ports: vec![PortDoc {
                name: "out",
                kind: ItemKind::Unit,
                doc: "every unit: pending with its estimate, or skipped (estimate only, or past a cap)",
            }],
            default_concurrency: DefaultConcurrency::Jobs,
            sections: vec!["model", "budget", "style"],
        },
        |_options, ctx| Ok(BuiltStage::Transform(Arc::new(BudgetStage::build(ctx)?))),
    )
    .reads(&[docpipe_core::stage::RunFlag::Estimate]);
}

/// Running totals of the units let through (or, with `--estimate`, counted).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Units counted.
    pub units: u64,
    /// Requests they take (units over the batch size, per file rounding aside).
    pub requests: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Estimated completion tokens.
    pub completion_tokens: u64,
    /// Estimated cost in US dollars.
    pub cost_usd: f64,
    /// Units whose source was shortened to fit.
    pub shortened: u64,
    /// Units past a cap.
    pub over_cap: u64,
}

/// The `token-budget` stage.
pub struct BudgetStage {
    counter: TokenCounter,
    limits: ModelLimits,
    model_name: String,
    price: Option<Price>,
    prompts: PromptTemplates,
    style: String,
    batch_size: u64,
    /// Tokens every request pays besides its units: system message and
    /// schema. Counted on first use, so validating never loads the tokenizer.
    fixed_tokens: std::sync::OnceLock<u64>,
    budget: BudgetSection,
    totals: Mutex<Totals>,
    /// The provider runs offline (`template`): no tokens to pay for.
    offline: bool,
}

impl BudgetStage {
    /// Builds the stage from `[model]`, `[budget]` and `[style]`.
    pub fn build(ctx: &BuildContext<'_>) -> Result<BudgetStage, BuildError> {
        let section: ModelSection = ctx.section("model")?;
        let budget: BudgetSection = ctx.section("budget")?;
        if let Some(c) = budget.max_cost_usd
            && !(c.is_finite() && c >= 0.0)
        {
            return Err(BuildError::new(format!(
                "`[budget] max_cost_usd` must be a positive number, found {c}"
            )));
        }
        let counter = TokenCounter::for_model(&section.name);
        let prompts = prompt_templates(&section, ctx)?;
        let style = style_name(ctx);
        Ok(BudgetStage {
            limits: ModelLimits::of(&section),
            price: PriceTable::new(&section.prices).price(&section.name),
            model_name: section.name.clone(),
            batch_size: section.batch_size() as u64,
            counter,
            prompts,
            style,
            fixed_tokens: std::sync::OnceLock::new(),
            budget,
            totals: Mutex::new(Totals::default()),
            offline: section.provider == crate::template::PROVIDER,
        })
    }

    /// The totals so far.
    pub fn totals(&self) -> Totals {
        self.totals.lock().map(|t| t.clone()).unwrap_or_default()
    }

    fn fixed_tokens(&self) -> u64 {
        *self.fixed_tokens.get_or_init(|| {
            let system = self.prompts.render(&[], &self.style, None);
            self.counter
                .count_chat(system.iter().take(1).map(|m| m.content.as_str()))
                + self.counter.count(&schema().to_string())
        })
    }

    /// Most prompt tokens of one unit's request.
    fn prompt_room(&self) -> u64 {
        let room = self.limits.prompt_room(
            self.limits
                .max_completion_tokens
                .min(4 * COMPLETION_TOKENS_PER_UNIT),
        );
        self.budget.max_prompt_tokens.map_or(room, |m| m.min(room))
    }

    fn unit_tokens(&self, unit: &CodeUnit, source: &str) -> u64 {
        let messages = self
            .prompts
            .render(&[PromptUnit { unit, source }], &self.style, None);
        // The user message only: the system message and schema are shared by a batch.
        self.counter
            .count_chat(messages.iter().skip(1).map(|m| m.content.as_str()))
    }

    /// Counts, shortens and prices `env`; returns its prompt tokens, completion tokens and cost.
    ///
    /// The offline `template` model reads no prompt, so there is nothing to
    /// count, fit into a context window or price: its units count 0 tokens
    /// (the tokenizer took a fifth of the CPU of a template `generate`), and
    /// only `max_requests` applies to them.
    fn estimate(&self, env: &mut Envelope) -> (u64, u64, f64, bool) {
        if self.offline {
            return (0, 0, 0.0, false);
        }
        let share = self.fixed_tokens().div_ceil(self.batch_size);
        let mut prompt = self.unit_tokens(&env.unit, &env.unit.source) + share;
        let room = self.prompt_room();
        let mut shortened = false;
        if prompt > room {
            let overhead = prompt.saturating_sub(self.counter.count(&env.unit.source));
            let source = shorten_source(
                &self.counter,
                &env.unit.source,
                &env.unit.signature,
                room.saturating_sub(overhead),
            );
            prompt = self.unit_tokens(&env.unit, &source) + share;
            env.extra.insert(PROMPT_SOURCE_KEY.into(), json!(source));
            shortened = true;
        }
        let completion = estimate_completion(&env.unit).min(self.limits.max_completion_tokens);
        let cost = match self.price {
            Some(p) if !self.offline => p.cost(prompt, completion),
            _ => 0.0,
        };
        (prompt, completion, cost, shortened)
    }
}

/// A list price: `$0.15`, `$0.60`, `$0.075`.
fn price_per_mtok(usd: f64) -> String {
    if (usd * 100.0).fract().abs() < 1e-9 {
        format!("${usd:.2}")
    } else {
        format!("${usd}")
    }
}

/// Completion tokens a docstring of `unit` takes, as JSON: a rough measure
/// from its parts, for estimates and caps only.
pub fn estimate_completion(unit: &CodeUnit) -> u64 {
    let mut tokens = 90;
    if matches!(unit.kind, UnitKind::Function | UnitKind::Method) {
        tokens += 35 * params_to_document(unit).len() as u64;
        tokens += 30 * unit.raises.len() as u64;
        if unit.returns_value || unit.returns.is_some() {
            tokens += 30;
        }
        if unit.yields {
            tokens += 30;
        }
    } else {
        tokens += 40;
    }
    tokens
}

#[async_trait]
impl Transform for BudgetStage {
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let Item::Unit(mut env) = item else {
            return Err(StageError::fatal(
                "token-budget takes units; put it after the analyzer",
            ));
        };
        if env.state != UnitState::Pending {
            return out.send(Item::Unit(env)).await;
        }
        let (prompt, completion, cost, shortened) = self.estimate(&mut env);
        env.extra.insert(
            BUDGET_KEY.into(),
            json!({"prompt_tokens": prompt, "completion_tokens": completion, "cost_usd": cost}),
        );
        let over = {
            let mut t = self.totals.lock().unwrap_or_else(|p| p.into_inner());
            let units = t.units + 1;
            let requests = units.div_ceil(self.batch_size);
            let over = if self.budget.max_requests.is_some_and(|max| requests > max) {
                Some(format!(
                    "budget: past `[budget] max_requests` = {}",
                    self.budget.max_requests.unwrap_or_default()
                ))
            } else if self
                .budget
                .max_cost_usd
                .is_some_and(|max| t.cost_usd + cost > max)
            {
                Some(format!(
                    "budget: estimated cost would pass `[budget] max_cost_usd` = {}",
                    self.budget.max_cost_usd.unwrap_or_default()
                ))
            } else {
                None
            };
            if over.is_some() {
                t.over_cap += 1;
            } else {
                t.units = units;
                t.requests = requests;
                t.prompt_tokens += prompt;
                t.completion_tokens += completion;
                t.cost_usd += cost;
                t.shortened += u64::from(shortened);
            }
            over
        };
        if ctx.run.estimate {
            env.skip("estimate only");
        } else if let Some(reason) = over {
            env.skip(reason);
        }
        out.send(Item::Unit(env)).await
    }

    async fn finish(&self, ctx: &StageContext, _out: &Emitter) -> Result<(), StageError> {
        let t = self.totals();
        if ctx.run.estimate {
            docpipe_core::console::exclusive(|| println!("{}", self.render_estimate(&t)));
        } else {
            tracing::info!(
                units = t.units,
                prompt_tokens = t.prompt_tokens,
                cost = %self.cost_words(t.cost_usd),
                skipped = t.over_cap,
                "token budget"
            );
        }
        Ok(())
    }
}

impl BudgetStage {
    /// The estimated cost in words: an amount in cents, nothing for an
    /// offline model, or what to configure when no price is known.
    fn cost_words(&self, usd: f64) -> String {
        match (&self.price, self.offline) {
            (_, true) => "nothing: the `template` model runs offline".into(),
            (Some(_), false) => printable::usd(usd),
            (None, false) => format!(
                "unknown: no price is known for `{0}`; add `[model.prices.\"{0}\"]` with \
                 `input_per_mtok` and `output_per_mtok` (US dollars per million tokens) to count it",
                self.model_name
            ),
        }
    }

    /// The `--estimate` summary.
    pub fn render_estimate(&self, t: &Totals) -> String {
        let mut text = if self.offline {
            format!(
                "estimate for the offline `template` model:\n  units:              {}\n  requests:           {} (answered on this machine)\n",
                t.units, t.requests
            )
        } else {
            let price = match &self.price {
                Some(p) => format!(
                    " ({} / {} per million prompt / completion tokens)",
                    price_per_mtok(p.input_per_mtok),
                    price_per_mtok(p.output_per_mtok)
                ),
                None => String::new(),
            };
            format!(
                "estimate for model `{}`{price}:\n  units:              {}\n  requests:           {}\n  prompt tokens:      {}\n  completion tokens:  {} (estimated)\n",
                self.model_name, t.units, t.requests, t.prompt_tokens, t.completion_tokens
            )
        };
        text.push_str(&format!(
            "  cost:               {}\n",
            self.cost_words(t.cost_usd)
        ));
        if t.shortened > 0 {
            text.push_str(&format!(
                "  shortened to fit:   {}\n",
                printable::count(t.shortened, "unit", "units")
            ));
        }
        if t.over_cap > 0 {
            text.push_str(&format!(
                "  past [budget] caps: {} would be skipped\n",
                printable::count(t.over_cap, "unit", "units")
            ));
        }
        text.push_str("no model was called (--estimate)");
        text
    }
}
