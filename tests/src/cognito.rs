//! The user pool on the local stack (contract §6, §9). moto's server implements the pool but
//! invokes no Lambda trigger, so the stack puts this proxy in front of moto's cognito-idp
//! endpoint: it forwards every request unchanged and, where Cognito would, invokes the
//! sign-up-triggers function (pre sign-up before SignUp and AdminCreateUser; post confirmation
//! after ConfirmSignUp and AdminConfirmSignUp), answering a refusal as Cognito does
//! (`UserLambdaValidationException`, "PreSignUp failed with error …"). moto itself is never patched.
//! `devtool cognito-triggers` runs it for `scripts/dev`; the journeys run it in-process.

use crate::faults::{forward, read_request, Request};
use aws_sdk_cognitoidentityprovider::types::{
    AliasAttributeType, AttributeType, AuthFlowType, ExplicitAuthFlowsType, PasswordPolicyType, UserPoolPolicyType,
    UsernameConfigurationType, VerifiedAttributeType,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// How the proxy invokes the trigger function: the event in, its answer or its error message out.
pub type Trigger = Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Result<Value, String>> + Send>> + Send + Sync>;

/// A running trigger proxy; it stops when dropped.
pub struct TriggerProxy {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TriggerProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the proxy keeps between requests: which pool each app client belongs to.
struct Proxy {
    upstream: String,
    trigger: Trigger,
    pools: Mutex<HashMap<String, String>>,
}

impl TriggerProxy {
    /// Listens on `listen` (`127.0.0.1:0`: a free port) and forwards to `upstream` (`http://host:port`).
    pub async fn start(listen: &str, upstream: &str, trigger: Trigger) -> Result<Self, Error> {
        let upstream = upstream.strip_prefix("http://").ok_or("the proxy forwards to http:// only")?;
        let proxy = Arc::new(Proxy {
            upstream: upstream.trim_end_matches('/').to_string(),
            trigger,
            pools: Mutex::new(HashMap::new()),
        });
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, proxy.clone()));
            }
        });
        Ok(Self { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs until the process ends (`devtool cognito-triggers`).
    pub async fn wait(self) {
        let _running = self;
        std::future::pending::<()>().await;
    }
}

/// The trigger invoked through the Lambda Invoke API at `url` (cargo lambda watch's), as Cognito invokes it.
pub fn invoke_url(url: String) -> Trigger {
    Arc::new(move |event: Value| {
        let url = url.clone();
        Box::pin(async move {
            let headers = "Content-Type: application/json\r\n";
            let raw = crate::localstack::http_request("POST", &url, headers, &event.to_string())
                .await
                .map_err(|e| format!("the trigger could not be invoked: {e}"))?;
            let answer: Value = serde_json::from_slice(&raw).map_err(|e| format!("the trigger's answer: {e}"))?;
            match answer.get("errorMessage").and_then(Value::as_str) {
                Some(message) => Err(message.to_string()),
                None => Ok(answer),
            }
        })
    })
}

/// Serves one client connection, request by request.
async fn serve(mut client: TcpStream, proxy: Arc<Proxy>) {
    let mut buffer = Vec::new();
    while let Some(request) = read_request(&mut client, &mut buffer).await {
        let answer = match request.operation().as_str() {
            operation @ ("SignUp" | "AdminCreateUser") => proxy.before_sign_up(operation, &request).await,
            "ConfirmSignUp" | "AdminConfirmSignUp" => proxy.confirm(&request).await,
            _ => forward(&request, &proxy.upstream).await,
        };
        let Some((bytes, keep_alive)) = answer else { return };
        if client.write_all(&bytes).await.is_err() || !keep_alive {
            return;
        }
    }
}

/// An error answer as Cognito writes it (awsJson 1.1).
fn cognito_error(error_type: &str, message: &str) -> (Vec<u8>, bool) {
    let body = json!({"__type": error_type, "message": message}).to_string();
    let head = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: {error_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    ([head.into_bytes(), body.into_bytes()].concat(), true)
}

/// A `[{"Name", "Value"}]` list of attributes as a map.
fn attribute_map(list: Option<&Value>) -> serde_json::Map<String, Value> {
    list.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|a| Some((a["Name"].as_str()?.to_string(), json!(a["Value"].as_str().unwrap_or_default()))))
                .collect()
        })
        .unwrap_or_default()
}

/// The status and JSON body of an HTTP answer.
fn parse_answer(bytes: &[u8]) -> Option<(u16, Value)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]);
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, serde_json::from_slice(&bytes[end + 4..]).unwrap_or(Value::Null)))
}

impl Proxy {
    /// One call to moto's cognito-idp, unsigned (moto does not check signatures).
    async fn call(&self, operation: &str, body: Value) -> Option<Value> {
        let body = body.to_string();
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AWSCognitoIdentityProviderService.{operation}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}",
            self.upstream,
            body.len()
        );
        let (bytes, _) = forward(&Request { head, body: body.into_bytes() }, &self.upstream).await?;
        match parse_answer(&bytes)? {
            (200, value) => Some(value),
            _ => None,
        }
    }

    /// The pool an app client belongs to (SignUp and ConfirmSignUp name only the client): every page
    /// of ListUserPools and of each pool's ListUserPoolClients, remembered.
    async fn pool_of_client(&self, client_id: &str) -> Option<String> {
        if let Some(pool) = self.pools.lock().ok()?.get(client_id) {
            return Some(pool.clone());
        }
        let mut next: Option<String> = None;
        loop {
            let mut request = json!({"MaxResults": 60});
            if let Some(token) = &next {
                request["NextToken"] = json!(token);
            }
            let page = self.call("ListUserPools", request).await?;
            for pool in page["UserPools"].as_array().into_iter().flatten() {
                let Some(id) = pool["Id"].as_str() else { continue };
                let clients = self.call("ListUserPoolClients", json!({"UserPoolId": id, "MaxResults": 60})).await;
                for client in clients.iter().flat_map(|c| c["UserPoolClients"].as_array().into_iter().flatten()) {
                    if let (Some(c), Ok(mut known)) = (client["ClientId"].as_str(), self.pools.lock()) {
                        known.insert(c.to_string(), id.to_string());
                    }
                }
                if let Some(pool) = self.pools.lock().ok()?.get(client_id) {
                    return Some(pool.clone());
                }
            }
            next = Some(page["NextToken"].as_str()?.to_string());
        }
    }

    fn header(trigger_source: &str, pool: &str, username: &str, client_id: &str) -> Value {
        json!({
            "version": "1",
            "triggerSource": trigger_source,
            "region": "us-east-1",
            "userPoolId": pool,
            "userName": username,
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown", "clientId": client_id},
        })
    }

    /// The pre sign-up trigger first; moto sees the request only if it allowed it.
    async fn before_sign_up(&self, operation: &str, request: &Request) -> Option<(Vec<u8>, bool)> {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let client_id = body["ClientId"].as_str().unwrap_or_default();
        let pool = match body["UserPoolId"].as_str() {
            Some(pool) => Some(pool.to_string()),
            None => self.pool_of_client(client_id).await,
        };
        let Some(pool) = pool else { return forward(request, &self.upstream).await };
        let source = if operation == "SignUp" { "PreSignUp_SignUp" } else { "PreSignUp_AdminCreateUser" };
        let mut event = Self::header(source, &pool, body["Username"].as_str().unwrap_or_default(), client_id);
        event["request"] = json!({
            "userAttributes": attribute_map(body.get("UserAttributes")),
            "validationData": attribute_map(body.get("ValidationData")),
            "clientMetadata": body.get("ClientMetadata").cloned().unwrap_or(json!({})),
        });
        event["response"] = json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false});
        match (self.trigger)(event).await {
            Ok(_) => forward(request, &self.upstream).await,
            Err(message) => {
                Some(cognito_error("UserLambdaValidationException", &format!("PreSignUp failed with error {message}")))
            }
        }
    }

    /// moto confirms; then the post confirmation trigger registers the account, as Cognito runs it.
    async fn confirm(&self, request: &Request) -> Option<(Vec<u8>, bool)> {
        let (bytes, keep_alive) = forward(request, &self.upstream).await?;
        if parse_answer(&bytes).map(|(status, _)| status) != Some(200) {
            return Some((bytes, keep_alive));
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let client_id = body["ClientId"].as_str().unwrap_or_default();
        let pool = match body["UserPoolId"].as_str() {
            Some(pool) => Some(pool.to_string()),
            None => self.pool_of_client(client_id).await,
        };
        let username = body["Username"].as_str().unwrap_or_default();
        let Some(pool) = pool else { return Some((bytes, keep_alive)) };
        let Some(user) = self.call("AdminGetUser", json!({"UserPoolId": pool, "Username": username})).await else {
            return Some((bytes, keep_alive));
        };
        let mut attributes = attribute_map(user.get("UserAttributes"));
        attributes.insert("cognito:user_status".into(), json!("CONFIRMED"));
        let mut event = Self::header("PostConfirmation_ConfirmSignUp", &pool, username, client_id);
        event["request"] = json!({"userAttributes": attributes, "clientMetadata": body.get("ClientMetadata").cloned().unwrap_or(json!({}))});
        event["response"] = json!({});
        match (self.trigger)(event).await {
            Ok(_) => Some((bytes, keep_alive)),
            Err(message) => Some(cognito_error(
                "UserLambdaValidationException",
                &format!("PostConfirmation failed with error {message}"),
            )),
        }
    }
}

/// The pool and app client as `infra/template.yaml` defines them: sign-in by user name with the
/// email and phone as aliases, user names compared without case, password sign-in and refresh.
pub async fn create_pool(
    client: &aws_sdk_cognitoidentityprovider::Client,
    name: &str,
) -> Result<(String, String), Error> {
    let pool = client
        .create_user_pool()
        .pool_name(name)
        .alias_attributes(AliasAttributeType::Email)
        .alias_attributes(AliasAttributeType::PhoneNumber)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .username_configuration(UsernameConfigurationType::builder().case_sensitive(false).build()?)
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(8)
                        .require_lowercase(true)
                        .require_uppercase(true)
                        .require_numbers(true)
                        .require_symbols(false)
                        .build(),
                )
                .build(),
        )
        .send()
        .await?;
    let pool_id = pool.user_pool().and_then(|p| p.id()).ok_or("no pool id")?.to_string();
    let app_client = client
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("web-console")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await?;
    let client_id = app_client.user_pool_client().and_then(|c| c.client_id()).ok_or("no client id")?.to_string();
    Ok((pool_id, client_id))
}

/// A person's side of the pool: signing up, confirming, signing in and refreshing, as any Cognito client does.
#[derive(Clone)]
pub struct PoolClient {
    pub client: aws_sdk_cognitoidentityprovider::Client,
    pub pool_id: String,
    pub client_id: String,
}

/// A sign-in's tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: Option<String>,
}

/// A pool user as AdminGetUser reports it.
#[derive(Debug, Clone)]
pub struct PoolUser {
    pub status: String,
    pub attributes: HashMap<String, String>,
    pub mfa_preferred: Option<String>,
}

/// The error code the pool answered (`UserNotFoundException`, `NotAuthorizedException`, …).
pub fn code_of<E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata>(error: &E) -> String {
    error.code().unwrap_or("unknown").to_string()
}

/// A refused call as the person would read it: the error's code and Cognito's message.
fn refusal<E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata>(error: &E) -> String {
    format!("{}: {}", code_of(error), error.message().unwrap_or(""))
}

impl PoolClient {
    /// SignUp then ConfirmSignUp (moto takes any code); the new user's `sub`, or the refusal's message.
    pub async fn sign_up(&self, username: &str, password: &str, attributes: &[(&str, &str)]) -> Result<String, String> {
        let mut request = self.client.sign_up().client_id(&self.client_id).username(username).password(password);
        for (name, value) in attributes {
            request = request.user_attributes(
                AttributeType::builder().name(*name).value(*value).build().map_err(|e| e.to_string())?,
            );
        }
        let signed_up = request.send().await.map_err(|e| refusal(&e.into_service_error()))?;
        self.client
            .confirm_sign_up()
            .client_id(&self.client_id)
            .username(username)
            .confirmation_code("123456")
            .send()
            .await
            .map_err(|e| refusal(&e.into_service_error()))?;
        Ok(signed_up.user_sub().to_string())
    }

    /// USER_PASSWORD_AUTH by user name, email or phone; the pool's error code if refused.
    pub async fn sign_in(&self, login: &str, password: &str) -> Result<Tokens, String> {
        let answer = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", login)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(|e| code_of(&e.into_service_error()))?;
        let result =
            answer.authentication_result().ok_or_else(|| format!("challenge {:?}", answer.challenge_name()))?;
        Ok(Tokens {
            access: result.access_token().unwrap_or_default().to_string(),
            refresh: result.refresh_token().map(String::from),
        })
    }

    /// REFRESH_TOKEN_AUTH: a new access token, or the pool's error code.
    pub async fn refresh(&self, refresh_token: &str) -> Result<String, String> {
        let answer = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .send()
            .await
            .map_err(|e| code_of(&e.into_service_error()))?;
        Ok(answer.authentication_result().and_then(|r| r.access_token()).unwrap_or_default().to_string())
    }

    /// AdminGetUser: the user as the pool reports it, or the pool's error code (`UserNotFoundException`).
    pub async fn user(&self, username: &str) -> Result<PoolUser, String> {
        let user = self
            .client
            .admin_get_user()
            .user_pool_id(&self.pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| code_of(&e.into_service_error()))?;
        Ok(PoolUser {
            status: user.user_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            attributes: user
                .user_attributes()
                .iter()
                .map(|a| (a.name().to_string(), a.value().unwrap_or_default().to_string()))
                .collect(),
            mfa_preferred: user.preferred_mfa_setting().map(String::from),
        })
    }
}
