//! Checks answers against `docs/openapi.json`: a small validator for the
//! subset of JSON Schema the document uses (`$ref`, `type` with `null`,
//! `required`, `properties`, `additionalProperties`, `items`, `enum`,
//! `oneOf`, `minimum`/`maximum`, `pattern` as a hex check). A field the API
//! returns and the document does not list, or the reverse, fails the test.

use serde_json::{Value, json};

/// The document.
pub fn document() -> Value {
    let text = fs_err::read_to_string(crate::repo_root().join("docs/openapi.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Panics with the path of the first mismatch between `value` and the
/// component schema `name`.
pub fn assert_schema(document: &Value, name: &str, value: &Value) {
    let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
    if let Err(error) = check(document, &schema, value, "$") {
        panic!("answer does not match {name}: {error}\n{value:#}");
    }
}

fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            let target = document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling $ref {reference}"));
            resolve(document, target)
        }
        None => schema,
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(expected: &str, actual: &str) -> bool {
    expected == actual || (expected == "number" && actual == "integer")
}

fn check(document: &Value, schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    let schema = resolve(document, schema);
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|option| check(document, option, value, path).is_ok())
            .count();
        return if matching == 1 {
            Ok(())
        } else {
            Err(format!("{path}: {matching} of oneOf match"))
        };
    }
    let actual = type_of(value);
    match schema.get("type") {
        Some(Value::String(expected)) if !type_matches(expected, actual) => {
            return Err(format!("{path}: {actual}, expected {expected}"));
        }
        Some(Value::Array(expected))
            if !expected
                .iter()
                .filter_map(Value::as_str)
                .any(|e| type_matches(e, actual)) =>
        {
            return Err(format!("{path}: {actual}, expected one of {expected:?}"));
        }
        _ => {}
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{path}: {value} not in {options:?}"));
    }
    if let Some(minimum) = schema.get("minimum").and_then(Value::as_f64)
        && value.as_f64().is_some_and(|v| v < minimum)
    {
        return Err(format!("{path}: {value} < {minimum}"));
    }
    if let Some(maximum) = schema.get("maximum").and_then(Value::as_f64)
        && value.as_f64().is_some_and(|v| v > maximum)
    {
        return Err(format!("{path}: {value} > {maximum}"));
    }
    if let (Some(pattern), Some(text)) = (
        schema.get("pattern").and_then(Value::as_str),
        value.as_str(),
    ) {
        // The document's patterns are all `^[0-9a-f]{N}$`.
        let length: usize = pattern
            .trim_start_matches("^[0-9a-f]{")
            .trim_end_matches("}$")
            .parse()
            .unwrap_or_else(|_| panic!("unsupported pattern {pattern}"));
        if text.len() != length
            || !text
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(format!("{path}: {text:?} does not match {pattern}"));
        }
    }
    match value {
        Value::Object(object) => {
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for field in required.iter().filter_map(Value::as_str) {
                    if !object.contains_key(field) {
                        return Err(format!("{path}: missing required `{field}`"));
                    }
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (key, item) in object {
                let item_path = format!("{path}.{key}");
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(property), _) => check(document, property, item, &item_path)?,
                    (None, Some(Value::Bool(false))) => {
                        return Err(format!("{path}: `{key}` is not in the document"));
                    }
                    (None, Some(additional)) if additional.is_object() => {
                        check(document, additional, item, &item_path)?;
                    }
                    (None, _) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(document, schema, item, &format!("{path}[{i}]"))?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}
