//! Checks a document against a JSON Schema with the `jsonschema` crate, under
//! draft 2020-12 (the draft docs/events/*.schema.json declare).

use serde_json::Value;

/// Every way `value` breaks `schema`, one `path: why` a line (the path a JSON
/// pointer into `value`, "" the whole document); an invalid schema is an error too.
pub fn check(schema: &Value, value: &Value) -> Result<(), String> {
    let validator = jsonschema::draft202012::options()
        // In 2020-12 `format` only annotates unless asked: the schemas mean their date-time and uuid.
        .should_validate_formats(true)
        // A format the crate does not know would constrain nothing: refuse the schema instead.
        .should_ignore_unknown_formats(false)
        .build(schema)
        .map_err(|e| format!("the schema is invalid: {e}"))?;
    let errors: Vec<String> =
        validator.iter_errors(value).map(|e| format!("{:?}: {e}", e.instance_path().as_str())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn handed_over_schema() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/events/account-handed-over.schema.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn handed_over() -> Value {
        json!({"source": "account-deletion", "detail-type": "Account Handed Over", "detail": {
            "event_id": "6f1c2a9e-0b7d-4c55-9e1a-3d2f8b7c4a10", "account_id": "erin",
            "handover_id": "ho-1", "handed_over_at": "2026-12-02T03:04:05Z"}})
    }

    /// The event with the member `name` of the object at `parent` set to `value`.
    fn with(parent: &str, name: &str, value: Value) -> Value {
        let mut event = handed_over();
        event.pointer_mut(parent).unwrap()[name] = value;
        event
    }

    #[test]
    fn an_event_that_breaks_its_schema_fails_naming_the_path() {
        let schema = handed_over_schema();
        assert_eq!(check(&schema, &handed_over()), Ok(()));
        for (parent, name, value, at) in [
            ("/detail", "handed_over_at", json!("yesterday"), "/detail/handed_over_at"),
            ("/detail", "event_id", json!("6f1c2a9e-0b7d"), "/detail/event_id"),
            ("/detail", "account_id", json!(""), "/detail/account_id"),
            ("/detail", "account_id", json!(7), "/detail/account_id"),
            ("/detail", "email", json!("erin@example.com"), "/detail"),
            ("", "source", json!("elsewhere"), "/source"),
        ] {
            let error = check(&schema, &with(parent, name, value.clone())).expect_err(name);
            assert!(error.contains(&format!("{at:?}: ")), "{name} = {value}: {error}");
        }
        let mut event = handed_over();
        event["detail"].as_object_mut().unwrap().remove("handover_id");
        let error = check(&schema, &event).unwrap_err();
        assert!(error.contains("\"/detail\": ") && error.contains("handover_id"), "{error}");
    }

    #[test]
    fn a_schema_with_a_format_the_crate_does_not_know_is_refused() {
        let error = check(&json!({"type": "string", "format": "account-id"}), &json!("erin")).unwrap_err();
        assert!(error.contains("the schema is invalid"), "{error}");
    }
}
