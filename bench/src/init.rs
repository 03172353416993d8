//! What a function's init does beyond the hello world's, timed in-process.

use crate::report::InitWork;
use crate::scenarios::Error;
use crate::stats::Stats;
use std::time::Instant;

/// `shared::runtime`'s start-up beyond a hello world: the SDK configuration
/// from the environment and the warm-up GetItem on a fresh connection.
pub async fn measure(times: usize, table: &str) -> Result<InitWork, Error> {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let (mut load, mut get) = (Vec::new(), Vec::new());
    for _ in 0..times {
        let t = Instant::now();
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        load.push(t.elapsed());
        let t = Instant::now();
        let _ = client
            .get_item()
            .table_name(table)
            .key("pk", S("WARMUP".into()))
            .key("sk", S("WARMUP".into()))
            .send()
            .await;
        get.push(t.elapsed());
    }
    Ok(InitWork {
        sdk_config: Stats::of(&load).ok_or("no samples")?,
        first_get_item: Stats::of(&get).ok_or("no samples")?,
    })
}
