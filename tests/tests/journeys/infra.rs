//! The template, the OpenAPI document and the workspace agree, and the table
//! the local stack creates is the one the template defines.

use journeys::harness::TestStack;
use journeys::iam::{role_of, BusPolicy, Deployment, ACCOUNT};
use journeys::localstack::{table_definition, template_path};
use serde_norway::Value;
use std::collections::BTreeSet;

fn yaml(path: &std::path::Path) -> Value {
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// (binary, routes) of every function in the template.
fn template_functions() -> Vec<(String, BTreeSet<String>)> {
    let template = yaml(&template_path());
    let resources = template["Resources"].as_mapping().unwrap();
    resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|f| {
            let binary = f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("every function names its Binary")
                .to_string();
            let routes = f["Properties"]["Events"]
                .as_mapping()
                .into_iter()
                .flat_map(|events| events.values())
                .filter(|e| e["Type"].as_str() == Some("HttpApi"))
                .map(|e| {
                    format!(
                        "{} {}",
                        e["Properties"]["Method"].as_str().unwrap().to_uppercase(),
                        e["Properties"]["Path"].as_str().unwrap()
                    )
                })
                .collect();
            (binary, routes)
        })
        .collect()
}

#[test]
fn every_function_in_the_template_is_a_binary_of_the_workspace_and_back() {
    let in_template: BTreeSet<String> = template_functions().into_iter().map(|(b, _)| b).collect();
    let in_workspace: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| root().join("functions").join(name).join("src/main.rs").exists())
        .collect();
    assert_eq!(in_template, in_workspace);
    // The functions of docs/api.md#functions.
    let expected: BTreeSet<String> = [
        "send-code",
        "verify-code",
        "check-prerequisites",
        "dismiss-enterprise",
        "delete-account",
        "cleanup",
        "handover-account",
        "publish-events",
        "cancel-deletion",
        "erasure-ledger",
        "export-data",
        "sign-up-triggers",
    ]
    .map(String::from)
    .into();
    assert_eq!(in_workspace, expected);
}

#[test]
fn the_routes_of_the_template_are_the_apis_and_the_openapi_documents_them() {
    let routes: BTreeSet<String> = template_functions().into_iter().flat_map(|(_, r)| r).collect();
    // The routes of docs/api.md#functions.
    let expected: BTreeSet<String> = [
        "POST /v1/verification-codes",
        "POST /v1/verification-codes/verify",
        "GET /v1/account/deletion-prerequisites",
        "POST /v1/enterprise/dismissal",
        "POST /v1/account/deletion",
        "POST /v1/account/handover",
        "POST /v1/account/deletion/cancellation",
        "GET /v1/erasure-ledger/{account_id}",
    ]
    .map(String::from)
    .into();
    assert!(expected.is_subset(&routes), "missing: {:?}", expected.difference(&routes).collect::<Vec<_>>());
    let openapi = yaml(&root().join("infra/openapi.yaml"));
    let documented: BTreeSet<String> = openapi["paths"]
        .as_mapping()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            let path = path.as_str().unwrap().to_string();
            ops.as_mapping()
                .unwrap()
                .keys()
                .filter_map(|m| m.as_str())
                .filter(|m| ["get", "post", "put", "delete", "patch"].contains(m))
                .map(move |m| format!("{} {path}", m.to_uppercase()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(documented, routes, "openapi.yaml and template.yaml disagree");
    // Every error code of docs/api.md#errors is documented.
    let text = std::fs::read_to_string(root().join("infra/openapi.yaml")).unwrap();
    for code in [
        "unauthenticated",
        "invalid_request",
        "unsupported_purpose",
        "account_not_found",
        "account_deleted",
        "email_not_bound",
        "resend_too_soon",
        "daily_limit_reached",
        "mail_unavailable",
        "code_incorrect",
        "code_expired",
        "verification_locked",
        "token_invalid",
        "not_default_admin",
        "enterprise_not_active",
        "prerequisites_unmet",
        "deletion_not_scheduled",
        "internal",
    ] {
        assert!(text.contains(code), "openapi.yaml does not mention {code}");
    }
}

#[tokio::test]
async fn the_local_table_is_the_one_the_template_defines() {
    let stack = TestStack::with_stream().await;
    let def = table_definition().unwrap();
    let table = stack.dynamo.describe_table().table_name(&stack.table).send().await.unwrap().table.unwrap();
    let keys: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string()))
        .collect();
    let expected: Vec<(String, String)> = def["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| (k["AttributeName"].as_str().unwrap().to_string(), k["KeyType"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(keys, expected);
    let attributes: BTreeSet<(String, String)> = table
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name().to_string(), a.attribute_type().as_str().to_string()))
        .collect();
    let expected: BTreeSet<(String, String)> = def["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| (a["AttributeName"].as_str().unwrap().to_string(), a["AttributeType"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(attributes, expected);
    let indexes: Vec<String> = table
        .global_secondary_indexes()
        .iter()
        .map(|g| format!("{} {:?}", g.index_name().unwrap(), g.projection().and_then(|p| p.projection_type())))
        .collect();
    assert_eq!(indexes, ["due Some(KeysOnly)"]);
    assert_eq!(def["GlobalSecondaryIndexes"][0]["IndexName"].as_str(), Some(shared::store::DUE_INDEX));
    let ttl = stack.dynamo.describe_time_to_live().table_name(&stack.table).send().await.unwrap();
    assert_eq!(
        ttl.time_to_live_description().and_then(|t| t.attribute_name()),
        def["TimeToLiveSpecification"]["AttributeName"].as_str()
    );
    assert!(table.stream_specification().is_some_and(|s| s.stream_enabled()));
    stack.finish().await;
}

/// The roles of every function of the template: (binary, ARN).
fn function_roles(deployment: &Deployment, template: &Value) -> Vec<(String, String)> {
    template_functions()
        .into_iter()
        .map(|(binary, _)| {
            let role = role_of(template, &binary).expect("every function has a role");
            (binary, deployment.role_arn(&role))
        })
        .collect()
}

const BILLING_REPORTER: &str = "arn:aws:iam::210987654321:role/billing-erasure"; // another account
const STORAGE_REPORTER: &str = "arn:aws:iam::123456789012:role/storage-erasure"; // the bus's account
const ANYONE: &str = "arn:aws:iam::123456789012:role/anyone"; // the bus's account, events:PutEvents in its own policy

#[test]
fn the_bus_takes_deletion_facts_from_publish_events_alone_and_a_systems_reports_from_its_reporters_alone() {
    let template = yaml(&template_path());
    let deployment = Deployment::new(
        &template,
        &[
            ("ErasureSystem1", "billing"),
            ("ErasureReporters1", BILLING_REPORTER),
            ("ErasureSystem2", "storage"),
            ("ErasureReporters2", STORAGE_REPORTER),
            // Named without roles: nobody reports for it.
            ("ErasureSystem3", "analytics"),
        ],
    );
    let bus = BusPolicy::of(&deployment);
    let roles = function_roles(&deployment, &template);
    let publish_events = &roles.iter().find(|(binary, _)| binary == "publish-events").expect("publish-events").1;
    let root = format!("arn:aws:iam::{ACCOUNT}:root");
    let stranger = "arn:aws:iam::999999999999:role/anyone";

    assert!(bus.may_put(publish_events, &["account-deletion"]));
    for (binary, role) in roles.iter().filter(|(binary, _)| binary != "publish-events") {
        assert!(!bus.may_put(role, &["account-deletion"]), "{binary} may put account-deletion");
    }
    for principal in [ANYONE, &root, stranger, BILLING_REPORTER, STORAGE_REPORTER] {
        assert!(!bus.may_put(principal, &["account-deletion"]), "{principal} may put account-deletion");
    }

    assert!(bus.may_put(BILLING_REPORTER, &["erasure.billing"]));
    assert!(bus.may_put(STORAGE_REPORTER, &["erasure.storage"]));
    assert!(!bus.may_put(BILLING_REPORTER, &["erasure.storage"]), "billing reports for storage");
    assert!(!bus.may_put(STORAGE_REPORTER, &["erasure.billing"]), "storage reports for billing");
    let everyone_else = roles.iter().map(|(_, role)| role.as_str()).chain([ANYONE, root.as_str(), stranger]);
    for principal in everyone_else {
        for source in ["erasure.billing", "erasure.storage", "erasure.analytics", "erasure.logs"] {
            assert!(!bus.may_put(principal, &[source]), "{principal} may put {source}");
        }
    }
    for reporter in [BILLING_REPORTER, STORAGE_REPORTER] {
        assert!(!bus.may_put(reporter, &["erasure.analytics"]), "{reporter} reports for a system without reporters");
    }

    // A call is judged whole: one forged entry among its ten refuses it.
    assert!(!bus.may_put(BILLING_REPORTER, &["erasure.billing", "account-deletion"]));
    assert!(!bus.may_put(STORAGE_REPORTER, &["erasure.storage", "erasure.billing"]));
    assert!(!bus.may_put(publish_events, &["account-deletion", "erasure.billing"]));
}

#[test]
fn the_bus_policys_denies_are_what_stops_a_principal_of_the_account() {
    let template = yaml(&template_path());
    let deployment =
        Deployment::new(&template, &[("ErasureSystem1", "billing"), ("ErasureReporters1", BILLING_REPORTER)]);
    let bus = BusPolicy::of(&deployment);
    // Its allows alone would let a role of the account put anything: the check above rests on the denies.
    let allows = bus.only("Allow");
    assert!(allows.may_put(ANYONE, &["account-deletion"]) && allows.may_put(ANYONE, &["erasure.billing"]));
    assert!(!bus.may_put(ANYONE, &["account-deletion"]) && !bus.may_put(ANYONE, &["erasure.billing"]));
    // And without an allow another account puts nothing, even a source no deny names.
    assert!(!bus.only("Deny").may_put(BILLING_REPORTER, &["erasure.billing"]));
}

#[test]
fn without_reporters_no_one_reports_for_any_system_and_unused_slots_allow_nothing() {
    let template = yaml(&template_path());
    let deployment = Deployment::new(&template, &[]);
    let bus = BusPolicy::of(&deployment);
    assert!(bus.statements().iter().all(|s| s["Effect"] == "Deny" || s["Sid"] == "PublishEventsPutsTheDeletionFacts"));
    for principal in [ANYONE, BILLING_REPORTER, STORAGE_REPORTER] {
        assert!(!bus.may_put(principal, &["erasure.billing"]), "{principal} reports with no reporter configured");
    }
    let publish_events = deployment.role_arn(&role_of(&template, "publish-events").expect("its role"));
    assert!(bus.may_put(&publish_events, &["account-deletion"]));
}

#[test]
fn every_statement_of_every_role_and_of_the_bus_says_what_it_allows() {
    let template = yaml(&template_path());
    let resources = template["Resources"].as_mapping().unwrap();
    let documents = resources.iter().flat_map(|(name, r)| {
        let name = name.as_str().unwrap().to_string();
        let inline = r["Properties"]["Policies"].as_sequence().into_iter().flatten().map(|p| &p["PolicyDocument"]);
        let own = [&r["Properties"]["PolicyDocument"], &r["Properties"]["Policy"]].into_iter();
        inline.chain(own).filter(|d| !d.is_null()).map(move |d| (name.clone(), d))
    });
    let mut statements = 0;
    for (name, document) in documents {
        let mut sids = BTreeSet::new();
        for statement in document["Statement"].as_sequence().unwrap() {
            // A slot's statement sits in an !If.
            let statement = match statement {
                Value::Tagged(tagged) => &tagged.value.as_sequence().unwrap()[1],
                plain => plain,
            };
            let sid = statement["Sid"].as_str().unwrap_or_else(|| panic!("{name}: a statement without a Sid"));
            assert!(sid.chars().all(|c| c.is_ascii_alphanumeric()), "{name}: {sid}");
            assert!(sids.insert(sid.to_string()), "{name}: {sid} twice");
            statements += 1;
        }
    }
    assert!(statements > 50, "only {statements} statements found");
}

/// A role may read the code secret exactly when its function's `USES` say it hashes codes or
/// tokens: the functions that never read it hold no grant to.
#[test]
fn only_the_functions_that_hash_may_read_the_code_secret() {
    let template = yaml(&template_path());
    let resources = template["Resources"].as_mapping().unwrap();
    let tagged = |v: &Value| match v {
        Value::Tagged(t) => t.value.as_str().unwrap().to_string(),
        other => panic!("a !Ref or !GetAtt: {other:?}"),
    };
    let readers: BTreeSet<String> = template["Resources"]["CodeSecretReadPolicy"]["Properties"]["Roles"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(tagged)
        .collect();
    let uses = |binary: &str| match binary {
        "send-code" => send_code::USES,
        "verify-code" => verify_code::USES,
        "check-prerequisites" => check_prerequisites::USES,
        "dismiss-enterprise" => dismiss_enterprise::USES,
        "delete-account" => delete_account::USES,
        "cleanup" => cleanup::USES,
        "handover-account" => handover_account::USES,
        "cancel-deletion" => cancel_deletion::USES,
        "erasure-ledger" => erasure_ledger::USES,
        "export-data" => export_data::USES,
        "sign-up-triggers" => sign_up_triggers::USES,
        other => panic!("{other} has no USES"),
    };
    let mut checked = 0;
    for function in resources.values().filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function")) {
        let binary = function["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        if binary == "publish-events" {
            continue; // its own start: the bus client alone, no App
        }
        let role = tagged(&function["Properties"]["Role"]).trim_end_matches(".Arn").to_string();
        assert_eq!(readers.contains(&role), uses(binary).keys, "{binary}: role {role}");
        checked += 1;
    }
    assert_eq!(checked, 11, "every function but publish-events");
}
