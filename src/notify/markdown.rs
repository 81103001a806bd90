//! Markdown bodies (ntfy's `markdown: true`, gotify's `text/markdown`) shown as plain text: a
//! notification server renders no Markdown, and raw `**bold**` or `[x](https://…)` reads badly.
//! The window keeps the flag ([`super::Mapped::markdown`]) and may render it properly.
//!
//! This is a readability pass, not a parser: it removes the markup people use in alerts —
//! headings, emphasis, strike-through, inline code and fences, links and images (their text
//! stays), block quotes and list bullets — line by line, in one pass over the characters. What
//! it does not recognise stays as written, which is harmless in plain text.

/// `text` without common Markdown markup, line breaks kept.
pub fn to_plain(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            // A fence line: the code in between stays, the fence goes.
            continue;
        }
        let mut out = String::with_capacity(line.len());
        inline(&strip_block_prefix(trimmed, line), &mut out);
        lines.push(out);
    }
    lines.join("\n")
}

/// Drops heading marks, quote marks and list bullets (a bullet becomes `• `).
fn strip_block_prefix<'a>(trimmed: &'a str, line: &'a str) -> std::borrow::Cow<'a, str> {
    let mut rest = trimmed;
    while let Some(r) = rest.strip_prefix('>') {
        rest = r.trim_start();
    }
    let hashes = rest.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&hashes) && rest[hashes..].starts_with(' ') {
        return rest[hashes..].trim_start().into();
    }
    for bullet in ["- ", "* ", "+ "] {
        if let Some(item) = rest.strip_prefix(bullet) {
            return format!("• {item}").into();
        }
    }
    if rest.len() == trimmed.len() {
        line.into()
    } else {
        rest.into()
    }
}

/// Emphasis, code spans, links and images within one line.
fn inline(line: &str, out: &mut String) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '*' | '~' | '`' => i += 1,
            // `_` marks emphasis only at a word edge (snake_case stays).
            '_' if !word_inside(&chars, i) => i += 1,
            '!' if chars.get(i + 1) == Some(&'[') => i += 1,
            '[' => match link_end(&chars, i) {
                Some((text_end, after)) => {
                    inline(&chars[i + 1..text_end].iter().collect::<String>(), out);
                    i = after;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
}

fn word_inside(chars: &[char], i: usize) -> bool {
    let alnum = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
    i > 0 && alnum(chars.get(i - 1)) && alnum(chars.get(i + 1))
}

/// For `[text](target)` starting at `open`: where the text ends and where the link ends.
fn link_end(chars: &[char], open: usize) -> Option<(usize, usize)> {
    let close = open + chars[open..].iter().position(|c| *c == ']')?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = close + 1 + chars[close + 1..].iter().position(|c| *c == ')')?;
    Some((close, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_markup_reads_as_plain_text() {
        let cases = [
            ("# Deploy **failed**", "Deploy failed"),
            ("## _Nightly_ ~~ok~~", "Nightly ok"),
            ("Run `make test` again", "Run make test again"),
            ("See [the log](https://ci/1) now", "See the log now"),
            ("![graph](https://x/y.png) attached", "graph attached"),
            ("> quoted *text*", "quoted text"),
            ("- one\n* two\n+ three", "• one\n• two\n• three"),
            ("```\ncode here\n```\nafter", "code here\nafter"),
            ("snake_case_name stays", "snake_case_name stays"),
            ("a \\*literal\\* star", "a *literal* star"),
            ("[not a link] (x)", "[not a link] (x)"),
            ("#hashtag", "#hashtag"),
            ("", ""),
        ];
        for (markdown, plain) in cases {
            assert_eq!(to_plain(markdown), plain, "{markdown:?}");
        }
    }

    #[test]
    fn odd_input_never_panics() {
        for text in ["[", "[a](", "![", "\\", "é*_`~[](", "```", "# ", ">>>"] {
            let _ = to_plain(text);
        }
    }
}
