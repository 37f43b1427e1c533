//! Prices per model, in US dollars per million tokens. The built-in table
//! holds list prices of OpenAI's models (standard tier, 2025); `[model.prices]`
//! adds models or overrides these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What one million tokens cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// US dollars per million prompt tokens.
    pub input_per_mtok: f64,
    /// US dollars per million completion tokens.
    pub output_per_mtok: f64,
}

impl Price {
    /// Cost in US dollars of `prompt` and `completion` tokens.
    pub fn cost(&self, prompt: u64, completion: u64) -> f64 {
        (prompt as f64 * self.input_per_mtok + completion as f64 * self.output_per_mtok) / 1e6
    }
}

/// The built-in prices, by model name prefix.
pub const DEFAULT_PRICES: &[(&str, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-5-nano", 0.05, 0.40),
    ("gpt-5-mini", 0.25, 2.00),
    ("gpt-5", 1.25, 10.00),
    ("o4-mini", 1.10, 4.40),
    ("o3-mini", 1.10, 4.40),
    ("o3", 2.00, 8.00),
    ("gpt-4-turbo", 10.00, 30.00),
    ("gpt-3.5-turbo", 0.50, 1.50),
    ("gpt-35-turbo", 0.50, 1.50),
];

/// The price table of a run: the defaults with the configuration's entries over them.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    prices: BTreeMap<String, Price>,
}

impl PriceTable {
    /// The defaults merged with `configured`.
    pub fn new(configured: &BTreeMap<String, Price>) -> PriceTable {
        let mut prices: BTreeMap<String, Price> = DEFAULT_PRICES
            .iter()
            .map(|(name, input, output)| {
                (
                    name.to_string(),
                    Price {
                        input_per_mtok: *input,
                        output_per_mtok: *output,
                    },
                )
            })
            .collect();
        prices.extend(configured.iter().map(|(k, v)| (k.clone(), *v)));
        PriceTable { prices }
    }

    /// The price of `model`: an exact entry, else the longest entry that is a
    /// prefix of the name (`gpt-4o-mini-2024-07-18` costs what `gpt-4o-mini`
    /// costs). `None`: no price known, cost counts as zero.
    pub fn price(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.prices.get(model) {
            return Some(*p);
        }
        self.prices
            .iter()
            .filter(|(name, _)| model.starts_with(name.as_str()))
            .max_by_key(|(name, _)| name.len())
            .map(|(_, p)| *p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_wins_and_configuration_overrides() {
        let table = PriceTable::new(&BTreeMap::new());
        let mini = table.price("gpt-4o-mini-2024-07-18").expect("known");
        assert_eq!(mini.input_per_mtok, 0.15);
        assert_eq!(
            table.price("gpt-4o-2024-08-06").map(|p| p.input_per_mtok),
            Some(2.5)
        );
        assert!(table.price("llama3.1:8b").is_none());
        let mut configured = BTreeMap::new();
        configured.insert(
            "llama3.1:8b".to_string(),
            Price {
                input_per_mtok: 0.0,
                output_per_mtok: 0.0,
            },
        );
        configured.insert(
            "gpt-4o-mini".to_string(),
            Price {
                input_per_mtok: 1.0,
                output_per_mtok: 2.0,
            },
        );
        let table = PriceTable::new(&configured);
        assert_eq!(
            table.price("gpt-4o-mini").map(|p| p.output_per_mtok),
            Some(2.0)
        );
        assert!(table.price("llama3.1:8b").is_some());
        assert!(
            (Price {
                input_per_mtok: 1.0,
                output_per_mtok: 2.0
            }
            .cost(1_000_000, 500_000)
                - 2.0)
                .abs()
                < 1e-9
        );
    }
}
