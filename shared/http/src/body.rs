use lambda_http::{Body, Request};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::{ApiError, FieldError};

/// The largest JSON body any route accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Parses a JSON request body into `T`.
///
/// Wrong content type → 415, over [`MAX_BODY_BYTES`] → 413, malformed JSON → 400
/// `invalid_json`, well-formed JSON of the wrong shape → 422 `validation_failed` naming the
/// field serde complained about. Never a 500.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"))
        .unwrap_or("");
    if !is_json(content_type) {
        return Err(ApiError::unsupported_media_type(content_type));
    }
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large(MAX_BODY_BYTES));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_json("the request body is empty"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut value = match deserialize_whole(&mut de) {
        Ok(value) => value,
        Err(e) => {
            return Err(ApiError::invalid_json(format!(
                "malformed JSON at line {} column {}",
                e.line(),
                e.column()
            )))
        }
    };
    // Every request body of this API is an object. serde would also read a struct from an
    // array, by position (`[null, null]`), which nobody means.
    if !value.is_object() {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "invalid_type",
            "the body must be a JSON object",
        )]));
    }
    integral_numbers_as_integers(&mut value);
    // The JSON is well-formed by now: every error left is about its shape.
    T::deserialize(value).map_err(|e| {
        ApiError::validation(vec![FieldError::new(
            "body",
            "invalid_type",
            data_error_message(&e),
        )])
    })
}

/// Reads one JSON value and insists nothing but whitespace follows it.
fn deserialize_whole(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
) -> Result<serde_json::Value, serde_json::Error> {
    let value = serde_json::Value::deserialize(&mut *de)?;
    de.end()?;
    Ok(value)
}

/// JSON has one number type, and JSON Schema (so openapi.yaml) counts `3.0` as the
/// integer 3: a client that writes integers as floats must not be refused. Only exactly
/// integral values within ±2^53 (where every integer is exact in an f64) are converted.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT) {
                *value = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        serde_json::Value::Object(fields) => {
            fields.values_mut().for_each(integral_numbers_as_integers)
        }
        _ => {}
    }
}

/// serde's data errors say what was wrong ("missing field `name`", "unknown field `x`")
/// followed by a position; the position is noise for a client, the rest is useful.
fn data_error_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Thing {
        name: String,
    }

    fn request(content_type: Option<&str>, body: Body) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/x");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(body).unwrap()
    }

    fn code(result: Result<Thing, ApiError>) -> (u16, &'static str) {
        let e = result.unwrap_err();
        (e.status.as_u16(), e.code)
    }

    #[test]
    fn integers_written_as_floats_are_integers_and_fractions_are_not() {
        #[derive(Debug, Deserialize)]
        struct Counted {
            n: u32,
        }
        let parse = |body: &str| {
            json_body::<Counted>(&request(Some("application/json"), Body::Text(body.into())))
        };
        assert_eq!(parse(r#"{"n": 16781.0}"#).unwrap().n, 16781);
        assert_eq!(parse(r#"{"n": 1e2}"#).unwrap().n, 100);
        let refused = parse(r#"{"n": 1.5}"#).unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.code),
            (422, "validation_failed")
        );
        let refused = parse(r#"[16781]"#).unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.code),
            (422, "validation_failed")
        );
        let refused = parse(r#"{"n": 1.0"#).unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.code),
            (400, "invalid_json")
        );
    }

    #[test]
    fn accepts_json_with_charset() {
        let req = request(
            Some("application/json; charset=utf-8"),
            Body::Text(r#"{"name":"a"}"#.into()),
        );
        assert_eq!(json_body::<Thing>(&req).unwrap().name, "a");
    }

    #[test]
    fn wrong_or_missing_content_type_is_415() {
        let req = request(Some("text/plain"), Body::Text(r#"{"name":"a"}"#.into()));
        assert_eq!(code(json_body(&req)), (415, "unsupported_media_type"));
        let req = request(None, Body::Text(r#"{"name":"a"}"#.into()));
        assert_eq!(code(json_body(&req)), (415, "unsupported_media_type"));
    }

    #[test]
    fn malformed_or_empty_json_is_400() {
        for body in ["{\"name\":", "not json", "", "{\"name\":\"a\"} trailing"] {
            let req = request(Some("application/json"), Body::Text(body.into()));
            assert_eq!(code(json_body(&req)), (400, "invalid_json"), "{body:?}");
        }
    }

    #[test]
    fn wrong_shape_is_422_naming_the_problem() {
        let req = request(
            Some("application/json"),
            Body::Text(r#"{"nme":"a"}"#.into()),
        );
        let e = json_body::<Thing>(&req).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (422, "validation_failed"));
        assert!(
            e.errors()[0].message.contains("unknown field `nme`"),
            "{:?}",
            e.errors()
        );
    }

    #[test]
    fn over_one_mebibyte_is_413() {
        let big = format!("{{\"name\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        let req = request(Some("application/json"), Body::Binary(big.into_bytes()));
        assert_eq!(code(json_body(&req)), (413, "payload_too_large"));
    }
}
