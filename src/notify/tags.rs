//! ntfy-style tags: a tag that is an emoji shortcode (`warning`, `white_check_mark`) becomes that
//! emoji in front of the title, as ntfy's own apps show it; any other tag stays a text tag.
//!
//! Which words are shortcodes is GitHub's gemoji list, as in ntfy (whose server and apps map tags
//! with the same list), through the `emojis` crate; matching ignores case and surrounding colons.

/// The emoji for a shortcode tag (`warning` → ⚠️), ignoring case and surrounding colons.
pub fn emoji_for(tag: &str) -> Option<&'static str> {
    let tag = tag.trim().trim_matches(':').to_ascii_lowercase();
    emojis::get_by_shortcode(&tag).map(emojis::Emoji::as_str)
}

/// Splits tags into the emoji prefix for the title (`"⚠️🚨"`, empty if none) and the text tags
/// that remain.
pub fn split(tags: Vec<String>) -> (String, Vec<String>) {
    let mut prefix = String::new();
    let mut rest = Vec::new();
    for tag in tags {
        match emoji_for(&tag) {
            Some(emoji) => prefix.push_str(emoji),
            None => rest.push(tag),
        }
    }
    (prefix, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_become_emoji_and_the_rest_stay_text() {
        assert_eq!(emoji_for("warning"), Some("⚠️"));
        assert_eq!(emoji_for(":Tada:"), Some("🎉"));
        assert_eq!(emoji_for("+1"), Some("👍"));
        assert_eq!(emoji_for("backup"), None);
        // Any gemoji shortcode, as ntfy maps it (the demo's comments carry this one).
        assert_eq!(emoji_for("speech_balloon"), Some("💬"));
        assert_eq!(emoji_for("package"), Some("📦"));
        assert_eq!(emoji_for("deploy"), None);
        let tags = ["rotating_light", "prod", "skull", "db-1"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            split(tags),
            (
                "🚨💀".to_owned(),
                vec!["prod".to_owned(), "db-1".to_owned()]
            )
        );
    }
}
