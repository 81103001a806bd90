//! Per-subscription templates for payloads that are not ntfy-shaped, e.g. a CI server sending
//! `{"repo":"api","status":"failed"}` can be shown as `{data.repo}: {data.status}`.
//!
//! Syntax: text with placeholders in braces; `{{` and `}}` are literal braces.
//! - `{data}`: the whole data (JSON or text); `{data.a.b}`: a field of a JSON object, `{data.items.0}`
//!   an array element. A missing field, a non-JSON payload or `null` renders as nothing — a template
//!   never fails at render time and never panics.
//! - `{type}`: the SSE event type; `{id}`: the SSE event id (empty if none); `{subscription}`: the
//!   subscription's name.
//!
//! Strings render as they are, numbers and booleans as text, objects and arrays as compact JSON.
//! Mistakes that are certain (an unclosed `{`, an unknown placeholder such as `{dta.repo}`) are
//! rejected when the configuration is loaded, so the user sees them at once instead of an empty
//! notification.

use serde_json::Value;

use super::NotifyInput;

/// Why a template was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{` without its `}`.
    #[error("unclosed `{{` at byte {0}")]
    Unclosed(usize),
    /// A placeholder that is none of `data…`, `type`, `id`, `subscription`.
    #[error("unknown placeholder `{{{0}}}` (use data, data.<field>, type, id or subscription)")]
    Unknown(String),
}

/// A parsed template. Deserializes from a string (and serializes back to it).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Data(Vec<String>),
    Type,
    Id,
    Subscription,
}

impl Template {
    /// Parses a template, rejecting unclosed braces and unknown placeholders.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = source;
        let mut offset = 0;
        while let Some(i) = rest.find(['{', '}']) {
            text.push_str(&rest[..i]);
            let brace = &rest[i..];
            if brace.starts_with("{{") || brace.starts_with("}}") {
                text.push_str(&brace[..1]);
                rest = &brace[2..];
                offset += i + 2;
                continue;
            }
            if let Some(after) = brace.strip_prefix('}') {
                // A lone closing brace is just text.
                text.push('}');
                rest = after;
                offset += i + 1;
                continue;
            }
            let end = brace.find('}').ok_or(TemplateError::Unclosed(offset + i))?;
            let name = brace[1..end].trim();
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(placeholder(name)?);
            rest = &brace[end + 1..];
            offset += i + end + 1;
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Renders the template for one event; `json` is the data parsed as JSON, if it is JSON.
    pub fn render(&self, input: &NotifyInput, json: Option<&Value>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Type => out.push_str(&input.event_type),
                Part::Id => out.push_str(input.event_id.as_deref().unwrap_or_default()),
                Part::Subscription => out.push_str(&input.subscription_name),
                Part::Data(path) if path.is_empty() => out.push_str(&input.data),
                Part::Data(path) => {
                    if let Some(value) = json.and_then(|json| lookup(json, path)) {
                        push_value(&mut out, value);
                    }
                }
            }
        }
        out
    }
}

fn placeholder(name: &str) -> Result<Part, TemplateError> {
    match name {
        "type" => Ok(Part::Type),
        "id" => Ok(Part::Id),
        "subscription" => Ok(Part::Subscription),
        "data" => Ok(Part::Data(Vec::new())),
        _ => match name.strip_prefix("data.") {
            Some(path) if path.split('.').all(|segment| !segment.is_empty()) => {
                Ok(Part::Data(path.split('.').map(str::to_owned).collect()))
            }
            _ => Err(TemplateError::Unknown(name.to_owned())),
        },
    }
}

/// A dotted path into JSON data (`status`, `build.result`, `items.0.id`: object keys and array
/// indexes), checked when the configuration is loaded. Rules' `field` and `replace_key` use it;
/// templates' `{data.a.b}` placeholders walk the same way.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldPath {
    source: String,
    segments: Vec<String>,
}

impl FieldPath {
    /// Parses `a.b.0`; empty segments (`a..b`, `.a`) are refused.
    pub fn parse(source: &str) -> Result<Self, String> {
        let segments: Vec<String> = source.split('.').map(str::to_owned).collect();
        if segments.iter().any(String::is_empty) {
            return Err(format!(
                "`{source}` is not a dotted path such as `status` or `build.result`"
            ));
        }
        Ok(Self {
            source: source.to_owned(),
            segments,
        })
    }

    /// The value at this path in `json`, if there is one.
    pub fn find<'v>(&self, json: &'v Value) -> Option<&'v Value> {
        lookup(json, &self.segments)
    }

    /// The first segment (`build` of `build.result`).
    pub fn first_segment(&self) -> &str {
        self.segments.first().map_or("", String::as_str)
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl TryFrom<String> for FieldPath {
    type Error = String;
    fn try_from(source: String) -> Result<Self, String> {
        Self::parse(&source)
    }
}

impl From<FieldPath> for String {
    fn from(path: FieldPath) -> Self {
        path.source
    }
}

/// The value at a dotted `path` (`a.b.0`) inside `value`: object keys, array indexes.
fn lookup<'v>(mut value: &'v Value, path: &[String]) -> Option<&'v Value> {
    for segment in path {
        value = match value {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Array(_) | Value::Object(_) => out.push_str(&value.to_string()),
    }
}

impl TryFrom<String> for Template {
    type Error = TemplateError;

    fn try_from(source: String) -> Result<Self, Self::Error> {
        Self::parse(&source)
    }
}

impl From<Template> for String {
    fn from(template: Template) -> Self {
        template.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SubscriptionId;

    fn input(data: &str) -> NotifyInput {
        NotifyInput {
            subscription: SubscriptionId::new("ci"),
            subscription_name: "CI".into(),
            event_key: 1,
            event_id: None,
            event_type: "build".into(),
            data: data.into(),
            received_at: 0,
        }
    }

    fn render(template: &str, data: &str) -> String {
        let template = Template::parse(template).unwrap();
        let input = input(data);
        template.render(&input, serde_json::from_str(data).ok().as_ref())
    }

    #[test]
    fn renders_fields_paths_and_metadata() {
        let data = r#"{"repo":"api","status":"failed","n":3,"ok":false,"items":[{"name":"x"}],"o":{"a":1}}"#;
        assert_eq!(render("{data.repo}: {data.status}", data), "api: failed");
        assert_eq!(
            render("{data.items.0.name} {data.n} {data.ok}", data),
            "x 3 false"
        );
        assert_eq!(render("{data.o}", data), r#"{"a":1}"#);
        assert_eq!(
            render("[{subscription}] {type} #{id}", data),
            "[CI] build #"
        );
        assert_eq!(render("{{literal}} }", data), "{literal} }");
    }

    #[test]
    fn missing_fields_and_non_json_render_empty() {
        assert_eq!(
            render("{data.repo}: {data.status}", r#"{"repo":"api"}"#),
            "api: "
        );
        assert_eq!(render("<{data.a.b.c}>", r#"{"a":"str"}"#), "<>");
        assert_eq!(render("<{data.items.9}>", r#"{"items":[]}"#), "<>");
        assert_eq!(render("<{data.x}>", "not json"), "<>");
        assert_eq!(render("<{data.x}>", "[1,2]"), "<>");
        assert_eq!(render("<{data.x}>", r#"{"x":null}"#), "<>");
        assert_eq!(render("{data}", "raw text"), "raw text");
    }

    #[test]
    fn certain_mistakes_are_rejected_at_load() {
        assert_eq!(
            Template::parse("{data.repo"),
            Err(TemplateError::Unclosed(0))
        );
        assert!(matches!(
            Template::parse("x {dta.repo}"),
            Err(TemplateError::Unknown(_))
        ));
        assert!(matches!(
            Template::parse("{data..x}"),
            Err(TemplateError::Unknown(_))
        ));
        assert!(matches!(
            Template::parse("{}"),
            Err(TemplateError::Unknown(_))
        ));
        let from_toml: Result<Template, _> = serde_json::from_str("\"{nope}\"");
        assert!(from_toml.is_err());
    }

    #[test]
    fn multibyte_text_around_placeholders() {
        assert_eq!(render("é{data.a}ü{{ß}}", r#"{"a":"ö"}"#), "éöü{ß}");
    }
}
