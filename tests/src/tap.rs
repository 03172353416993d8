//! The events a test stack publishes: its table's stream delivered to
//! publish-events (in-process) through the template's event source mapping,
//! onto a bus of its own in moto, read back in order. Every event read is
//! checked against its schema in docs/events/.

use crate::bus::LocalBus;
use crate::esm::{read_new_records, EventSourceMapping, StreamPosition};
use crate::harness::TestStack;
use serde_json::Value;
use shared::events::DetailType;
use shared::publish::Publisher;
use tokio::sync::Mutex;

pub struct EventsTap {
    pub bus: LocalBus,
    pub publisher: Publisher,
    pub esm: EventSourceMapping,
    table: String,
    position: Mutex<StreamPosition>,
}

impl EventsTap {
    /// A bus named after the stack's table (whose stream the stack must have: `TestStack::with_stream`).
    pub async fn on(stack: &TestStack) -> Self {
        let bus = LocalBus::named(&stack.table);
        bus.provision().await.expect("moto must be running (scripts/test starts it)");
        let publisher = Publisher::new(&crate::localstack::sdk_config().await, bus.bus.clone());
        let esm = EventSourceMapping::from_template().expect("the template's event source mapping");
        Self { bus, publisher, esm, table: stack.table.clone(), position: Mutex::new(StreamPosition::default()) }
    }

    /// Delivers what the stream holds since the last call; what failed for good
    /// (the on-failure destination's share) is returned.
    pub async fn deliver(&self) -> Vec<Value> {
        let publisher = &self.publisher;
        self.deliver_with(&mut async |batch| publish_events::handle(publisher, batch).await.map_err(|e| e.to_string()))
            .await
    }

    /// As `deliver`, through `invoke` (a test's stand-in for a failing function).
    pub async fn deliver_with(&self, invoke: &mut impl AsyncFnMut(Value) -> Result<Value, String>) -> Vec<Value> {
        let mut position = self.position.lock().await;
        let records = read_new_records(&self.table, &mut position).await.expect("the table's stream");
        let selected: Vec<Value> = records.into_iter().filter(|r| self.esm.selects(r)).collect();
        self.esm.deliver(selected, invoke).await
    }

    /// Delivers the stream, then every event the bus received, oldest first, each checked against its schema.
    pub async fn events(&self) -> Vec<Value> {
        let dead = self.deliver().await;
        assert!(dead.is_empty(), "records went to the on-failure destination: {dead:?}");
        self.published().await
    }

    /// What reached the bus so far, without delivering anything, each checked against its schema.
    pub async fn published(&self) -> Vec<Value> {
        let events = self.bus.events().await.expect("the bus's log group");
        for event in &events {
            if let Err(why) = check_schema(event) {
                panic!("an event breaks its schema: {why}\n{event}");
            }
        }
        events
    }
}

/// Checks `event` against the schema of its `detail-type` in docs/events/.
pub fn check_schema(event: &Value) -> Result<(), String> {
    let detail_type = event["detail-type"].as_str().unwrap_or("");
    let kind = DetailType::ALL
        .into_iter()
        .find(|d| d.as_str() == detail_type)
        .ok_or_else(|| format!("unknown detail-type {detail_type:?}"))?;
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/events")).join(kind.schema_file());
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let schema: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::schema::check(&schema, event)
}

/// Every string of personal data found anywhere in `events` (case-insensitive).
pub fn personal_data_in(events: &[Value], personal: &[&str]) -> Vec<String> {
    let text = serde_json::to_string(events).unwrap_or_default().to_lowercase();
    personal.iter().filter(|p| !p.is_empty() && text.contains(&p.to_lowercase())).map(|p| p.to_string()).collect()
}
