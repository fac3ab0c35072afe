/**
 * Test utility: a strict little HTML tokenizer, enough to check that a report
 * is well formed (every non-void element closed in order), and to list its
 * elements with their attributes.
 */
export interface Element {
  tag: string;
  attrs: Record<string, string>;
}

const VOID = new Set([
  'meta',
  'br',
  'hr',
  'img',
  'input',
  'link',
  'area',
  'base',
  'col',
  'embed',
  'source',
  'track',
  'wbr',
]);

export function parseHtml(html: string): Element[] {
  const out: Element[] = [];
  const stack: string[] = [];
  const re =
    /<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<style>[\s\S]*?<\/style>|<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html))) {
    const between = html.slice(last, m.index);
    if (between.includes('<'))
      throw new Error(
        `stray '<' near offset ${last}: ${between.slice(between.indexOf('<'), between.indexOf('<') + 40)}`,
      );
    last = re.lastIndex;
    if (m[0].startsWith('<!--') || m[0].startsWith('<!DOCTYPE')) continue;
    if (m[0].startsWith('<style>')) {
      out.push({ tag: 'style', attrs: {} });
      continue;
    }
    const [, close, rawTag, rawAttrs, selfClose] = m;
    const tag = rawTag!.toLowerCase();
    if (close) {
      const open = stack.pop();
      if (open !== tag) throw new Error(`</${tag}> closes <${open}> at offset ${m.index}`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs!.matchAll(/([\w:-]+)(?:="([^"]*)")?/g)) attrs[a[1]!] = a[2] ?? '';
    out.push({ tag, attrs });
    if (!selfClose && !VOID.has(tag)) stack.push(tag);
  }
  if (html.slice(last).includes('<')) throw new Error('stray < at the end');
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return out;
}
