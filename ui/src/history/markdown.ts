// The details pane's message: an allowlisted block tree built in Rust (src/notify/markdown.rs)
// from Markdown or plain text. Only these elements are made, text goes in as text, and a link is
// an http(s) URL opened through the app; nothing from the event is ever parsed as markup here.
import type { Block, Inline } from '../bindings';
import { el } from '../lib/dom';
import { openLink, webLink } from './card';

function renderInline(inline: Inline): Node {
  switch (inline.type) {
    case 'text':
      return document.createTextNode(inline.text);
    case 'code':
      return el('code', '', inline.text);
    case 'break':
      return el('br');
    case 'strong':
      return renderInlines(el('strong'), inline.content);
    case 'emphasis':
      return renderInlines(el('em'), inline.content);
    case 'strike':
      return renderInlines(el('s'), inline.content);
    case 'link': {
      const href = webLink(inline.href);
      if (!href) return renderInlines(el('span', 'dead-link'), inline.content);
      const a = renderInlines(el('a'), inline.content);
      a.href = href;
      a.title = href;
      a.addEventListener('click', (event) => {
        event.preventDefault();
        void openLink(href);
      });
      a.addEventListener('auxclick', (event) => event.preventDefault());
      return a;
    }
    default:
      return document.createTextNode('');
  }
}

function renderInlines<T extends Node>(parent: T, inlines: Inline[]): T {
  for (const inline of inlines) parent.appendChild(renderInline(inline));
  return parent;
}

function renderBlock(block: Block): Node {
  switch (block.type) {
    case 'paragraph':
      return renderInlines(el('p'), block.content);
    case 'heading': {
      // The pane's own title is an h2: message headings start at h3.
      const level = Math.min(6, 2 + Math.max(1, Math.min(4, Number(block.level) || 1)));
      return renderInlines(document.createElement(`h${level}`), block.content);
    }
    case 'code_block': {
      const pre = el('pre', 'code');
      pre.append(el('code', '', block.text));
      return pre;
    }
    case 'quote':
      return renderBlocks(el('blockquote'), block.blocks);
    case 'list': {
      const list = block.start == null ? el('ul') : el('ol');
      if (list instanceof HTMLOListElement && block.start != null && block.start !== 1) {
        list.start = Number(block.start);
      }
      for (const item of block.items) list.append(renderBlocks(el('li'), item));
      return list;
    }
    case 'rule':
      return el('hr');
    default:
      return document.createTextNode('');
  }
}

export function renderBlocks<T extends Node>(parent: T, blocks: Block[]): T {
  for (const block of blocks) parent.appendChild(renderBlock(block));
  return parent;
}
