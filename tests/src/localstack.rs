//! The local stack: SDK settings for DynamoDB Local and moto, the table (in
//! DynamoDB Local) as `infra/template.yaml` defines it, the verified sender, and the mail moto accepted.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde::Serialize;
use serde_norway::Value;
use std::path::PathBuf;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// moto's own API (mail read back, reset): the endpoint of every service but DynamoDB.
pub fn moto_url() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        format!("http://127.0.0.1:{}", std::env::var("MOTO_PORT").unwrap_or_else(|_| "5000".into()))
    })
}

/// The SDK's settings as the functions load them: each client finds its service
/// through `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`, never one endpoint set here,
/// which would override the service-specific one.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let credentials = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "local-stack");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into())))
        .credentials_provider(credentials)
        .load()
        .await
}

/// The export bucket the journeys share in moto (object keys hold each test's own account ids).
pub const EXPORT_BUCKET: &str = "journeys-exports";

/// The S3 settings the functions use on the local stack: path-style addressing (moto's server).
pub fn s3_config(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Config {
    aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build()
}

/// An S3 client on the local stack.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(s3_config(sdk))
}

/// Creates the journeys' export bucket if it is not there, as the template defines it.
pub async fn create_export_bucket(client: &aws_sdk_s3::Client) -> Result<(), Error> {
    provision_export_bucket(client, EXPORT_BUCKET).await
}

/// The `Properties` of the one `AWS::S3::Bucket` in the template (the export bucket).
pub fn export_bucket_definition() -> Result<Value, Error> {
    let text = std::fs::read_to_string(template_path())?;
    let template: Value = serde_norway::from_str(&text)?;
    let resources = template.get("Resources").and_then(Value::as_mapping).ok_or("template has no Resources")?;
    resources
        .values()
        .find(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::S3::Bucket"))
        .and_then(|r| r.get("Properties"))
        .cloned()
        .ok_or_else(|| "template has no AWS::S3::Bucket".into())
}

/// Creates `bucket` (if it is not there) with the template's encryption, public access block,
/// ownership and lifecycle rules; moto takes them as S3 would, and `GetBucket*` reads them back.
pub async fn provision_export_bucket(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), Error> {
    use aws_sdk_s3::types::{
        AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration,
        LifecycleRule, LifecycleRuleFilter, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
        PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
        ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    };
    create_bucket(client, bucket).await?;
    let props = export_bucket_definition()?;
    let at = |path: &[&str]| path.iter().try_fold(&props, |v, p| v.get(*p));
    let flag = |name: &str| at(&["PublicAccessBlockConfiguration", name]).and_then(Value::as_bool).unwrap_or(false);
    client
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(flag("BlockPublicAcls"))
                .block_public_policy(flag("BlockPublicPolicy"))
                .ignore_public_acls(flag("IgnorePublicAcls"))
                .restrict_public_buckets(flag("RestrictPublicBuckets"))
                .build(),
        )
        .send()
        .await?;
    let rules = at(&["BucketEncryption", "ServerSideEncryptionConfiguration"]).and_then(Value::as_sequence);
    let algorithm = rules
        .and_then(|r| r.first())
        .and_then(|r| r.get("ServerSideEncryptionByDefault")?.get("SSEAlgorithm")?.as_str())
        .ok_or("the export bucket has no default encryption")?;
    let by_default =
        ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::from(algorithm)).build()?;
    client
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).build())
                .build()?,
        )
        .send()
        .await?;
    if let Some(ownership) = at(&["OwnershipControls", "Rules"])
        .and_then(Value::as_sequence)
        .and_then(|r| r.first()?.get("ObjectOwnership")?.as_str())
    {
        let rule = OwnershipControlsRule::builder().object_ownership(ObjectOwnership::from(ownership)).build()?;
        client
            .put_bucket_ownership_controls()
            .bucket(bucket)
            .ownership_controls(OwnershipControls::builder().rules(rule).build()?)
            .send()
            .await?;
    }
    let mut lifecycle = Vec::new();
    for rule in at(&["LifecycleConfiguration", "Rules"]).and_then(Value::as_sequence).into_iter().flatten() {
        let text = |name: &str| rule.get(name).and_then(Value::as_str);
        let mut built = LifecycleRule::builder()
            .set_id(text("Id").map(String::from))
            .status(if text("Status") == Some("Enabled") {
                ExpirationStatus::Enabled
            } else {
                ExpirationStatus::Disabled
            })
            .filter(LifecycleRuleFilter::builder().prefix(text("Prefix").unwrap_or_default()).build());
        if let Some(days) = rule.get("ExpirationInDays").and_then(Value::as_i64) {
            built = built.expiration(LifecycleExpiration::builder().days(days as i32).build());
        }
        if let Some(days) =
            rule.get("AbortIncompleteMultipartUpload").and_then(|a| a.get("DaysAfterInitiation")?.as_i64())
        {
            built = built.abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder().days_after_initiation(days as i32).build(),
            );
        }
        lifecycle.push(built.build()?);
    }
    client
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(BucketLifecycleConfiguration::builder().set_rules(Some(lifecycle)).build()?)
        .send()
        .await?;
    Ok(())
}

/// Creates `bucket` in moto if it is not there.
pub async fn create_bucket(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), Error> {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    match client.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.code(), Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")) => Ok(()),
        Err(e) => Err(Box::new(e)),
    }
}

/// A GET of a presigned URL on loopback: the status and the body.
pub async fn download(url: &str) -> Result<(u16, Vec<u8>), Error> {
    let (head, body) = http_exchange("GET", url, "", "").await?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("no status line")?;
    Ok((status, body))
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

/// Whether a table gets the template's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// As `infra/template.yaml` defines it: the dev stack's table, and tests of what the stream carries.
    AsTemplate,
    /// DynamoDB Local keeps every stream record of the process, even of deleted tables, and each
    /// write to a table with a stream gets slower as they pile up (a 2,500-item write went from
    /// 0.5 s to 35 s); tables that no test reads the stream of go without one.
    Off,
}

/// Creates the table from the template's definition unless it exists.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str, stream: Stream) -> Result<(), Error> {
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
    if let Some(stream) = def.get("StreamSpecification").filter(|_| stream == Stream::AsTemplate) {
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

/// A mail as `scripts/dev mail` prints it (README.md, Local development).
#[derive(Debug, Clone, Serialize)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// The mail moto's SES accepted, oldest first.
pub async fn mails() -> Result<Vec<Mail>, Error> {
    // moto builds data.json from every model and answers 500 when another request changes a model
    // meanwhile (an event rule, a log stream of another test): read it again.
    let mut attempt = 0;
    let data: serde_json::Value = loop {
        attempt += 1;
        match serde_json::from_slice(&http_get(&format!("{}/moto-api/data.json", moto_url())).await?) {
            Ok(data) => break data,
            Err(_) if attempt < 10 => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            Err(error) => return Err(error.into()),
        }
    };
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
    http_request("GET", url, "", "").await
}

/// A plain HTTP/1.1 request on loopback (`headers`: CRLF-terminated lines).
pub async fn http_request(method: &str, url: &str, headers: &str, body: &str) -> Result<Vec<u8>, Error> {
    Ok(http_exchange(method, url, headers, body).await?.1)
}

/// As [`http_request`], with the answer's head (status line and headers, lowercased).
async fn http_exchange(method: &str, url: &str, headers: &str, body: &str) -> Result<(String, Vec<u8>), Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").ok_or("only http:// endpoints are supported")?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("malformed HTTP answer")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        return Ok((head, dechunk(&body)));
    }
    Ok((head, body))
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

/// One record of a table's stream, as a downstream consumer reads it.
#[derive(Debug, Clone)]
pub struct StreamRecord {
    /// `INSERT`, `MODIFY` or `REMOVE`.
    pub event: String,
    pub pk: String,
    pub sk: String,
    /// The item after the change, each string attribute as text (empty for a REMOVE).
    pub new_image: std::collections::BTreeMap<String, String>,
}

/// Every record of `table`'s stream so far, oldest first, read with the
/// DynamoDB Streams API (DescribeStream, GetShardIterator, GetRecords).
pub async fn stream_records(table: &str) -> Result<Vec<StreamRecord>, Error> {
    use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
    let sdk = sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    let description = dynamo.describe_table().table_name(table).send().await?;
    let arn = description.table().and_then(|t| t.latest_stream_arn()).ok_or("the table has no stream")?;
    let stream = streams.describe_stream().stream_arn(arn).send().await?;
    let shards = stream.stream_description().map(|d| d.shards().to_vec()).unwrap_or_default();
    let text = |v: Option<&AttributeValue>| match v {
        Some(AttributeValue::S(s)) => s.clone(),
        Some(AttributeValue::N(n)) => n.clone(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    };
    let mut records = Vec::new();
    for shard in shards {
        let Some(shard_id) = shard.shard_id() else { continue };
        let mut iterator = streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard_id)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await?
            .shard_iterator;
        while let Some(it) = iterator {
            let page = streams.get_records().shard_iterator(it).send().await?;
            let batch = page.records();
            for record in batch {
                let Some(data) = record.dynamodb() else { continue };
                let keys = data.keys();
                records.push(StreamRecord {
                    event: record.event_name().map(|e| e.as_str().to_string()).unwrap_or_default(),
                    pk: text(keys.and_then(|k| k.get("pk"))),
                    sk: text(keys.and_then(|k| k.get("sk"))),
                    new_image: data
                        .new_image()
                        .map(|image| image.iter().map(|(k, v)| (k.clone(), text(Some(v)))).collect())
                        .unwrap_or_default(),
                });
            }
            // An open shard hands out a next iterator for ever: an empty page is the end of what was written.
            iterator = if batch.is_empty() { None } else { page.next_shard_iterator };
        }
    }
    Ok(records)
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
