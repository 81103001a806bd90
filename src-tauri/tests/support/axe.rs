//! axe-core inside the real webview: the page is checked as WebKit renders it (computed colours
//! in the light and the dark theme, the accessible names WebKit computes), not a copy in jsdom.
//! axe-core comes from the npm registry (`package.json` at the workspace root, `npm ci`); a
//! missing copy fails the test, as a missing driver does.

use super::webdriver::Session;
use serde_json::{Value, json};

fn source() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../node_modules/axe-core/axe.min.js"
    );
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{path}: {e}: run `npm ci` at the workspace root (scripts/test-app.sh does)")
    })
}

/// The serious and critical violations axe finds in the page as it is now, with the theme forced
/// to `theme` (`light` or `dark`) for the check and given back to the system after.
pub fn violations(session: &Session, theme: &str) -> Vec<Value> {
    let loaded = session.execute(
        &format!("{};\nreturn typeof window.axe;", source()),
        json!([]),
    );
    assert_eq!(loaded, json!("object"), "axe-core did not load");
    let found = session.execute_async(&format!(
        "const done = arguments[arguments.length - 1]; \
         document.documentElement.dataset.theme = '{theme}'; \
         axe.run(document, {{ resultTypes: ['violations'] }}).then((r) => {{ \
           delete document.documentElement.dataset.theme; \
           done(r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical') \
             .map((v) => ({{ id: v.id, impact: v.impact, help: v.help, \
               nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '')) }}))); \
         }}, (e) => done([{{ id: 'axe-error', help: String(e) }}]));"
    ));
    found.as_array().cloned().unwrap_or_default()
}

/// Fails with axe's findings if there is any serious or critical violation, light or dark.
pub fn assert_accessible(session: &Session, what: &str) {
    for theme in ["light", "dark"] {
        let found = violations(session, theme);
        assert!(
            found.is_empty(),
            "axe: serious or critical violations in {what} ({theme}):\n{}",
            serde_json::to_string_pretty(&found).unwrap_or_default()
        );
    }
}
