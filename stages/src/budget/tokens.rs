//! Token counts with the configured model's tokenizer, the model limits table
//! (context window, most completion tokens), and shortening of long sources.

use tiktoken_rs::CoreBPE;
use tiktoken_rs::tokenizer::{Tokenizer, get_tokenizer};

use crate::llm::section::ModelSection;

/// Counts tokens for one model.
///
/// Only names the tokenizer: its tables load on the first count (about
/// 150 ms), so a run that never counts (`check`, and validating a file whose
/// other pipelines have a token budget) never pays for them.
#[derive(Clone, Copy)]
pub struct TokenCounter {
    tokenizer: Tokenizer,
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCounter")
    }
}

impl TokenCounter {
    /// The tokenizer of `model`; `o200k_base` for a name tiktoken does not know
    /// (local models: their own tokenizers differ, o200k is a fair estimate).
    pub fn for_model(model: &str) -> TokenCounter {
        TokenCounter {
            tokenizer: get_tokenizer(model).unwrap_or(Tokenizer::O200kBase),
        }
    }

    fn bpe(&self) -> &'static CoreBPE {
        tiktoken_rs::bpe_for_tokenizer(self.tokenizer)
            .unwrap_or_else(|_| tiktoken_rs::o200k_base_singleton())
    }

    /// Tokens of `text`. Texts longer than [`WHOLE`] are counted in
    /// pieces (see [`pieces`]), so that counting costs time linear in the
    /// text whatever it holds.
    pub fn count(&self, text: &str) -> u64 {
        pieces(text)
            .map(|piece| self.bpe().encode_ordinary(piece).len() as u64)
            .sum()
    }

    /// Tokens of a chat: the texts plus OpenAI's per-message overhead (3 per
    /// message and 3 to prime the answer).
    pub fn count_chat<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> u64 {
        texts.into_iter().map(|t| self.count(t) + 3).sum::<u64>() + 3
    }

    /// The first `max` tokens of `text`, cut at a character boundary. Only
    /// the pieces needed are encoded.
    pub fn head(&self, text: &str, max: u64) -> String {
        let max = max as usize;
        let mut tokens = Vec::new();
        for piece in pieces(text) {
            if tokens.len() >= max {
                break;
            }
            tokens.extend(self.bpe().encode_ordinary(piece));
        }
        tokens.truncate(max);
        self.decode_lossy(&tokens)
    }

    /// The last `max` tokens of `text`. Only the pieces needed are encoded.
    pub fn tail(&self, text: &str, max: u64) -> String {
        let max = max as usize;
        let all: Vec<&str> = pieces(text).collect();
        let mut tokens: Vec<u32> = Vec::new();
        for piece in all.iter().rev() {
            if tokens.len() >= max {
                break;
            }
            let mut before = self.bpe().encode_ordinary(piece);
            before.extend(tokens);
            tokens = before;
        }
        let skip = tokens.len().saturating_sub(max);
        self.decode_lossy(&tokens[skip..])
    }

    fn decode_lossy(&self, tokens: &[u32]) -> String {
        match self.bpe().decode_bytes(tokens) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => String::new(),
        }
    }
}

/// Texts up to this many bytes are encoded whole, exactly as the model's
/// tokenizer does: every unit of ordinary code.
pub const WHOLE: usize = 16 * 1024;

/// Longest piece a line is cut into when it is longer than this.
const LINE_PIECE: usize = 1024;

/// `text` in the pieces it is counted in: whole when it is at most
/// [`WHOLE`] bytes; else runs of whole lines of up to [`WHOLE`] bytes, and a
/// line longer than [`LINE_PIECE`] in pieces of at most that, cut after a
/// space where there is one in the piece's second half, else at a character
/// boundary.
///
/// tiktoken's byte-pair merge is quadratic in the length of one pre-token
/// (a 4 MB line of one repeated character took 22 s), so an unbounded
/// piece would make one hostile line cost minutes. Each cut can change the
/// count by a token or so against encoding the whole text (at most one per
/// [`LINE_PIECE`] bytes, well under a percent): a budget estimate, not the
/// model's bill.
pub fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    let whole = text.len() <= WHOLE;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = if whole { rest.len() } else { piece_end(rest) };
        let (piece, after) = rest.split_at(end);
        rest = after;
        Some(piece)
    })
}

/// Where the first piece of `rest` (longer than [`WHOLE`]) ends.
fn piece_end(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    // Never look further than one piece can reach: a line of megabytes
    // must not be searched again for every piece of it.
    let reach = &bytes[..bytes.len().min(WHOLE + 1)];
    let first_line = memchr::memchr(b'\n', reach).map_or(bytes.len(), |i| i + 1);
    if first_line > LINE_PIECE {
        // A long line: a piece of it.
        let mut end = LINE_PIECE.min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        return match memchr::memrchr(b' ', &bytes[end / 2..end]) {
            Some(i) => end / 2 + i + 1,
            None => end,
        };
    }
    // Whole lines up to WHOLE bytes (a long line starts a piece of its own).
    let mut end = first_line;
    while end < bytes.len() {
        let reach = &bytes[end..bytes.len().min(end + LINE_PIECE + 1)];
        let next = memchr::memchr(b'\n', reach).map_or(bytes.len(), |i| end + i + 1);
        if next - end > LINE_PIECE || next > WHOLE {
            break;
        }
        end = next;
    }
    end
}

/// Context window and most completion tokens of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelLimits {
    /// Tokens of prompt plus completion.
    pub context_window: u64,
    /// Most completion tokens the model produces.
    pub max_completion_tokens: u64,
}

/// The built-in table: most completion tokens by model name prefix (longest
/// prefix wins). Context windows come from tiktoken-rs's table.
const MAX_COMPLETION: &[(&str, u64)] = &[
    ("gpt-4o", 16_384),
    ("chatgpt-4o", 16_384),
    ("gpt-4.1", 32_768),
    ("gpt-5", 128_000),
    ("o1", 100_000),
    ("o3", 100_000),
    ("o4", 100_000),
    ("gpt-4-turbo", 4_096),
    ("gpt-4", 8_192),
    ("gpt-3.5", 4_096),
    ("gpt-35", 4_096),
];

/// Context window of an unknown model (a local model, usually): a cautious 8k.
pub const UNKNOWN_CONTEXT_WINDOW: u64 = 8_192;
/// Most completion tokens of an unknown model.
pub const UNKNOWN_MAX_COMPLETION: u64 = 4_096;

impl ModelLimits {
    /// The limits of `section.name`, with the section's overrides applied.
    pub fn of(section: &ModelSection) -> ModelLimits {
        let name = section.name.as_str();
        let context_window = section.context_window.unwrap_or_else(|| {
            tiktoken_rs::model::get_context_size(name).map_or(UNKNOWN_CONTEXT_WINDOW, |n| n as u64)
        });
        let max_completion_tokens = section.max_completion_tokens.unwrap_or_else(|| {
            MAX_COMPLETION
                .iter()
                .filter(|(prefix, _)| name.starts_with(prefix))
                .max_by_key(|(prefix, _)| prefix.len())
                .map_or(UNKNOWN_MAX_COMPLETION, |(_, n)| *n)
        });
        ModelLimits {
            context_window,
            max_completion_tokens: max_completion_tokens.min(context_window / 2).max(1),
        }
    }

    /// Most prompt tokens that leave room for `completion` tokens.
    pub fn prompt_room(&self, completion: u64) -> u64 {
        self.context_window.saturating_sub(completion)
    }
}

/// `source` cut to about `max` tokens: the signature line(s) up to the first
/// line ending in `:` are kept whole, then the start and the end of the body
/// with a marker line between them saying how much was left out.
pub fn shorten_source(counter: &TokenCounter, source: &str, signature: &str, max: u64) -> String {
    if counter.count(source) <= max {
        return source.to_string();
    }
    // Keep everything up to the end of the signature.
    let header_end = source
        .find(signature.trim_end_matches(':').trim())
        .map(|i| i + signature.trim_end_matches(':').trim().len())
        .and_then(|i| source[i..].find('\n').map(|j| i + j + 1))
        .unwrap_or(0);
    let (header, body) = source.split_at(header_end);
    let header_tokens = counter.count(header);
    let room = max.saturating_sub(header_tokens + 16);
    let head = counter.head(body, room * 2 / 3);
    let tail = counter.tail(body, room / 3);
    // Whole lines only, so the model never sees half a statement.
    let head = match head.rfind('\n') {
        Some(i) => &head[..=i],
        None => "",
    };
    let tail = match tail.find('\n') {
        Some(i) => &tail[i + 1..],
        None => "",
    };
    let omitted = body
        .lines()
        .count()
        .saturating_sub(head.lines().count() + tail.lines().count());
    format!("{header}{head}    # ... {omitted} lines omitted to fit the context window ...\n{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_models_count_with_o200k() {
        let known = TokenCounter::for_model("gpt-4o-mini");
        let unknown = TokenCounter::for_model("llama3.1:8b");
        assert_eq!(
            known.count("def add(a, b): return a + b"),
            unknown.count("def add(a, b): return a + b")
        );
        assert!(known.count("hello world") >= 2);
    }

    #[test]
    fn limits_come_from_the_table_and_overrides() {
        let mut s = ModelSection::default();
        assert_eq!(
            ModelLimits::of(&s),
            ModelLimits {
                context_window: 128_000,
                max_completion_tokens: 16_384
            }
        );
        s.name = "my-local-model".into();
        assert_eq!(ModelLimits::of(&s).context_window, UNKNOWN_CONTEXT_WINDOW);
        s.context_window = Some(32_000);
        s.max_completion_tokens = Some(1_000);
        assert_eq!(
            ModelLimits::of(&s),
            ModelLimits {
                context_window: 32_000,
                max_completion_tokens: 1_000
            }
        );
    }

    #[test]
    fn long_sources_keep_signature_start_and_end() {
        let counter = TokenCounter::for_model("gpt-4o-mini");
        let mut source = String::from("def long(a, b):\n    first = a\n");
        for i in 0..500 {
            source.push_str(&format!("    x{i} = compute({i}, a, b)\n"));
        }
        source.push_str("    return last_value\n");
        let short = shorten_source(&counter, &source, "def long(a, b):", 200);
        assert!(
            short.starts_with("def long(a, b):\n    first = a\n"),
            "{short}"
        );
        assert!(short.ends_with("    return last_value\n"), "{short}");
        assert!(short.contains("lines omitted"));
        assert!(counter.count(&short) <= 220, "{}", counter.count(&short));
        assert_eq!(
            shorten_source(&counter, "def f(): pass\n", "def f():", 200),
            "def f(): pass\n"
        );
    }

    #[test]
    fn pieces_cover_the_text_and_are_bounded() {
        let counter = TokenCounter::for_model("gpt-4o-mini");
        let small = "def f(x):\n    return x\n";
        assert_eq!(pieces(small).collect::<Vec<_>>(), vec![small]);
        assert_eq!(
            counter.count(small),
            counter.bpe().encode_ordinary(small).len() as u64
        );
        let mut code = String::new();
        for i in 0..3_000 {
            code.push_str(&format!("    value_{i} = compute(value_{i}, 'text {i}')\n"));
        }
        code.push_str(&"é".repeat(5_000));
        code.push_str(&"word ".repeat(2_000));
        code.push('\n');
        let cut: Vec<&str> = pieces(&code).collect();
        assert_eq!(cut.concat(), code, "the pieces are the text");
        assert!(cut.len() > 10, "{} pieces", cut.len());
        for piece in &cut {
            assert!(piece.len() <= WHOLE, "{}", piece.len());
            let longest = piece.split_inclusive('\n').map(str::len).max().unwrap_or(0);
            assert!(
                longest <= LINE_PIECE,
                "a line of {longest} bytes in one piece"
            );
        }
        // Cut at lines and spaces, the count stays within a percent of the whole text's.
        let exact = counter.bpe().encode_ordinary(&code).len() as f64;
        let counted = counter.count(&code) as f64;
        assert!(
            (counted - exact).abs() / exact < 0.01,
            "{counted} against {exact}"
        );
    }

    #[test]
    fn head_and_tail_of_a_long_text_come_from_its_ends() {
        let counter = TokenCounter::for_model("gpt-4o-mini");
        let text = format!("start here\n{}\nend here\n", "x = 1\n".repeat(20_000));
        assert!(text.len() > WHOLE);
        assert!(counter.head(&text, 3).starts_with("start"));
        assert!(counter.tail(&text, 4).ends_with("end here\n"));
        assert!(counter.count(&counter.head(&text, 100)) <= 101);
        assert!(counter.count(&counter.tail(&text, 100)) <= 101);
    }
}
