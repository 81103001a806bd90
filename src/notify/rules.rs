//! Per-subscription notification rules: an ordered list in `config.toml`, the first match wins.
//!
//! ```toml
//! [[subscription.notify.rule]]
//! name = "green builds are noise"   # optional, shown by the settings window's "test rule" box
//! event_type = "build"              # the SSE event type equals this
//! field = "status"                  # a JSON field (dotted path: `a.b.0`) …
//! equals = "passed"                 # … whose value (as text) equals this
//! regex = "(?i)\\bflaky\\b"         # a regex found in the title or body (`regex_on`)
//! regex_on = "any"                  # "title", "body" or "any" (default)
//! mute = true                       # then: no notification,
//! # skip = true                     #   or: no notification and not an arrival for the watchdog,
//! # priority = "high"               #   or: this priority instead of the payload's,
//! # mark_read = true                #   and/or: store the event as read.
//! ```
//!
//! Every matcher a rule names must hold (AND); a rule must name at least one matcher and one
//! action. Rules see the notification as it would be shown (after mapping and templates), so a
//! regex matches what a person would read. Patterns are untrusted-input safe by construction: the
//! `regex` crate never backtracks, patterns are capped at [`MAX_PATTERN_CHARS`] and their compiled
//! size at [`REGEX_SIZE_LIMIT`], and titles and bodies are already capped by the mapping.
//!
//! Mistakes are rejected when the configuration is loaded (an invalid regex is reported at its
//! key, `subscription[0].notify.rule[2].regex`), so a rule never fails at run time.

use std::fmt;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::payload::Priority;
use super::template::FieldPath;

/// The longest pattern accepted, in characters.
pub const MAX_PATTERN_CHARS: usize = 512;
/// The most memory one compiled pattern may use (the `regex` crate's size limit), in bytes.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// The most rules one subscription may have: the list is walked for every event.
pub const MAX_RULES: usize = 64;

/// A compiled, size-bounded regex that remembers its source (for saving and comparing).
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    /// Compiles `source`, refusing patterns that are too long or too large once compiled.
    pub fn parse(source: &str) -> Result<Self, String> {
        if source.chars().count() > MAX_PATTERN_CHARS {
            return Err(format!(
                "a pattern may be at most {MAX_PATTERN_CHARS} characters"
            ));
        }
        let regex = RegexBuilder::new(source)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|error| format!("invalid regex: {error}"))?;
        Ok(Self {
            source: source.to_owned(),
            regex,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl TryFrom<String> for Pattern {
    type Error = String;
    fn try_from(source: String) -> Result<Self, String> {
        Self::parse(&source)
    }
}

impl From<Pattern> for String {
    fn from(pattern: Pattern) -> Self {
        pattern.source
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

/// Where a rule's `regex` looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegexTarget {
    /// The title or the body.
    #[default]
    Any,
    /// The title only.
    Title,
    /// The body only.
    Body,
}

impl RegexTarget {
    fn is_any(&self) -> bool {
        *self == Self::Any
    }
}

/// One `[[subscription.notify.rule]]` table as written; [`Rule`] is the checked form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleFields {
    /// A label for people (the settings window shows which rule matched).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Matches when the SSE event type equals this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// A dotted path into the JSON data; used with `equals`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldPath>,
    /// Matches when the value at `field` (a string, number or boolean, as text) equals this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// Matches when this regex is found in the title and/or body (see `regex_on`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex: Option<Pattern>,
    /// Where `regex` looks.
    #[serde(skip_serializing_if = "RegexTarget::is_any")]
    pub regex_on: RegexTarget,
    /// No notification (the event still counts as an arrival for the watchdog).
    #[serde(skip_serializing_if = "is_false")]
    pub mute: bool,
    /// No notification, and not an arrival for the watchdog: as if the event never came.
    #[serde(skip_serializing_if = "is_false")]
    pub skip: bool,
    /// Store the event as read.
    #[serde(skip_serializing_if = "is_false")]
    pub mark_read: bool,
    /// Use this priority instead of the payload's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A checked rule: at least one matcher, at least one action, nothing contradictory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleFields", into = "RuleFields")]
pub struct Rule {
    fields: RuleFields,
}

impl TryFrom<RuleFields> for Rule {
    type Error = String;
    fn try_from(fields: RuleFields) -> Result<Self, String> {
        if fields.field.is_some() != fields.equals.is_some() {
            return Err("`field` and `equals` go together".into());
        }
        if fields.event_type.is_none() && fields.field.is_none() && fields.regex.is_none() {
            return Err(
                "a rule needs something to match: event_type, field + equals, or regex".into(),
            );
        }
        if !(fields.mute || fields.skip || fields.mark_read || fields.priority.is_some()) {
            return Err("a rule needs an action: mute, skip, priority or mark_read".into());
        }
        if fields.mute && fields.skip {
            return Err("`mute` and `skip` exclude each other".into());
        }
        if (fields.mute || fields.skip) && fields.priority.is_some() {
            return Err("`priority` has no effect on an event that is muted or skipped".into());
        }
        Ok(Self { fields })
    }
}

impl From<Rule> for RuleFields {
    fn from(rule: Rule) -> Self {
        rule.fields
    }
}

impl Rule {
    /// The rule as written.
    pub fn fields(&self) -> &RuleFields {
        &self.fields
    }

    /// What the rule does when it matches.
    pub fn effect(&self) -> RuleEffect {
        RuleEffect {
            mute: self.fields.mute,
            skip: self.fields.skip,
            mark_read: self.fields.mark_read,
            priority: self.fields.priority,
        }
    }

    /// Whether every matcher the rule names holds for `subject`.
    pub fn matches(&self, subject: &RuleSubject<'_>) -> bool {
        let f = &self.fields;
        if f.event_type
            .as_deref()
            .is_some_and(|t| t != subject.event_type)
        {
            return false;
        }
        if let Some(expected) = &f.equals {
            let found = subject
                .json
                .zip(f.field.as_ref())
                .and_then(|(json, path)| path.find(json))
                .and_then(scalar_text);
            if found.as_deref() != Some(expected.as_str()) {
                return false;
            }
        }
        if let Some(pattern) = &f.regex {
            let title = || pattern.regex.is_match(subject.title);
            let body = || pattern.regex.is_match(subject.body);
            let found = match f.regex_on {
                RegexTarget::Any => title() || body(),
                RegexTarget::Title => title(),
                RegexTarget::Body => body(),
            };
            if !found {
                return false;
            }
        }
        true
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What a rule looks at: the event and the notification text it would get.
#[derive(Clone, Copy, Debug)]
pub struct RuleSubject<'a> {
    /// The SSE event type.
    pub event_type: &'a str,
    /// The data, when it is JSON.
    pub json: Option<&'a Value>,
    /// The title as it would be shown.
    pub title: &'a str,
    /// The body as it would be shown.
    pub body: &'a str,
}

/// What a matching rule does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleEffect {
    /// No notification.
    pub mute: bool,
    /// No notification and no watchdog arrival.
    pub skip: bool,
    /// Stored as read.
    pub mark_read: bool,
    /// A replacement priority.
    pub priority: Option<Priority>,
}

/// The rule that matched: its position in the list and its effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleMatch {
    /// 0-based index in the subscription's rule list (`rule[index]` in error messages).
    pub index: usize,
    /// The rule's `name`, if it has one.
    pub name: Option<String>,
    /// What it does.
    pub effect: RuleEffect,
}

/// The first rule in `rules` that matches `subject`, if any.
pub fn first_match(rules: &[Rule], subject: &RuleSubject<'_>) -> Option<RuleMatch> {
    rules
        .iter()
        .enumerate()
        .find(|(_, rule)| rule.matches(subject))
        .map(|(index, rule)| RuleMatch {
            index,
            name: rule.fields.name.clone(),
            effect: rule.effect(),
        })
}

/// Deserializes the `rule` list, refusing more than [`MAX_RULES`].
pub(crate) fn deserialize_rules<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Rule>, D::Error> {
    let rules = Vec::<Rule>::deserialize(deserializer)?;
    if rules.len() > MAX_RULES {
        return Err(serde::de::Error::custom(format!(
            "at most {MAX_RULES} rules per subscription"
        )));
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(toml_text: &str) -> Result<Rule, String> {
        toml::from_str::<Rule>(toml_text).map_err(|e| e.to_string())
    }

    fn subject<'a>(
        event_type: &'a str,
        json: Option<&'a Value>,
        title: &'a str,
    ) -> RuleSubject<'a> {
        RuleSubject {
            event_type,
            json,
            title,
            body: "the body",
        }
    }

    #[test]
    fn every_named_matcher_must_hold() {
        let r = rule(
            r#"event_type = "build"
               field = "result.status"
               equals = "passed"
               regex = "(?i)^main"
               regex_on = "title"
               mute = true"#,
        )
        .unwrap();
        let json: Value = serde_json::json!({"result": {"status": "passed"}});
        assert!(r.matches(&subject("build", Some(&json), "MAIN is green")));
        assert!(!r.matches(&subject("deploy", Some(&json), "main")), "type");
        assert!(
            !r.matches(&subject("build", None, "main")),
            "no JSON, no field"
        );
        let failed = serde_json::json!({"result": {"status": "failed"}});
        assert!(
            !r.matches(&subject("build", Some(&failed), "main")),
            "value"
        );
        assert!(!r.matches(&subject("build", Some(&json), "dev")), "regex");
        let in_body = RuleSubject {
            body: "main",
            ..subject("build", Some(&json), "dev")
        };
        assert!(!r.matches(&in_body), "regex_on = title ignores the body");
    }

    #[test]
    fn field_values_compare_as_text_and_paths_reach_into_arrays() {
        let r = rule("field = \"items.1.code\"\nequals = \"5\"\nskip = true").unwrap();
        let json = serde_json::json!({"items": [{"code": 1}, {"code": 5}]});
        assert!(r.matches(&subject("x", Some(&json), "")));
        let r = rule("field = \"ok\"\nequals = \"true\"\nmark_read = true").unwrap();
        assert!(r.matches(&subject("x", Some(&serde_json::json!({"ok": true})), "")));
        assert!(!r.matches(&subject(
            "x",
            Some(&serde_json::json!({"ok": {"a": 1}})),
            ""
        )));
    }

    #[test]
    fn the_first_match_wins() {
        let rules: Vec<Rule> = [
            "name = \"a\"\nevent_type = \"ping\"\nskip = true",
            "name = \"b\"\nregex = \"down\"\npriority = \"urgent\"",
            "name = \"c\"\nregex = \"^o\"\nmute = true",
        ]
        .iter()
        .map(|t| rule(t).unwrap())
        .collect();
        let hit = first_match(&rules, &subject("alert", None, "db is down")).unwrap();
        assert_eq!((hit.index, hit.name.as_deref()), (1, Some("b")));
        assert_eq!(hit.effect.priority, Some(Priority::Urgent));
        let hit = first_match(&rules, &subject("ping", None, "down")).unwrap();
        assert_eq!(hit.index, 0);
        assert!(hit.effect.skip);
        assert_eq!(first_match(&rules, &subject("x", None, "yes")), None);
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        let cases = [
            ("mute = true", "something to match"),
            ("event_type = \"x\"", "an action"),
            ("field = \"a\"\nmute = true", "go together"),
            (
                "field = \"a..b\"\nequals = \"1\"\nmute = true",
                "dotted path",
            ),
            ("event_type = \"x\"\nmute = true\nskip = true", "exclude"),
            ("event_type = \"x\"\nskip = true\npriority = 5", "no effect"),
            ("regex = \"(unclosed\"\nmute = true", "invalid regex"),
            ("regex = \"a\"\nmute = true\nmutee = true", "mutee"),
            ("regex = \"a\"\nregex_on = \"both\"\nmute = true", "both"),
        ];
        for (text, expected) in cases {
            let err = rule(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn patterns_are_bounded() {
        let long = "a".repeat(MAX_PATTERN_CHARS + 1);
        assert!(Pattern::parse(&long).unwrap_err().contains("at most"));
        // Short to write, huge to compile: refused by the size limit, not built.
        let err = Pattern::parse(r"\w{1000}\w{1000}").unwrap_err();
        assert!(err.contains("invalid regex"), "{err}");
        assert!(Pattern::parse(r"(?i)disk (full|low)").is_ok());
    }

    #[test]
    fn rules_round_trip_through_toml() {
        let r = rule("name = \"n\"\nregex = \"x+\"\nregex_on = \"body\"\npriority = \"high\"\nmark_read = true")
            .unwrap();
        let text = toml::to_string(&r).unwrap();
        assert_eq!(rule(&text).unwrap(), r, "{text}");
        assert!(!text.contains("mute"), "defaults are left out: {text}");
    }
}
