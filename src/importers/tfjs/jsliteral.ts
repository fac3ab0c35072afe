/**
 * Reads the data out of the small UMD `.min.js` bundles that nsfwjs ships
 * (`dist/models/<name>/model.min.js`, `group1-shard1of1.min.js`) without
 * executing them.
 *
 * Each bundle is browserify's standalone prelude around one module whose body
 * is `<module>.exports=<LITERAL>`: for model.min.js an object literal (the
 * model.json, minified: unquoted keys, `!0`/`!1` for true/false, `.5` numbers),
 * for a shard a string literal holding the shard's bytes in base64. We locate
 * that module body and parse the one literal with a parser for the data subset
 * of JavaScript (objects, arrays, strings, numbers, booleans, null); anything
 * else (a call, an identifier) is an error naming the byte offset.
 */

export class JsLiteralError extends Error {
  constructor(file: string, offset: number, message: string) {
    super(`${file}: at byte offset ${offset}: ${message}`);
    this.name = 'JsLiteralError';
  }
}

const MAX_DEPTH = 512;

/** Parses one JavaScript data literal of `src` starting at `start`; returns its value and the offset after it. */
export function parseJsLiteral(src: string, start: number, file = '<input>'): { value: unknown; end: number } {
  let i = start;
  const fail: (msg: string, at?: number) => never = (msg, at = i) => {
    throw new JsLiteralError(file, at, msg);
  };
  const skipSpace = (): void => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const identStart = /[A-Za-z_$]/;
  const identPart = /[A-Za-z0-9_$]/;

  const parseString = (): string => {
    const quote = src[i]!;
    i++;
    let out = '';
    for (;;) {
      if (i >= src.length) fail('unterminated string literal');
      const c = src[i]!;
      if (c === quote) {
        i++;
        return out;
      }
      if (c === '\n' || c === '\r') fail('newline inside a string literal');
      if (c !== '\\') {
        // Copy a run of plain characters at once (the shard strings are megabytes long).
        let j = i + 1;
        while (j < src.length && src[j] !== quote && src[j] !== '\\' && src[j] !== '\n' && src[j] !== '\r') j++;
        out += src.slice(i, j);
        i = j;
        continue;
      }
      const e = src[i + 1];
      i += 2;
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case '0':
          if (/[0-9]/.test(src[i] ?? '')) fail('octal escape in a string literal', i - 2);
          out += '\0';
          break;
        case 'x': {
          const h = src.slice(i, i + 2);
          if (!/^[0-9a-fA-F]{2}$/.test(h)) fail('bad \\x escape', i - 2);
          out += String.fromCharCode(parseInt(h, 16));
          i += 2;
          break;
        }
        case 'u': {
          if (src[i] === '{') {
            const close = src.indexOf('}', i);
            const h = close < 0 ? '' : src.slice(i + 1, close);
            if (!/^[0-9a-fA-F]{1,6}$/.test(h) || parseInt(h, 16) > 0x10ffff) fail('bad \\u{} escape', i - 2);
            out += String.fromCodePoint(parseInt(h, 16));
            i = close + 1;
          } else {
            const h = src.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape', i - 2);
            out += String.fromCharCode(parseInt(h, 16));
            i += 4;
          }
          break;
        }
        case '\r':
          if (src[i] === '\n') i++;
          break; // line continuation
        case '\n':
          break;
        case undefined:
          fail('unterminated string literal');
          break;
        default:
          if (/[1-9]/.test(e)) fail('octal escape in a string literal', i - 2);
          out += e; // \" \' \\ \/ and identity escapes
      }
    }
  };

  const numberRe = /-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
  const parseNumber = (): number => {
    numberRe.lastIndex = i;
    const m = numberRe.exec(src);
    if (!m) return fail('expected a number');
    if (/^-?0[0-9]/.test(m[0])) fail('legacy octal number literal');
    i += m[0].length;
    if (identPart.test(src[i] ?? '')) fail(`unsupported number literal '${m[0]}${src[i]}'`);
    return Number(m[0]);
  };

  const parseKey = (): string => {
    const c = src[i];
    if (c === '"' || c === "'") return parseString();
    if (c !== undefined && identStart.test(c)) {
      const s = i;
      while (i < src.length && identPart.test(src[i]!)) i++;
      return src.slice(s, i);
    }
    if (c !== undefined && /[0-9.]/.test(c)) return String(parseNumber());
    return fail('expected a property name');
  };

  const parseValue = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail(`literal nested deeper than ${MAX_DEPTH}`);
    skipSpace();
    const c = src[i];
    if (c === undefined) return fail('unexpected end of input');
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      skipSpace();
      if (src[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skipSpace();
        const key = parseKey();
        skipSpace();
        if (src[i] !== ':') fail(`expected ':' after property '${key}'`);
        i++;
        // defineProperty: a key named __proto__ must stay data, as in JSON.parse.
        Object.defineProperty(obj, key, {
          value: parseValue(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        skipSpace();
        if (src[i] === ',') {
          i++;
          continue;
        }
        if (src[i] === '}') {
          i++;
          return obj;
        }
        fail("expected ',' or '}' in an object literal");
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      skipSpace();
      if (src[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        skipSpace();
        if (src[i] === ',') {
          i++;
          continue;
        }
        if (src[i] === ']') {
          i++;
          return arr;
        }
        fail("expected ',' or ']' in an array literal");
      }
    }
    if (c === '"' || c === "'") return parseString();
    if (c === '!' && (src[i + 1] === '0' || src[i + 1] === '1') && !identPart.test(src[i + 2] ?? '')) {
      i += 2;
      return src[i - 1] === '0';
    }
    if (c === '-' || c === '.' || /[0-9]/.test(c)) return parseNumber();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
      ['void 0', undefined],
    ] as const) {
      if (src.startsWith(word, i) && !identPart.test(src[i + word.length] ?? '')) {
        i += word.length;
        return value;
      }
    }
    const tok = /^[^\s,:{}[\]]{1,24}/.exec(src.slice(i))?.[0] ?? c;
    return fail(`'${tok}' is not a data literal (only objects, arrays, strings, numbers, booleans and null are read)`);
  };

  const value = parseValue(0);
  return { value, end: i };
}

/**
 * The value a browserify standalone bundle exports from its entry module 1:
 * finds `{1:[function(a,b,c){b.exports=` and parses the literal after it.
 */
export function readUmdExport(src: string, file: string): unknown {
  const head = /\{1:\[function\(([A-Za-z_$][\w$]*),([A-Za-z_$][\w$]*),([A-Za-z_$][\w$]*)\)\{/.exec(src);
  if (!head)
    throw new JsLiteralError(
      file,
      0,
      "not a browserify bundle: no entry module '{1:[function(require,module,exports){'",
    );
  const moduleVar = head[2]!;
  let at = head.index + head[0].length;
  const assign = `${moduleVar}.exports=`;
  if (!src.startsWith(assign, at)) throw new JsLiteralError(file, at, `entry module does not start with '${assign}'`);
  at += assign.length;
  const { value, end } = parseJsLiteral(src, at, file);
  const rest = src.slice(end, end + 2);
  if (!(rest.startsWith('}') || rest === ';}'))
    throw new JsLiteralError(file, end, 'entry module does more than export one literal');
  return value;
}
