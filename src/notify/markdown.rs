//! Markdown bodies (ntfy's `markdown: true`, gotify's `text/markdown`) shown as plain text: a
//! notification server renders no Markdown, and raw `**bold**` or `[x](https://…)` reads badly.
//! The window keeps the flag ([`super::Mapped::markdown`]) and may render it properly.
//!
//! [`to_plain`] is the same tree as the details pane's, flattened to text for a notification:
//! headings, emphasis, strike-through, code, links and images (their text stays) and quotes lose
//! their markup, list items become `• ` (or `3. `) lines, blocks go on lines of their own. One CommonMark
//! parser reads Markdown for both, so a notification and the window never disagree on what the
//! markup was.
//!
//! [`to_blocks`] is for the history window's details pane: the message parsed by a CommonMark
//! parser and reduced to a small allowlisted tree ([`Block`], [`Inline`]) that the page builds
//! with DOM calls, so no markup from an event ever reaches the page as HTML. Raw HTML in the
//! message stays text; links keep their href only when [`crate::untrusted::web_url`] accepts it;
//! images become their alt text (nothing is hot-linked).

use serde::Serialize;

/// `text` without its Markdown markup, as lines of plain text.
pub fn to_plain(text: &str) -> String {
    let mut lines = Vec::new();
    plain_lines(&to_blocks(text), &mut lines);
    lines.join("\n")
}

/// Each block's text on lines of its own (a list item's first line with `• `).
fn plain_lines(blocks: &[Block], lines: &mut Vec<String>) {
    for block in blocks {
        match block {
            Block::Paragraph { content } | Block::Heading { content, .. } => {
                let mut text = String::new();
                plain_inlines(content, &mut text);
                lines.extend(text.split('\n').map(str::to_owned));
            }
            Block::CodeBlock { text } => {
                lines.extend(text.trim_end_matches('\n').split('\n').map(str::to_owned));
            }
            Block::Quote { blocks } => plain_lines(blocks, lines),
            Block::List { start, items } => {
                for (n, item) in (start.unwrap_or(0)..).zip(items) {
                    let mark = match start {
                        Some(_) => format!("{n}. "),
                        None => "• ".to_owned(),
                    };
                    let first = lines.len();
                    plain_lines(item, lines);
                    match lines.get_mut(first) {
                        Some(line) => line.insert_str(0, &mark),
                        None => lines.push(mark.trim_end().to_owned()),
                    }
                }
            }
            Block::Rule => lines.push("———".to_owned()),
        }
    }
}

fn plain_inlines(inlines: &[Inline], out: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text { text } | Inline::Code { text } => out.push_str(text),
            Inline::Break => out.push('\n'),
            Inline::Strong { content }
            | Inline::Emphasis { content }
            | Inline::Strike { content }
            | Inline::Link { content, .. } => plain_inlines(content, out),
        }
    }
}

/// A block of a rendered message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// A paragraph.
    Paragraph {
        /// Its text.
        content: Vec<Inline>,
    },
    /// A heading, level 1–6.
    Heading {
        /// 1–6.
        level: u8,
        /// Its text.
        content: Vec<Inline>,
    },
    /// A code block (fenced or indented), shown preformatted.
    CodeBlock {
        /// The code.
        text: String,
    },
    /// A block quote.
    Quote {
        /// What it quotes.
        blocks: Vec<Block>,
    },
    /// A bulleted or numbered list.
    List {
        /// The first number of a numbered list; `None` for bullets.
        start: Option<u64>,
        /// Each item's blocks.
        items: Vec<Vec<Block>>,
    },
    /// A thematic break.
    Rule,
}

/// Text within a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Inline {
    /// Plain text (raw HTML in the message arrives here too, as text).
    Text {
        /// The text.
        text: String,
    },
    /// A code span.
    Code {
        /// The code.
        text: String,
    },
    /// Strong emphasis.
    Strong {
        /// What is emphasised.
        content: Vec<Inline>,
    },
    /// Emphasis.
    Emphasis {
        /// What is emphasised.
        content: Vec<Inline>,
    },
    /// Strike-through.
    Strike {
        /// What is struck.
        content: Vec<Inline>,
    },
    /// A link: `href` is an http(s) URL judged by [`crate::untrusted::web_url`], or `None` when
    /// the target was refused (the text stays).
    Link {
        /// The judged target.
        href: Option<String>,
        /// The link text.
        content: Vec<Inline>,
    },
    /// A line break.
    Break,
}

/// Deeper nesting than this (quotes in lists in quotes…) is flattened into its parent, so a
/// hostile message cannot make a tree the page recurses through thousands of levels.
const MAX_DEPTH: usize = 12;

/// Plain text as blocks: paragraphs at blank lines, line breaks kept.
pub fn plain_blocks(text: &str) -> Vec<Block> {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|paragraph| {
            let mut content = Vec::new();
            for (i, line) in paragraph.lines().enumerate() {
                if i > 0 {
                    content.push(Inline::Break);
                }
                push_text(&mut content, line);
            }
            Block::Paragraph { content }
        })
        .collect()
}

/// Markdown as an allowlisted tree of blocks (CommonMark with strike-through; a single line
/// break is kept as a break, as chat and notification apps do).
pub fn to_blocks(text: &str) -> Vec<Block> {
    use pulldown_cmark::{Options, Parser};
    let mut builder = Builder {
        containers: vec![Container {
            kind: ContainerKind::Root,
            blocks: Vec::new(),
            items: Vec::new(),
        }],
        spans: Vec::new(),
        ignored_containers: 0,
        ignored_spans: 0,
    };
    for event in Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH) {
        builder.event(event);
    }
    builder.finish()
}

enum ContainerKind {
    Root,
    Quote,
    List(Option<u64>),
    Item,
}

struct Container {
    kind: ContainerKind,
    blocks: Vec<Block>,
    items: Vec<Vec<Block>>,
}

#[derive(PartialEq, Eq)]
enum SpanKind {
    /// A paragraph the parser did not open (a tight list item's text).
    ImplicitParagraph,
    Paragraph,
    Heading(u8),
    CodeBlock,
    Strong,
    Emphasis,
    Strike,
    Link(Option<String>),
    /// An image: only its alt text is kept.
    Image,
}

struct Span {
    kind: SpanKind,
    content: Vec<Inline>,
    code: String,
}

struct Builder {
    containers: Vec<Container>,
    spans: Vec<Span>,
    ignored_containers: usize,
    ignored_spans: usize,
}

impl Builder {
    fn event(&mut self, event: pulldown_cmark::Event<'_>) {
        use pulldown_cmark::{Event, Tag, TagEnd};
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph | Tag::HtmlBlock => self.open_block(SpanKind::Paragraph),
                Tag::Heading { level, .. } => self.open_block(SpanKind::Heading(level as u8)),
                Tag::CodeBlock(_) => self.open_block(SpanKind::CodeBlock),
                Tag::BlockQuote(_) => self.open_container(ContainerKind::Quote),
                Tag::List(start) => self.open_container(ContainerKind::List(start)),
                Tag::Item => self.open_container(ContainerKind::Item),
                Tag::Emphasis => self.open_span(SpanKind::Emphasis),
                Tag::Strong => self.open_span(SpanKind::Strong),
                Tag::Strikethrough => self.open_span(SpanKind::Strike),
                Tag::Link { dest_url, .. } => self.open_span(SpanKind::Link(
                    crate::untrusted::web_url(&dest_url).ok().map(String::from),
                )),
                Tag::Image { .. } => self.open_span(SpanKind::Image),
                _ => {}
            },
            Event::End(end) => match end {
                TagEnd::Paragraph | TagEnd::HtmlBlock | TagEnd::Heading(_) | TagEnd::CodeBlock => {
                    self.close_block();
                }
                TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item => self.close_container(),
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Link
                | TagEnd::Image => self.close_span(),
                _ => {}
            },
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
                if let Some(span) = self.spans.last_mut()
                    && span.kind == SpanKind::CodeBlock
                {
                    span.code.push_str(&text);
                } else {
                    push_text(self.inlines(), &text);
                }
            }
            Event::Code(code) => {
                let text = code
                    .chars()
                    .filter(|c| !crate::untrusted::is_hidden(*c))
                    .collect();
                self.inlines().push(Inline::Code { text });
            }
            Event::SoftBreak | Event::HardBreak => self.inlines().push(Inline::Break),
            Event::Rule => {
                self.close_implicit();
                self.blocks().push(Block::Rule);
            }
            _ => {}
        }
    }

    fn blocks(&mut self) -> &mut Vec<Block> {
        &mut self.containers.last_mut().expect("the root stays").blocks
    }

    /// The inline list text goes to, opening an implicit paragraph when no block is open.
    fn inlines(&mut self) -> &mut Vec<Inline> {
        if self.spans.is_empty() {
            self.spans.push(Span {
                kind: SpanKind::ImplicitParagraph,
                content: Vec::new(),
                code: String::new(),
            });
        }
        &mut self.spans.last_mut().expect("just ensured").content
    }

    fn close_implicit(&mut self) {
        if self.spans.len() == 1 && self.spans[0].kind == SpanKind::ImplicitParagraph {
            self.close_block();
        }
    }

    fn open_block(&mut self, kind: SpanKind) {
        self.close_implicit();
        self.spans.push(Span {
            kind,
            content: Vec::new(),
            code: String::new(),
        });
    }

    fn close_block(&mut self) {
        let Some(span) = self.spans.pop() else { return };
        let block = match span.kind {
            SpanKind::Heading(level) => Block::Heading {
                level,
                content: span.content,
            },
            SpanKind::CodeBlock => Block::CodeBlock {
                text: span
                    .code
                    .trim_end_matches('\n')
                    .chars()
                    .filter(|c| *c == '\n' || !crate::untrusted::is_hidden(*c))
                    .collect(),
            },
            _ if span.content.is_empty() => return,
            _ => Block::Paragraph {
                content: span.content,
            },
        };
        self.blocks().push(block);
    }

    fn open_span(&mut self, kind: SpanKind) {
        if self.spans.len() > MAX_DEPTH {
            self.ignored_spans += 1;
            return;
        }
        self.inlines();
        self.spans.push(Span {
            kind,
            content: Vec::new(),
            code: String::new(),
        });
    }

    fn close_span(&mut self) {
        if self.ignored_spans > 0 {
            self.ignored_spans -= 1;
            return;
        }
        let Some(span) = self.spans.pop() else { return };
        let inline = match span.kind {
            SpanKind::Strong => Inline::Strong {
                content: span.content,
            },
            SpanKind::Emphasis => Inline::Emphasis {
                content: span.content,
            },
            SpanKind::Strike => Inline::Strike {
                content: span.content,
            },
            SpanKind::Link(href) => Inline::Link {
                href,
                content: span.content,
            },
            // An image's alt text, as text: the image is not fetched.
            _ => {
                for inline in span.content {
                    self.inlines().push(inline);
                }
                return;
            }
        };
        self.inlines().push(inline);
    }

    fn open_container(&mut self, kind: ContainerKind) {
        self.close_implicit();
        if self.containers.len() > MAX_DEPTH {
            self.ignored_containers += 1;
            return;
        }
        self.containers.push(Container {
            kind,
            blocks: Vec::new(),
            items: Vec::new(),
        });
    }

    fn close_container(&mut self) {
        self.close_implicit();
        if self.ignored_containers > 0 {
            self.ignored_containers -= 1;
            return;
        }
        if self.containers.len() == 1 {
            return;
        }
        let container = self.containers.pop().expect("more than the root");
        let parent = self.containers.last_mut().expect("the root stays");
        match container.kind {
            ContainerKind::Item => parent.items.push(container.blocks),
            ContainerKind::Quote => parent.blocks.push(Block::Quote {
                blocks: container.blocks,
            }),
            ContainerKind::List(start) => parent.blocks.push(Block::List {
                start,
                items: container.items,
            }),
            ContainerKind::Root => {}
        }
    }

    fn finish(mut self) -> Vec<Block> {
        while !self.spans.is_empty() {
            self.close_block();
        }
        while self.containers.len() > 1 {
            self.close_container();
        }
        self.containers
            .pop()
            .map(|root| root.blocks)
            .unwrap_or_default()
    }
}

/// Appends text, merged with a text just before it, without invisible characters.
fn push_text(content: &mut Vec<Inline>, text: &str) {
    let clean = text.chars().filter(|c| !crate::untrusted::is_hidden(*c));
    if let Some(Inline::Text { text: last }) = content.last_mut() {
        last.extend(clean);
    } else {
        let text: String = clean.collect();
        if !text.is_empty() {
            content.push(Inline::Text { text });
        }
    }
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
            ("1. one\n2. **two**", "1. one\n2. two"),
            ("7. seventh\n8. eighth", "7. seventh\n8. eighth"),
            ("- a\n  - nested\n- b", "• a\n• nested\n• b"),
            (
                "first\nline\n\nsecond paragraph",
                "first\nline\nsecond paragraph",
            ),
            ("above\n\n---\n\nbelow", "above\n———\nbelow"),
            ("> quote\n>\n> > deeper", "quote\ndeeper"),
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

    fn text(t: &str) -> Inline {
        Inline::Text { text: t.into() }
    }

    #[test]
    fn markdown_becomes_an_allowlisted_tree() {
        let blocks = to_blocks(
            "# Deploy\n\n**api** is _live_, see [log](https://ci.example/1)\nnext line\n\n- one\n- two `x`\n\n```\nfn main() {}\n```",
        );
        assert_eq!(
            blocks,
            vec![
                Block::Heading {
                    level: 1,
                    content: vec![text("Deploy")]
                },
                Block::Paragraph {
                    content: vec![
                        Inline::Strong {
                            content: vec![text("api")]
                        },
                        text(" is "),
                        Inline::Emphasis {
                            content: vec![text("live")]
                        },
                        text(", see "),
                        Inline::Link {
                            href: Some("https://ci.example/1".into()),
                            content: vec![text("log")]
                        },
                        Inline::Break,
                        text("next line"),
                    ]
                },
                Block::List {
                    start: None,
                    items: vec![
                        vec![Block::Paragraph {
                            content: vec![text("one")]
                        }],
                        vec![Block::Paragraph {
                            content: vec![text("two "), Inline::Code { text: "x".into() }]
                        }],
                    ]
                },
                Block::CodeBlock {
                    text: "fn main() {}".into()
                },
            ]
        );
    }

    #[test]
    fn hostile_markup_stays_text_and_bad_links_lose_their_href() {
        let blocks = to_blocks(
            "<script>alert(1)</script>\n\nx <img src=x onerror=alert(1)> [a](javascript:alert(1)) ![pic](https://evil.example/p.png)",
        );
        let json = serde_json::to_string(&blocks).expect("json");
        assert!(json.contains("<script>alert(1)</script>"), "{json}");
        assert!(json.contains("<img src=x onerror=alert(1)>"), "{json}");
        assert!(!json.contains("javascript:"), "{json}");
        assert!(
            !json.contains("evil.example"),
            "the image is not linked: {json}"
        );
        assert!(json.contains("pic"), "the alt text stays: {json}");
        assert!(json.contains(r#""type":"link","href":null"#), "{json}");
    }

    #[test]
    fn nesting_is_bounded_and_odd_input_never_panics() {
        let deep = format!("{}x", "> ".repeat(500));
        let json = serde_json::to_string(&to_blocks(&deep)).expect("json");
        assert!(json.matches("quote").count() <= MAX_DEPTH, "{}", json.len());
        assert!(json.contains('x'));
        let emphasis = format!("{}x{}", "*_".repeat(300), "_*".repeat(300));
        let _ = to_blocks(&emphasis);
        for odd in [
            "",
            "-",
            "1.",
            "```",
            "> - > 1. *",
            "[a](",
            "\u{202E}evil",
            "***",
        ] {
            let _ = to_blocks(odd);
        }
        assert_eq!(
            to_blocks("a\u{202E}b"),
            vec![Block::Paragraph {
                content: vec![text("ab")]
            }]
        );
    }

    #[test]
    fn plain_text_keeps_paragraphs_and_line_breaks() {
        assert_eq!(
            plain_blocks("one\ntwo\n\nthree <b>"),
            vec![
                Block::Paragraph {
                    content: vec![text("one"), Inline::Break, text("two")]
                },
                Block::Paragraph {
                    content: vec![text("three <b>")]
                },
            ]
        );
    }
}
