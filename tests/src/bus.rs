//! The local bus (moto's EventBridge) and what reads it back: one rule for
//! `source` `account-deletion` whose target is a CloudWatch Logs group, which
//! keeps every event in the order it arrived and can be read again any time;
//! and the rule of the template's erasure reports, whose target is an SQS
//! queue that the local stack drains into erasure-ledger (moto invokes no Lambda).

use crate::localstack::{http_request, moto_url, sdk_config, template_path, Error};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct LocalBus {
    pub bus: String,
    pub log_group: String,
    /// Where the erasure reports go (the queue's name).
    pub reports_queue: String,
}

impl LocalBus {
    pub fn named(bus: &str) -> Self {
        Self {
            bus: bus.to_string(),
            log_group: format!("/account-deletion/events/{bus}"),
            reports_queue: format!("{bus}-erasure-reports"),
        }
    }

    fn queue_url(&self) -> String {
        format!("{}/123456789012/{}", moto_url(), self.reports_queue)
    }

    /// Creates the reports queue and the template's report rule (`ErasureLedgerFunction`'s
    /// `Report` pattern, read from the template) with the queue as its target.
    async fn provision_reports(&self, events: &aws_sdk_eventbridge::Client) -> Result<(), Error> {
        sqs_call("CreateQueue", json!({ "QueueName": self.reports_queue })).await?;
        let text = std::fs::read_to_string(template_path())?;
        let template: serde_norway::Value = serde_norway::from_str(&text)?;
        let pattern =
            &template["Resources"]["ErasureLedgerFunction"]["Properties"]["Events"]["Report"]["Properties"]["Pattern"];
        let pattern: Value = serde_json::to_value(pattern)?;
        if !pattern.is_object() {
            return Err("the template has no Report pattern on ErasureLedgerFunction".into());
        }
        events
            .put_rule()
            .name("erasure-reports")
            .event_bus_name(&self.bus)
            .event_pattern(pattern.to_string())
            .send()
            .await?;
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id("erasure-ledger")
            .arn(format!("arn:aws:sqs:us-east-1:123456789012:{}", self.reports_queue))
            .build()?;
        events.put_targets().rule("erasure-reports").event_bus_name(&self.bus).targets(target).send().await?;
        Ok(())
    }

    /// The reports waiting for erasure-ledger: (receipt handle, the event as the rule delivers it).
    pub async fn reports(&self) -> Result<Vec<(String, Value)>, Error> {
        let page = sqs_call(
            "ReceiveMessage",
            json!({"QueueUrl": self.queue_url(), "MaxNumberOfMessages": 10, "VisibilityTimeout": 30}),
        )
        .await?;
        let mut out = Vec::new();
        for message in page["Messages"].as_array().into_iter().flatten() {
            let event: Value = serde_json::from_str(message["Body"].as_str().unwrap_or("null"))?;
            out.push((message["ReceiptHandle"].as_str().unwrap_or("").to_string(), event));
        }
        Ok(out)
    }

    /// A report erasure-ledger took: off the queue.
    pub async fn report_done(&self, handle: &str) -> Result<(), Error> {
        sqs_call("DeleteMessage", json!({"QueueUrl": self.queue_url(), "ReceiptHandle": handle})).await.map(|_| ())
    }

    /// Puts an erasure report on the bus as downstream system `system` would.
    pub async fn put_report(&self, system: &str, detail: &Value) -> Result<(), Error> {
        let events = aws_sdk_eventbridge::Client::new(&sdk_config().await);
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(format!("{}{system}", shared::ledger::REPORT_SOURCE_PREFIX))
            .detail_type(shared::ledger::REPORT_DETAIL_TYPE)
            .detail(detail.to_string())
            .build();
        let out = events.put_events().entries(entry).send().await?;
        if out.failed_entry_count() > 0 {
            return Err(format!("the bus refused the report: {:?}", out.entries()).into());
        }
        Ok(())
    }

    /// Creates the bus, the log group, the rule and its target unless they exist.
    pub async fn provision(&self) -> Result<(), Error> {
        let sdk = sdk_config().await;
        let events = aws_sdk_eventbridge::Client::new(&sdk);
        if events.describe_event_bus().name(&self.bus).send().await.is_err() {
            events.create_event_bus().name(&self.bus).send().await?;
        }
        let created = logs_call("CreateLogGroup", json!({ "logGroupName": self.log_group })).await?;
        if created.get("__type").is_some_and(|t| !t.as_str().unwrap_or("").contains("AlreadyExists")) {
            return Err(format!("CreateLogGroup: {created}").into());
        }
        events
            .put_rule()
            .name("account-deletion-events")
            .event_bus_name(&self.bus)
            .event_pattern(json!({"source": [shared::events::SOURCE]}).to_string())
            .send()
            .await?;
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id("log")
            .arn(format!("arn:aws:logs:us-east-1:123456789012:log-group:{}", self.log_group))
            .build()?;
        events.put_targets().rule("account-deletion-events").event_bus_name(&self.bus).targets(target).send().await?;
        self.provision_reports(&events).await
    }

    /// What reached the bus, oldest first, as `scripts/dev events` prints it.
    pub async fn events(&self) -> Result<Vec<Value>, Error> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = json!({ "logGroupName": self.log_group });
            if let Some(t) = &token {
                request["nextToken"] = json!(t);
            }
            let page = logs_call("FilterLogEvents", request).await?;
            if let Some(error) = page.get("__type") {
                return Err(format!("FilterLogEvents: {error}").into());
            }
            for entry in page["events"].as_array().into_iter().flatten() {
                let event: Value = serde_json::from_str(entry["message"].as_str().unwrap_or("null"))?;
                out.push(
                    json!({"source": event["source"], "detail-type": event["detail-type"], "detail": event["detail"]}),
                );
            }
            match page["nextToken"].as_str() {
                Some(t) if Some(t) != token.as_deref() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}

async fn logs_call(operation: &str, body: Value) -> Result<Value, Error> {
    json_call("logs", "1.1", &format!("Logs_20140328.{operation}"), body).await
}

async fn sqs_call(operation: &str, body: Value) -> Result<Value, Error> {
    json_call("sqs", "1.0", &format!("AmazonSQS.{operation}"), body).await
}

/// A call of an AWS JSON protocol on moto: the one place the suite reads logs
/// and queues, so no Logs or SQS SDK crate is built for it.
async fn json_call(service: &str, version: &str, target: &str, body: Value) -> Result<Value, Error> {
    let headers = format!(
        "Content-Type: application/x-amz-json-{version}\r\nX-Amz-Target: {target}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n"
    );
    let raw = http_request("POST", &format!("{}/", moto_url()), &headers, &body.to_string()).await?;
    if raw.is_empty() {
        return Ok(json!({}));
    }
    Ok(serde_json::from_slice(&raw)?)
}
