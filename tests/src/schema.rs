//! A JSON Schema checker for the keywords docs/events/*.schema.json use
//! (`type`, `required`, `properties`, `additionalProperties`, `const`,
//! `minLength`, `minimum`, `format` date-time and uuid). Any other keyword is
//! an error, so a schema can never pass an event by using one it skips.

use serde_json::Value;

const ANNOTATIONS: [&str; 4] = ["$schema", "$id", "title", "description"];

/// The first way `value` breaks `schema`, with its path.
pub fn check(schema: &Value, value: &Value) -> Result<(), String> {
    check_at(schema, value, "$")
}

fn check_at(schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    let rules = schema.as_object().ok_or_else(|| format!("{path}: a schema must be an object"))?;
    let fail = |why: String| Err(format!("{path}: {why} (value {value})"));
    for (keyword, arg) in rules {
        match keyword.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "type" => {
                let ok = match arg.as_str() {
                    Some("object") => value.is_object(),
                    Some("string") => value.is_string(),
                    Some("integer") => value.is_i64() || value.is_u64(),
                    Some("number") => value.is_number(),
                    Some("boolean") => value.is_boolean(),
                    Some("array") => value.is_array(),
                    Some("null") => value.is_null(),
                    _ => return fail(format!("unsupported type {arg}")),
                };
                if !ok {
                    return fail(format!("not of type {arg}"));
                }
            }
            "const" if value != arg => return fail(format!("not {arg}")),
            "const" => {}
            "required" => {
                for name in arg.as_array().into_iter().flatten().filter_map(Value::as_str) {
                    if value.get(name).is_none() {
                        return fail(format!("{name} missing"));
                    }
                }
            }
            "properties" => {
                let props = arg.as_object().ok_or_else(|| format!("{path}: properties must be an object"))?;
                for (name, sub) in props {
                    if let Some(member) = value.get(name) {
                        check_at(sub, member, &format!("{path}.{name}"))?;
                    }
                }
            }
            "additionalProperties" => {
                let known = rules.get("properties").and_then(Value::as_object);
                if arg == &Value::Bool(false) {
                    for name in value.as_object().into_iter().flat_map(|o| o.keys()) {
                        if !known.is_some_and(|k| k.contains_key(name)) {
                            return fail(format!("{name} is not allowed"));
                        }
                    }
                } else if arg != &Value::Bool(true) {
                    return fail("additionalProperties must be a boolean here".into());
                }
            }
            "minLength" => {
                if value.as_str().is_some_and(|s| (s.chars().count() as u64) < arg.as_u64().unwrap_or(0)) {
                    return fail(format!("shorter than {arg}"));
                }
            }
            "minimum" => {
                if value.as_f64().is_some_and(|n| n < arg.as_f64().unwrap_or(f64::MIN)) {
                    return fail(format!("below {arg}"));
                }
            }
            "format" => {
                let text = value.as_str().unwrap_or("");
                let ok = match arg.as_str() {
                    Some("date-time") => is_date_time(text),
                    Some("uuid") => is_uuid(text),
                    _ => return fail(format!("unsupported format {arg}")),
                };
                if value.is_string() && !ok {
                    return fail(format!("not a {arg}"));
                }
            }
            other => return Err(format!("{path}: the checker does not know the keyword {other}")),
        }
    }
    Ok(())
}

/// RFC 3339 as the bundle writes it: `2026-12-02T03:04:05Z` (fractions and offsets allowed).
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (s.ends_with('Z') || s[19..].contains(['+', '-']))
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_checker_refuses_what_the_schema_forbids_and_keywords_it_does_not_know() {
        let schema = json!({"type": "object", "required": ["a"], "additionalProperties": false,
            "properties": {"a": {"type": "string", "format": "date-time"}, "n": {"type": "integer", "minimum": 0}}});
        assert!(check(&schema, &json!({"a": "2026-12-02T03:04:05Z", "n": 3})).is_ok());
        assert!(check(&schema, &json!({"n": 3})).is_err());
        assert!(check(&schema, &json!({"a": "yesterday"})).is_err());
        assert!(check(&schema, &json!({"a": "2026-12-02T03:04:05Z", "email": "x"})).is_err());
        assert!(check(&schema, &json!({"a": "2026-12-02T03:04:05Z", "n": -1})).is_err());
        assert!(check(&json!({"pattern": "^a"}), &json!("a")).is_err());
        assert!(is_uuid("0123abcd-0123-0123-0123-0123456789ab") && !is_uuid("0123abcd-0123"));
    }
}
