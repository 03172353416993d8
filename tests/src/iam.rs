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
