//! What a DynamoDB request asks of IAM, item by item, and whether a function's
//! role in `infra/template.yaml` grants it: the action (a transaction is
//! authorised per contained action), the table or index, and the partition key
//! that a `dynamodb:LeadingKeys` condition sees. The fault proxy records the
//! accesses; `tests/tests/journeys/iam.rs` checks them against the roles.

use serde_json::Value;
use serde_norway::Value as Yaml;

/// One item (or one request without an item) as IAM authorises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The IAM action, e.g. `dynamodb:PutItem`.
    pub action: String,
    /// The index the request reads, if not the table.
    pub index: Option<String>,
    /// The partition key value; `None` for a request on no item (e.g. DescribeTable).
    pub leading_key: Option<String>,
}

/// The accesses of one DynamoDB request, from its operation and JSON body.
pub fn accesses(operation: &str, body: &[u8]) -> Vec<Access> {
    let Ok(body) = serde_json::from_slice::<Value>(body) else { return Vec::new() };
    let access = |action: &str, index: Option<&str>, item: Option<&Value>| Access {
        action: format!("dynamodb:{action}"),
        index: index.map(String::from),
        leading_key: item.and_then(|i| i["pk"]["S"].as_str()).map(String::from),
    };
    let each = |v: &Value| v.as_array().cloned().unwrap_or_default();
    match operation {
        "GetItem" | "DeleteItem" | "UpdateItem" => vec![access(operation, None, Some(&body["Key"]))],
        "PutItem" => vec![access(operation, None, Some(&body["Item"]))],
        "Query" => vec![Access {
            action: "dynamodb:Query".into(),
            index: body["IndexName"].as_str().map(String::from),
            leading_key: queried_partition(&body),
        }],
        "BatchGetItem" => table_requests(&body)
            .iter()
            .flat_map(|t| each(&t["Keys"]))
            .map(|k| access(operation, None, Some(&k)))
            .collect(),
        "BatchWriteItem" => table_requests(&body)
            .iter()
            .flat_map(each)
            .map(|r| {
                let item =
                    r.get("PutRequest").map(|p| &p["Item"]).or_else(|| r.get("DeleteRequest").map(|d| &d["Key"]));
                access(operation, None, item)
            })
            .collect(),
        "TransactWriteItems" | "TransactGetItems" => each(&body["TransactItems"])
            .iter()
            .filter_map(|part| {
                [("Put", "PutItem", "Item"), ("Update", "UpdateItem", "Key"), ("Delete", "DeleteItem", "Key")]
                    .into_iter()
                    .chain([("ConditionCheck", "ConditionCheckItem", "Key"), ("Get", "GetItem", "Key")])
                    .find_map(|(kind, action, item)| part.get(kind).map(|p| access(action, None, Some(&p[item]))))
            })
            .collect(),
        other => vec![access(other, None, None)],
    }
}

fn table_requests(body: &Value) -> Vec<Value> {
    body["RequestItems"].as_object().map(|m| m.values().cloned().collect()).unwrap_or_default()
}

/// The value the key condition's first clause (`pk = :pk`, `#b = :b`) compares the partition key with.
fn queried_partition(body: &Value) -> Option<String> {
    let expression = body["KeyConditionExpression"].as_str()?;
    let first = expression.split(" AND ").next()?.trim().trim_start_matches('(').trim_end_matches(')');
    let (_, placeholder) = first.split_once('=')?;
    body["ExpressionAttributeValues"][placeholder.trim()]["S"].as_str().map(String::from)
}

/// One Allow statement of a role on the table or an index.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The statement's `Sid`: what it allows, in a word.
    pub sid: String,
    pub actions: Vec<String>,
    /// `Some(index)` for a statement on `${Table.Arn}/index/<index>`.
    pub index: Option<String>,
    /// The `ForAllValues:StringLike` `dynamodb:LeadingKeys` patterns; `None`: no such condition.
    pub leading_keys: Option<Vec<String>>,
}

impl Grant {
    pub fn allows(&self, access: &Access) -> bool {
        self.actions.contains(&access.action)
            && self.index == access.index
            && match (&self.leading_keys, &access.leading_key) {
                // As IAM: ForAllValues over no key at all holds.
                (None, _) | (Some(_), None) => true,
                (Some(patterns), Some(key)) => patterns.iter().any(|p| string_like(p, key)),
            }
    }
}

/// The statement that grants `access`, if one does.
pub fn granting<'a>(grants: &'a [Grant], access: &Access) -> Option<&'a Grant> {
    grants.iter().find(|g| g.allows(access))
}

/// The actions that create, change or remove an item (a transaction's parts are these too).
pub fn is_write(action: &str) -> bool {
    ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"].contains(&action)
}

/// The DynamoDB statements of the role of the function whose binary is `binary`,
/// its inline policies and any `AWS::IAM::Policy` attached to it. A statement on
/// the table that this model cannot judge (a Deny, another condition) panics:
/// ignoring it could hide what it grants or refuses.
pub fn dynamodb_grants(template: &Yaml, binary: &str) -> Vec<Grant> {
    let Some(role) = role_of(template, binary) else { return Vec::new() };
    let resources = &template["Resources"];
    let inline = resources[role.as_str()]["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|p| &p["PolicyDocument"]);
    let attached = resources
        .as_mapping()
        .into_iter()
        .flat_map(|m| m.values())
        .filter(|r| r["Type"].as_str() == Some("AWS::IAM::Policy"))
        .filter(|r| {
            r["Properties"]["Roles"].as_sequence().into_iter().flatten().any(|v| tag_value(v) == Some(role.as_str()))
        })
        .map(|r| &r["Properties"]["PolicyDocument"]);
    inline
        .chain(attached)
        .flat_map(|doc| doc["Statement"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|s| {
            let resource = tag_value(&s["Resource"])?;
            let index = match resource {
                "Table.Arn" => None,
                other => Some(other.strip_prefix("${Table.Arn}/index/")?.to_string()),
            };
            let sid = s["Sid"].as_str().unwrap_or_default().to_string();
            assert_eq!(
                s["Effect"].as_str(),
                Some("Allow"),
                "{binary}: {sid}: only Allow statements on the table are modelled"
            );
            let actions = match &s["Action"] {
                Yaml::String(a) => vec![a.clone()],
                list => list.as_sequence()?.iter().filter_map(|a| a.as_str().map(String::from)).collect(),
            };
            let leading_keys = match s["Condition"].as_mapping() {
                None => None,
                Some(condition) => {
                    let patterns = &condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
                    let only_leading_keys = condition.len() == 1
                        && condition["ForAllValues:StringLike"].as_mapping().is_some_and(|m| m.len() == 1);
                    assert!(
                        only_leading_keys,
                        "{binary}: {sid}: a condition other than dynamodb:LeadingKeys is not modelled"
                    );
                    Some(patterns.as_sequence()?.iter().filter_map(|p| p.as_str().map(String::from)).collect())
                }
            };
            Some(Grant { sid, actions, index, leading_keys })
        })
        .collect()
}

/// The `cognito-idp:` actions the role of the function whose binary is `binary` may take, each on the
/// user pool's ARN (`...:userpool/${PoolId}`): from the `AWS::IAM::Policy` resources attached to it.
/// A statement on another resource, or not an Allow, panics: this model would misjudge it.
pub fn pool_grants(template: &Yaml, binary: &str) -> Vec<String> {
    let Some(role) = role_of(template, binary) else { return Vec::new() };
    let resources = template["Resources"].as_mapping().into_iter().flat_map(|m| m.values());
    let attached = resources
        .filter(|r| r["Type"].as_str() == Some("AWS::IAM::Policy"))
        .filter(|r| {
            r["Properties"]["Roles"].as_sequence().into_iter().flatten().any(|v| tag_value(v) == Some(role.as_str()))
        })
        .flat_map(|r| r["Properties"]["PolicyDocument"]["Statement"].as_sequence().cloned().unwrap_or_default());
    let mut actions = Vec::new();
    for statement in attached {
        let listed: Vec<String> = match &statement["Action"] {
            Yaml::String(a) => vec![a.clone()],
            list => list.as_sequence().into_iter().flatten().filter_map(|a| a.as_str().map(String::from)).collect(),
        };
        let pool: Vec<String> = listed.into_iter().filter(|a| a.starts_with("cognito-idp:")).collect();
        if pool.is_empty() {
            continue;
        }
        let sid = statement["Sid"].as_str().unwrap_or_default();
        assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{binary}: {sid}: only Allow statements are modelled");
        let on_pool = match &statement["Resource"] {
            Yaml::Tagged(sub) => sub.value.as_sequence().and_then(|s| s.first()).and_then(Yaml::as_str),
            _ => None,
        };
        assert!(
            on_pool.is_some_and(|arn| arn.ends_with(":userpool/${PoolId}")),
            "{binary}: {sid}: a cognito-idp statement on something else than the pool's ARN"
        );
        assert!(pool.iter().all(|a| a.starts_with("cognito-idp:Admin")), "{binary}: {sid}: only Admin actions");
        actions.extend(pool);
    }
    actions
}

/// The logical id of the role of the function whose binary is `binary`.
pub fn role_of(template: &Yaml, binary: &str) -> Option<String> {
    let resources = template["Resources"].as_mapping()?;
    let function = resources.values().find(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(binary))?;
    tag_value(&function["Properties"]["Role"])?.strip_suffix(".Arn").map(String::from)
}

/// `!GetAtt X.Arn`, `!Ref X` or `!Sub ...`: the tagged string.
fn tag_value(value: &Yaml) -> Option<&str> {
    match value {
        Yaml::Tagged(tagged) => tagged.value.as_str(),
        _ => None,
    }
}

/// IAM's StringLike: `*` matches any run of characters, `?` any one.
pub fn string_like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    // Classic wildcard matching, backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < v.len() {
        if i < p.len() && (p[i] == '?' || p[i] == v[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

// ------------------------------------------------------------ the bus's policy

/// The account and region a [`Deployment`] stands in.
pub const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const STACK: &str = "account-deletion";

/// The template as one deployment of it resolves: its parameters (else their
/// defaults), pseudo parameters, conditions and the ARNs of its roles.
pub struct Deployment<'a> {
    template: &'a Yaml,
    parameters: std::collections::BTreeMap<String, String>,
}

impl<'a> Deployment<'a> {
    pub fn new(template: &'a Yaml, parameters: &[(&str, &str)]) -> Self {
        let parameters = parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Self { template, parameters }
    }

    /// The ARN of the role `logical`, as `!GetAtt <logical>.Arn` gives it.
    pub fn role_arn(&self, logical: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:role/{logical}")
    }

    /// `value` with its intrinsic functions resolved; `None` for `AWS::NoValue`.
    /// A function this model does not know panics.
    pub fn resolve(&self, value: &Yaml) -> Option<Value> {
        match value {
            Yaml::Tagged(tagged) => {
                let (tag, arg) = (tagged.tag.to_string(), &tagged.value);
                match tag.trim_start_matches('!') {
                    "Ref" => self.reference(arg.as_str().expect("Ref of a name")),
                    "GetAtt" => Some(Value::String(self.attribute(arg.as_str().expect("GetAtt X.Arn")))),
                    "Sub" => Some(Value::String(self.substitute(arg.as_str().expect("Sub of one string")))),
                    "If" => {
                        let [condition, then, otherwise] = arg.as_sequence().expect("If's list").as_slice() else {
                            panic!("If takes three arguments")
                        };
                        let name = condition.as_str().expect("a condition's name");
                        self.resolve(if self.condition(name) { then } else { otherwise })
                    }
                    other => panic!("!{other} is not modelled"),
                }
            }
            Yaml::Sequence(items) => Some(Value::Array(items.iter().filter_map(|i| self.resolve(i)).collect())),
            Yaml::Mapping(map) => Some(Value::Object(
                map.iter()
                    .filter_map(|(k, v)| Some((k.as_str().expect("a string key").to_string(), self.resolve(v)?)))
                    .collect(),
            )),
            Yaml::String(s) => Some(Value::String(s.clone())),
            Yaml::Bool(b) => Some(Value::Bool(*b)),
            Yaml::Number(n) => Some(serde_json::from_str(&n.to_string()).expect("a number")),
            Yaml::Null => Some(Value::Null),
        }
    }

    fn reference(&self, name: &str) -> Option<Value> {
        if name == "AWS::NoValue" {
            return None;
        }
        let Some(spec) = self.template["Parameters"].get(name) else {
            return Some(Value::String(self.pseudo(name).unwrap_or_else(|| name.to_string())));
        };
        let value = self.parameters.get(name).cloned().or_else(|| spec["Default"].as_str().map(String::from));
        let value = value.unwrap_or_else(|| panic!("parameter {name} has neither a value nor a default"));
        Some(match spec["Type"].as_str() {
            // As CloudFormation: an empty list is one empty string.
            Some("CommaDelimitedList") => {
                Value::Array(value.split(',').map(|v| Value::String(v.trim().into())).collect())
            }
            _ => Value::String(value),
        })
    }

    fn pseudo(&self, name: &str) -> Option<String> {
        Some(match name {
            "AWS::Partition" => "aws".into(),
            "AWS::Region" => REGION.into(),
            "AWS::AccountId" => ACCOUNT.into(),
            "AWS::StackName" => STACK.into(),
            _ => return None,
        })
    }

    fn attribute(&self, path: &str) -> String {
        let (logical, attribute) = path.split_once('.').expect("GetAtt X.Attribute");
        let kind = self.template["Resources"][logical]["Type"].as_str();
        assert!(kind == Some("AWS::IAM::Role") && attribute == "Arn", "GetAtt {path} is not modelled");
        self.role_arn(logical)
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let end = rest[start..].find('}').expect("a closed ${...}") + start;
            out.push_str(&rest[..start]);
            let name = &rest[start + 2..end];
            let value = match name.split_once('.') {
                Some(_) => self.attribute(name),
                None => match self.reference(name) {
                    Some(Value::String(s)) => s,
                    other => panic!("${{{name}}} is {other:?}, not a string"),
                },
            };
            out.push_str(&value);
            rest = &rest[end + 1..];
        }
        out + rest
    }

    /// A condition of the template's `Conditions`, evaluated.
    pub fn condition(&self, name: &str) -> bool {
        let expression = &self.template["Conditions"][name];
        assert!(!expression.is_null(), "no condition {name}");
        self.truth(expression)
    }

    fn truth(&self, expression: &Yaml) -> bool {
        let Yaml::Tagged(tagged) = expression else { panic!("a condition is a function: {expression:?}") };
        let args = tagged.value.as_sequence().expect("a condition function's list");
        match tagged.tag.to_string().trim_start_matches('!') {
            "Not" => !self.truth(&args[0]),
            "And" => args.iter().all(|a| self.truth(a)),
            "Or" => args.iter().any(|a| self.truth(a)),
            "Equals" => self.scalar(&args[0]) == self.scalar(&args[1]),
            other => panic!("!{other} in a condition is not modelled"),
        }
    }

    /// A string argument of a condition; `!Join ["", list]` as CloudFormation joins it.
    fn scalar(&self, value: &Yaml) -> String {
        if let Yaml::Tagged(tagged) = value {
            if tagged.tag == "Join" {
                let [separator, list] = tagged.value.as_sequence().expect("Join's list").as_slice() else {
                    panic!("Join takes two arguments")
                };
                let items = self.resolve(list).and_then(|l| l.as_array().cloned()).expect("Join of a list");
                let items: Vec<&str> = items.iter().map(|i| i.as_str().expect("strings")).collect();
                return items.join(separator.as_str().expect("a separator"));
            }
        }
        match self.resolve(value) {
            Some(Value::String(s)) => s,
            other => panic!("{other:?} is not a string"),
        }
    }
}

/// The resource policy of the template's bus, resolved for one deployment.
pub struct BusPolicy {
    arn: String,
    statements: Vec<Value>,
}

impl BusPolicy {
    pub fn of(deployment: &Deployment) -> Self {
        let bus = &deployment.template["Resources"]["EventBus"];
        let name = deployment.resolve(&bus["Properties"]["Name"]).expect("the bus's name");
        let arn = format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{}", name.as_str().expect("a name"));
        let policy = deployment.resolve(&bus["Properties"]["Policy"]).expect("the bus has a policy");
        let statements = policy["Statement"].as_array().expect("statements").clone();
        Self { arn, statements }
    }

    /// The same policy with only the statements of this effect (to show what the others do).
    pub fn only(&self, effect: &str) -> Self {
        let statements = self.statements.iter().filter(|s| s["Effect"] == effect).cloned().collect();
        Self { arn: self.arn.clone(), statements }
    }

    pub fn statements(&self) -> &[Value] {
        &self.statements
    }

    /// Whether `principal` (an IAM ARN) may put one PutEvents call whose entries have these sources.
    /// A principal of the bus's account may hold events:PutEvents in its own policy (the
    /// case to defend against), so only a Deny here stops it; one of another account needs an Allow here too.
    pub fn may_put(&self, principal: &str, sources: &[&str]) -> bool {
        let applies = |effect: &str| {
            self.statements.iter().filter(|s| s["Effect"] == effect).any(|s| self.applies(s, principal, sources))
        };
        let same_account = principal.split(':').nth(4) == Some(ACCOUNT);
        !applies("Deny") && (same_account || applies("Allow"))
    }

    fn applies(&self, statement: &Value, principal: &str, sources: &[&str]) -> bool {
        let sid = statement["Sid"].as_str().unwrap_or("a statement");
        assert!(["Allow", "Deny"].contains(&statement["Effect"].as_str().unwrap_or("")), "{sid}: no Effect");
        assert_eq!(statement["Resource"], self.arn.as_str(), "{sid}: a resource other than the bus");
        let actions = strings(&statement["Action"]);
        assert!(actions.iter().all(|a| a.starts_with("events:") && !a.contains('*')), "{sid}: {actions:?}");
        let principals = match &statement["Principal"] {
            Value::String(any) if any == "*" => None,
            p => Some(strings(&p["AWS"])),
        };
        let names_principal = principals.is_none_or(|arns| {
            arns.iter().any(|a| a == principal || *a == format!("arn:aws:iam::{}:root", account_of(principal)))
        });
        actions.iter().any(|a| a == "events:PutEvents")
            && names_principal
            && statement["Condition"].as_object().into_iter().flatten().all(|(operator, keys)| {
                keys.as_object()
                    .expect("a condition's keys")
                    .iter()
                    .all(|(key, values)| holds(sid, operator, key, &strings(values), principal, sources))
            })
    }
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().map(|i| i.as_str().expect("a string").to_string()).collect(),
        other => panic!("{other} is not a string or a list of them"),
    }
}

/// One condition operator on one key, as IAM evaluates it. `events:source` has a
/// value per entry of the call, so it takes ForAnyValue or ForAllValues; without
/// one, IAM's answer for several entries is not what a reader expects, and this panics.
fn holds(sid: &str, operator: &str, key: &str, patterns: &[String], principal: &str, sources: &[&str]) -> bool {
    let (set, base) = match operator.split_once(':') {
        Some((set, base)) => (Some(set), base),
        None => (None, operator),
    };
    let negated = base.contains("Not");
    let like = match base.replace("Not", "").as_str() {
        "StringEquals" | "ArnEquals" => false,
        "StringLike" | "ArnLike" => true,
        other => panic!("{sid}: {other} is not modelled"),
    };
    let values: Vec<&str> = match key {
        "events:source" => sources.to_vec(),
        "aws:PrincipalArn" => vec![principal],
        other => panic!("{sid}: the key {other} is not modelled"),
    };
    let matches = |v: &str| patterns.iter().any(|p| if like { string_like(p, v) } else { p == v });
    let one = |v: &str| matches(v) != negated;
    match set {
        Some("ForAnyValue") => values.iter().any(|v| one(v)),
        Some("ForAllValues") => values.iter().all(|v| one(v)),
        None if key == "events:source" => {
            panic!("{sid}: {operator} on events:source needs ForAnyValue or ForAllValues")
        }
        None => one(values[0]),
        Some(other) => panic!("{sid}: {other} is not modelled"),
    }
}

// ------------------------------------------------------------ the export bucket

/// One S3 request as IAM authorises it: the action and the object key (`None`: the bucket itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Access {
    pub action: &'static str,
    pub key: Option<String>,
}

/// The S3 requests a stack's functions made, recorded by an SDK interceptor (moto enforces no IAM).
#[derive(Debug, Clone, Default)]
pub struct S3Log(std::sync::Arc<std::sync::Mutex<Vec<S3Access>>>);

impl S3Log {
    pub fn take(&self) -> Vec<S3Access> {
        self.0.lock().map(|mut log| std::mem::take(&mut *log)).unwrap_or_default()
    }

    /// An S3 client on the local stack whose requests land in this log.
    pub fn client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
        let config =
            aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).interceptor(S3Recorder(self.clone())).build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

#[derive(Debug)]
struct S3Recorder(S3Log);

impl aws_sdk_s3::config::Intercept for S3Recorder {
    fn name(&self) -> &'static str {
        "journeys-s3-recorder"
    }

    fn read_before_transmit(
        &self,
        ctx: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let request = ctx.request();
        let access = s3_access(request.method(), request.uri());
        if let Ok(mut log) = (self.0).0.lock() {
            log.push(access);
        }
        Ok(())
    }
}

/// What a path-style S3 request asks IAM for: multipart steps are `s3:PutObject`, a HEAD `s3:GetObject`.
pub fn s3_access(method: &str, uri: &str) -> S3Access {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let path = path.split_once("://").map_or(path, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    let key =
        path.trim_start_matches('/').split_once('/').map(|(_, key)| percent_decode(key)).filter(|k| !k.is_empty());
    let has = |param: &str| query.split('&').any(|p| p == param || p.starts_with(&format!("{param}=")));
    let action = match (method, key.is_some()) {
        ("DELETE", true) if has("uploadId") => "s3:AbortMultipartUpload",
        ("DELETE", true) => "s3:DeleteObject",
        ("GET" | "HEAD", true) => "s3:GetObject",
        ("PUT" | "POST", true) => "s3:PutObject",
        ("GET", false) if has("uploads") => "s3:ListBucketMultipartUploads",
        ("GET", false) => "s3:ListBucket",
        _ => "s3:Unknown",
    };
    S3Access { action, key }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One Allow statement of a role on the export bucket's objects.
#[derive(Debug, Clone)]
pub struct S3Grant {
    pub sid: String,
    pub actions: Vec<String>,
    /// The object keys it covers, as an IAM pattern (`exports/*`).
    pub keys: String,
}

/// The statements of `binary`'s role on the export bucket's objects (`${ExportBucket.Arn}/<pattern>`).
/// A statement on the bucket itself, or a Deny, panics: this model does not judge it.
pub fn s3_grants(template: &Yaml, binary: &str) -> Vec<S3Grant> {
    let Some(role) = role_of(template, binary) else { return Vec::new() };
    template["Resources"][role.as_str()]["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|s| {
            let resource = tag_value(&s["Resource"])?;
            let rest = resource.strip_prefix("${ExportBucket.Arn}")?;
            let sid = s["Sid"].as_str().unwrap_or_default().to_string();
            assert_eq!(s["Effect"].as_str(), Some("Allow"), "{binary}: {sid}: only Allow statements are modelled");
            let keys = rest.strip_prefix('/').unwrap_or_else(|| panic!("{binary}: {sid}: a bucket statement"));
            let actions = match &s["Action"] {
                Yaml::String(a) => vec![a.clone()],
                list => list.as_sequence()?.iter().filter_map(|a| a.as_str().map(String::from)).collect(),
            };
            Some(S3Grant { sid, actions, keys: keys.to_string() })
        })
        .collect()
}

/// The statement that grants `access`, if one does.
pub fn granting_s3<'a>(grants: &'a [S3Grant], access: &S3Access) -> Option<&'a S3Grant> {
    let key = access.key.as_deref()?;
    grants.iter().find(|g| g.actions.iter().any(|a| a == access.action) && string_like(&g.keys, key))
}

#[cfg(test)]
mod s3_tests {
    use super::*;

    #[test]
    fn an_s3_request_is_the_action_iam_authorises() {
        let at = |m: &str, u: &str| s3_access(m, u);
        let base = "http://127.0.0.1:5000/b/exports/alice%231/exp_1.json";
        assert_eq!(at("POST", &format!("{base}?uploads")).action, "s3:PutObject");
        assert_eq!(at("PUT", &format!("{base}?partNumber=1&uploadId=x")).action, "s3:PutObject");
        assert_eq!(at("DELETE", &format!("{base}?uploadId=x")).action, "s3:AbortMultipartUpload");
        assert_eq!(
            at("DELETE", base),
            S3Access { action: "s3:DeleteObject", key: Some("exports/alice#1/exp_1.json".into()) }
        );
        assert_eq!(at("HEAD", base).action, "s3:GetObject");
        assert_eq!(at("GET", "http://127.0.0.1:5000/b?list-type=2").action, "s3:ListBucket");
    }
}
