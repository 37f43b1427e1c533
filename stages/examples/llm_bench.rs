//! Benchmark of the model path: N units through token-budget, llm-generate
//! and reply-parse against the in-process fake OpenAI server with a fixed
//! latency, at a given concurrency. Prints wall time against the ideal
//! ceil(N / concurrency) x latency, requests, and prompt plus completion
//! tokens per documented unit (counted with the model's tokenizer).
//!
//! `cargo run --release -p docpipe-stages --example llm_bench -- [UNITS] [CONCURRENCY] [LATENCY_MS] [BATCH_SIZE]`

#[path = "../tests/llm_support/mod.rs"]
mod llm_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use docpipe_stages::budget::tokens::TokenCounter;
use llm_support::fake_openai::{Auth, FakeServer, good_reply};
use llm_support::{RunSpec, openai_settings, run, units};

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let n = arg(1, 1000) as usize;
    let concurrency = arg(2, 16);
    let latency = Duration::from_millis(arg(3, 100));
    let batch = arg(4, 1);
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(move |r| good_reply(r).after(latency)),
    )
    .await;
    let mut settings = openai_settings(&server.url);
    settings.push(format!("model.concurrency={concurrency}"));
    settings.push(format!("model.batch_size={batch}"));
    let per_file = 10;
    // Warm the tokenizer so the run measures the pipeline, not a one-time table load.
    let counter = TokenCounter::for_model("gpt-4o-mini");
    counter.count("warm up");
    let started = Instant::now();
    let ran = run(
        RunSpec {
            set: settings,
            ..RunSpec::default()
        },
        units(n.div_ceil(per_file), per_file),
    )
    .await?;
    let wall = started.elapsed();
    let generated = ran.count("generated");
    let requests = server.requests();
    let schema = docpipe_stages::reply::schema().to_string();
    let (mut prompt, mut completion) = (0u64, 0u64);
    for r in &requests {
        let texts: Vec<String> = r.body["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|m| m["content"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        prompt += counter.count_chat(texts.iter().map(String::as_str)) + counter.count(&schema);
        if let llm_support::fake_openai::Reply::Http { body, .. } = good_reply(r) {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            completion += counter.count(
                v.pointer("/choices/0/message/content")
                    .and_then(|c| c.as_str())
                    .unwrap_or(""),
            );
        }
    }
    let request_count = (n as u64).div_ceil(batch);
    let ideal = latency.mul_f64(request_count.div_ceil(concurrency) as f64);
    println!("units:               {}", ran.units.len());
    println!("generated:           {generated}");
    println!("requests:            {}", requests.len());
    println!("max in flight:       {}", server.max_in_flight());
    println!("wall time:           {:.3} s", wall.as_secs_f64());
    println!(
        "ideal:               {:.3} s (ceil({request_count}/{concurrency}) x {} ms)",
        ideal.as_secs_f64(),
        latency.as_millis()
    );
    println!(
        "ratio:               {:.3}",
        wall.as_secs_f64() / ideal.as_secs_f64()
    );
    let per_unit = |t: u64| t as f64 / generated.max(1) as f64;
    println!("prompt tokens/unit:  {:.1}", per_unit(prompt));
    println!("completion tok/unit: {:.1}", per_unit(completion));
    println!("total tokens/unit:   {:.1}", per_unit(prompt + completion));
    if generated != n {
        return Err(format!(
            "only {generated} of {n} units were generated: {:?}",
            ran.reasons().first()
        ));
    }
    Ok(())
}
