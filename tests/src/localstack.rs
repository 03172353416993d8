//! The local stack: SDK settings for moto, the table as `infra/template.yaml`
//! defines it, the verified sender, and the mail moto accepted.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde::Serialize;
use serde_norway::Value;
use std::path::PathBuf;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// moto's address: `AWS_ENDPOINT_URL`, else the contract's default port.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        format!("http://127.0.0.1:{}", std::env::var("MOTO_PORT").unwrap_or_else(|_| "5000".into()))
    })
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    let credentials = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "local-stack");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_config::Region::new(std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into())))
        .credentials_provider(credentials)
        .load()
        .await
}

pub fn template_path() -> PathBuf {
    std::env::var_os("TEMPLATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml")))
}

/// The `Properties` of the one `AWS::DynamoDB::Table` in the template.
pub fn table_definition() -> Result<Value, Error> {
    let text = std::fs::read_to_string(template_path())?;
    let template: Value = serde_norway::from_str(&text)?;
    let resources = template.get("Resources").and_then(Value::as_mapping).ok_or("template has no Resources")?;
    resources
        .values()
        .find(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::DynamoDB::Table"))
        .and_then(|r| r.get("Properties"))
        .cloned()
        .ok_or_else(|| "template has no AWS::DynamoDB::Table".into())
}

fn text<'a>(v: &'a Value, key: &str) -> Result<&'a str, Error> {
    v.get(key).and_then(Value::as_str).ok_or_else(|| format!("table definition: {key} missing").into())
}

fn key_schema(v: &Value) -> Result<Vec<KeySchemaElement>, Error> {
    v.get("KeySchema")
        .and_then(Value::as_sequence)
        .ok_or("KeySchema missing")?
        .iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName")?)
                .key_type(KeyType::from(text(k, "KeyType")?))
                .build()?)
        })
        .collect()
}

/// Creates the table from the template's definition unless it exists.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), Error> {
    if client.describe_table().table_name(name).send().await.is_ok() {
        return Ok(());
    }
    let def = table_definition()?;
    let mut request = client.create_table().table_name(name).set_key_schema(Some(key_schema(&def)?));
    for a in def.get("AttributeDefinitions").and_then(Value::as_sequence).ok_or("AttributeDefinitions missing")? {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text(a, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(text(a, "AttributeType")?))
                .build()?,
        );
    }
    for g in def.get("GlobalSecondaryIndexes").and_then(Value::as_sequence).into_iter().flatten() {
        let projection = g.get("Projection").ok_or("GSI Projection missing")?;
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(g, "IndexName")?)
                .set_key_schema(Some(key_schema(g)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(text(projection, "ProjectionType")?))
                        .build(),
                )
                .build()?,
        );
    }
    if let Some(billing) = def.get("BillingMode").and_then(Value::as_str) {
        request = request.billing_mode(BillingMode::from(billing));
    }
    if let Some(stream) = def.get("StreamSpecification") {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(text(stream, "StreamViewType")?))
                .build()?,
        );
    }
    request.send().await?;
    if let Some(ttl) = def.get("TimeToLiveSpecification") {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(text(ttl, "AttributeName")?)
                    .enabled(ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(true))
                    .build()?,
            )
            .send()
            .await?;
    }
    Ok(())
}

/// SES refuses mail from an unverified sender, on moto as on AWS.
pub async fn verify_sender(client: &aws_sdk_sesv2::Client, sender: &str) -> Result<(), Error> {
    match client.create_email_identity().email_identity(sender).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A mail as `scripts/dev mail` prints it (contract §6).
#[derive(Debug, Clone, Serialize)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// The mail moto's SES accepted, oldest first.
pub async fn mails() -> Result<Vec<Mail>, Error> {
    let data: serde_json::Value =
        serde_json::from_slice(&http_get(&format!("{}/moto-api/data.json", endpoint())).await?)?;
    let messages = data.pointer("/ses/Message").and_then(|m| m.as_array()).cloned().unwrap_or_default();
    Ok(messages
        .iter()
        .map(|m| Mail {
            to: m
                .pointer("/destinations/ToAddresses")
                .and_then(|t| serde_json::from_value(t.clone()).ok())
                .unwrap_or_default(),
            subject: m.get("subject").and_then(|s| s.as_str()).unwrap_or_default().to_string(),
            body: m.get("body").and_then(|s| s.as_str()).unwrap_or_default().to_string(),
        })
        .collect())
}

/// A plain HTTP/1.1 GET on loopback: enough for moto's own API, no client crate needed.
async fn http_get(url: &str) -> Result<Vec<u8>, Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").ok_or("only http:// endpoints are supported")?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("malformed HTTP answer")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        return Ok(dechunk(&body));
    }
    Ok(body)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&body[..line_end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    out
}

/// Creates the code secret in moto with `value`, or makes `value` its current version (the old one
/// becomes AWSPREVIOUS, as a rotation leaves it).
pub async fn put_code_secret(client: &aws_sdk_secretsmanager::Client, id: &str, value: &str) -> Result<(), Error> {
    let exists = client.describe_secret().secret_id(id).send().await.is_ok();
    if exists {
        client.put_secret_value().secret_id(id).secret_string(value).send().await?;
    } else {
        client.create_secret().name(id).secret_string(value).send().await?;
    }
    Ok(())
}
