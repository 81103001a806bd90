//! ntfy-style tags: a tag that is an emoji shortcode (`warning`, `white_check_mark`) becomes that
//! emoji in front of the title, as ntfy's own apps show it; any other tag stays a text tag.
//!
//! The table holds the common shortcodes only (the ones ntfy's docs and typical scripts use),
//! sorted so a lookup is a binary search; an unknown shortcode is simply a text tag.

/// Shortcode → emoji, sorted by shortcode.
const EMOJI: &[(&str, &str)] = &[
    ("+1", "👍"),
    ("-1", "👎"),
    ("alarm_clock", "⏰"),
    ("bar_chart", "📊"),
    ("bell", "🔔"),
    ("bomb", "💣"),
    ("boom", "💥"),
    ("bug", "🐛"),
    ("calendar", "📆"),
    ("checkered_flag", "🏁"),
    ("clock", "🕒"),
    ("cloud", "☁️"),
    ("computer", "💻"),
    ("construction", "🚧"),
    ("disappointed", "😞"),
    ("e-mail", "📧"),
    ("envelope", "✉️"),
    ("exclamation", "❗"),
    ("fire", "🔥"),
    ("floppy_disk", "💾"),
    ("gear", "⚙️"),
    ("ghost", "👻"),
    ("heart", "❤️"),
    ("heavy_check_mark", "✔️"),
    ("hourglass", "⌛"),
    ("house", "🏠"),
    ("information_source", "ℹ️"),
    ("key", "🔑"),
    ("lock", "🔒"),
    ("loudspeaker", "📢"),
    ("mag", "🔍"),
    ("no_entry", "⛔"),
    ("package", "📦"),
    ("partying_face", "🥳"),
    ("question", "❓"),
    ("recycle", "♻️"),
    ("robot", "🤖"),
    ("rocket", "🚀"),
    ("rotating_light", "🚨"),
    ("skull", "💀"),
    ("smile", "😄"),
    ("sos", "🆘"),
    ("stop_sign", "🛑"),
    ("sunny", "☀️"),
    ("tada", "🎉"),
    ("thumbsdown", "👎"),
    ("thumbsup", "👍"),
    ("triangular_flag_on_post", "🚩"),
    ("warning", "⚠️"),
    ("white_check_mark", "✅"),
    ("wrench", "🔧"),
    ("x", "❌"),
    ("zap", "⚡"),
];

/// The emoji for a shortcode tag (`warning` → ⚠️), ignoring case and surrounding colons.
pub fn emoji_for(tag: &str) -> Option<&'static str> {
    let tag = tag.trim().trim_matches(':').to_ascii_lowercase();
    EMOJI
        .binary_search_by(|(code, _)| (*code).cmp(tag.as_str()))
        .ok()
        .map(|i| EMOJI[i].1)
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
    fn the_table_is_sorted_for_binary_search() {
        assert!(
            EMOJI.windows(2).all(|w| w[0].0 < w[1].0),
            "keep EMOJI sorted by shortcode"
        );
    }

    #[test]
    fn shortcodes_become_emoji_and_the_rest_stay_text() {
        assert_eq!(emoji_for("warning"), Some("⚠️"));
        assert_eq!(emoji_for(":Tada:"), Some("🎉"));
        assert_eq!(emoji_for("+1"), Some("👍"));
        assert_eq!(emoji_for("backup"), None);
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
