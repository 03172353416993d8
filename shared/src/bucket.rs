//! The export bucket (S3): the archive written in parts and completed whole, its
//! presigned link, and its removal. Object keys are formatted here only, all
//! under [`PREFIX`], the one prefix the functions' roles may touch.

use crate::model::export::{ExportId, UploadedPart};
use crate::model::ids::AccountId;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Every export object's key starts so (`infra/template.yaml` grants this prefix only).
pub const PREFIX: &str = "exports/";

#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    /// A wrong `crate::Uses` or a missing `EXPORT_BUCKET`: a bug or a deployment error, never the service's.
    #[error("this function has no export bucket (EXPORT_BUCKET, Uses::exports)")]
    NoBucket,
    /// The upload was completed or aborted already.
    #[error("the multipart upload is gone")]
    NoSuchUpload,
    /// Only the service's error code is kept.
    #[error("S3 did not accept the request ({0})")]
    Service(String),
    #[error("the link could not be signed: {0}")]
    Presign(String),
}

fn service<E: ProvideErrorMetadata>(e: E) -> BucketError {
    match e.code() {
        Some("NoSuchUpload") => BucketError::NoSuchUpload,
        code => BucketError::Service(code.unwrap_or("no error code").to_string()),
    }
}

#[derive(Debug, Clone)]
pub struct ExportBucket {
    /// `None` in a function that touches no export (`crate::Uses::exports`).
    client: Option<(Arc<S3Client>, String)>,
}

/// The S3 client, built the first time an export is touched: delete-account and cleanup touch one
/// only for an account that has an export, so most of their processes never build it (and the
/// first S3 request opens its own connection anyway: init warms DynamoDB's only).
#[derive(Debug)]
struct S3Client {
    built: OnceLock<aws_sdk_s3::Client>,
    build: Option<(aws_config::SdkConfig, S3ClientFn, bool)>,
}

impl S3Client {
    fn get(&self) -> Option<&aws_sdk_s3::Client> {
        match (self.built.get(), &self.build) {
            (Some(client), _) => Some(client),
            (None, Some((sdk, build, local))) => Some(self.built.get_or_init(|| build(sdk, *local))),
            (None, None) => None,
        }
    }
}

/// Builds the S3 client. A function names it in its `Uses` only when it touches exports, so a
/// binary that never does links no S3 client: its endpoint rules alone are most of a megabyte.
pub type S3ClientFn = fn(&aws_config::SdkConfig, bool) -> aws_sdk_s3::Client;

impl ExportBucket {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        let client = S3Client { built: OnceLock::from(client), build: None };
        Self { client: Some((Arc::new(client), bucket.into())) }
    }

    /// The bucket, with a client `build` makes from `sdk` when an export is first touched.
    pub fn lazy(
        sdk: &aws_config::SdkConfig,
        build: S3ClientFn,
        local_endpoint: bool,
        bucket: impl Into<String>,
    ) -> Self {
        let client = S3Client { built: OnceLock::new(), build: Some((sdk.clone(), build, local_endpoint)) };
        Self { client: Some((Arc::new(client), bucket.into())) }
    }

    /// For a function that touches no export: no S3 client is built.
    pub fn none() -> Self {
        Self { client: None }
    }

    /// The client the SDK settings give; path-style addressing where an endpoint is set
    /// (moto's server on the local stack answers no bucket subdomains).
    pub fn client(sdk: &aws_config::SdkConfig, local_endpoint: bool) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(local_endpoint).build())
    }

    fn parts(&self) -> Result<(&aws_sdk_s3::Client, &str), BucketError> {
        let (client, bucket) = self.client.as_ref().ok_or(BucketError::NoBucket)?;
        Ok((client.get().ok_or(BucketError::NoBucket)?, bucket.as_str()))
    }

    /// Where an export's archive is: one object per export, under the account's own prefix.
    pub fn object_key(account: &AccountId, export: &ExportId) -> String {
        format!("{PREFIX}{account}/{export}.json")
    }

    /// Begins the archive's multipart upload; its id.
    pub async fn begin(&self, key: &str, export: &ExportId) -> Result<String, BucketError> {
        let (client, bucket) = self.parts()?;
        let out = client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .content_type("application/json; charset=utf-8")
            .content_disposition(format!("attachment; filename=\"{export}.json\""))
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .map_err(service)?;
        out.upload_id.ok_or_else(|| BucketError::Service("no UploadId".into()))
    }

    /// Uploads part `number` (the same number again replaces it); its ETag.
    pub async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        bytes: Vec<u8>,
    ) -> Result<String, BucketError> {
        let (client, bucket) = self.parts()?;
        let out = client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(service)?;
        out.e_tag.ok_or_else(|| BucketError::Service("no ETag".into()))
    }

    /// The archive appears whole, at once; `NoSuchUpload` once it was completed (or aborted) before.
    pub async fn complete(&self, key: &str, upload_id: &str, parts: &[UploadedPart]) -> Result<(), BucketError> {
        let (client, bucket) = self.parts()?;
        let parts = parts.iter().map(|p| CompletedPart::builder().part_number(p.number).e_tag(&p.etag).build());
        client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts.collect())).build())
            .send()
            .await
            .map_err(service)?;
        Ok(())
    }

    /// Whether the object is there.
    pub async fn exists(&self, key: &str) -> Result<bool, BucketError> {
        let (client, bucket) = self.parts()?;
        match client.head_object().bucket(bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            // S3 answers 403, not 404, for a missing key to a role without s3:ListBucket, as the
            // template's are: they may read the export prefix, so a refusal there means no object.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => Ok(false),
            Err(e) => Err(service(e)),
        }
    }

    /// Drops an upload's parts; one already gone is no failure.
    pub async fn abort(&self, key: &str, upload_id: &str) -> Result<(), BucketError> {
        let (client, bucket) = self.parts()?;
        match client.abort_multipart_upload().bucket(bucket).key(key).upload_id(upload_id).send().await {
            Ok(_) => Ok(()),
            Err(e) => match service(e) {
                BucketError::NoSuchUpload => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Removes the object; one already gone is no failure (S3 answers a delete of a missing key with success).
    pub async fn remove(&self, key: &str) -> Result<(), BucketError> {
        let (client, bucket) = self.parts()?;
        client.delete_object().bucket(bucket).key(key).send().await.map_err(service)?;
        Ok(())
    }

    /// A GET URL for the object that works for `valid_for`.
    pub async fn link(&self, key: &str, valid_for: Duration) -> Result<String, BucketError> {
        let (client, bucket) = self.parts()?;
        let config = PresigningConfig::expires_in(valid_for).map_err(|e| BucketError::Presign(e.to_string()))?;
        let signed = client
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| BucketError::Presign(e.to_string()))?;
        Ok(signed.uri().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static BUILT: AtomicUsize = AtomicUsize::new(0);

    fn counted(sdk: &aws_config::SdkConfig, local: bool) -> aws_sdk_s3::Client {
        BUILT.fetch_add(1, Ordering::SeqCst);
        ExportBucket::client(sdk, local)
    }

    #[tokio::test]
    async fn the_s3_client_is_built_once_when_an_export_is_first_touched() {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).region("eu-west-1").load().await;
        let bucket = ExportBucket::lazy(&sdk, counted, true, "exports-bucket");
        let copy = bucket.clone();
        assert_eq!(BUILT.load(Ordering::SeqCst), 0, "nothing is built before an export is touched");
        assert!(bucket.parts().is_ok());
        assert!(copy.parts().is_ok());
        assert_eq!(BUILT.load(Ordering::SeqCst), 1, "one client for the process, shared by its copies");
        assert!(matches!(ExportBucket::none().parts(), Err(BucketError::NoBucket)));
    }
}
