/**
 * Just enough of Terraform's language to compare infra-terraform/ with the Pulumi program in
 * pure Node: HashiCorp's own parser (@cdktf/hcl2json) reads the files; this module evaluates the
 * small expression subset they use — literals, var/local references, references to the queues'
 * arn/url, conditionals, comparisons, and the functions jsonencode, merge, concat, length,
 * endswith and one. Anything else throws, so the subset cannot silently grow.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";

// biome-ignore lint/suspicious/noExplicitAny: HCL documents are untyped JSON.
export type Hcl = any;

/** All `.tf` files of a folder, merged the way Terraform merges them. */
export async function readModule(dir: string): Promise<Hcl> {
  const merged: Hcl = { variable: {}, locals: {}, resource: {}, output: {}, provider: {} };
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".tf"))
    .sort()) {
    const doc = await parse(file, readFileSync(join(dir, file), "utf8"));
    for (const [name, value] of Object.entries(doc.variable ?? {}))
      merged.variable[name] = (value as Hcl[])[0];
    for (const block of doc.locals ?? []) Object.assign(merged.locals, block);
    for (const [type, byName] of Object.entries(doc.resource ?? {})) {
      merged.resource[type] ??= {};
      for (const [name, value] of Object.entries(byName as Hcl))
        merged.resource[type][name] = (value as Hcl[])[0];
    }
    for (const [name, value] of Object.entries(doc.output ?? {})) merged.output[name] = (value as Hcl[])[0];
    for (const [name, value] of Object.entries(doc.provider ?? {}))
      merged.provider[name] = (value as Hcl[])[0];
  }
  return merged;
}

type Token = { kind: "num" | "str" | "id" | "op"; value: string };

const OPERATORS = ["==", "!=", ">=", "<=", "&&", "||", "[*]", ...".,()[]{}=:?!<>-+*/"];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] ?? "";
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#" || source.startsWith("//", i)) {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(source.slice(i));
      tokens.push({ kind: "num", value: m?.[0] ?? c });
      i += m?.[0].length ?? 1;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      while (source[j] !== '"') {
        if (j >= source.length) throw new Error("unterminated string");
        if (source.startsWith("${", j)) throw new Error(`string templates are outside the subset: ${source}`);
        if (source[j] === "\\") {
          const next = source[j + 1];
          text += next === "n" ? "\n" : next === "t" ? "\t" : (next ?? "");
          j += 2;
        } else {
          text += source[j];
          j++;
        }
      }
      tokens.push({ kind: "str", value: text });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(i));
      tokens.push({ kind: "id", value: m?.[0] ?? c });
      i += m?.[0].length ?? 1;
    } else {
      const op = OPERATORS.find((o) => source.startsWith(o, i));
      if (!op) throw new Error(`unexpected "${c}" in ${source}`);
      tokens.push({ kind: "op", value: op });
      i += op.length;
    }
  }
  return tokens;
}

export interface Scope {
  /** `var.NAME`, `local.NAME` and other roots (`aws_sqs_queue`, `assume_role`). */
  resolve(path: string[]): unknown;
}

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  jsonencode: (value) => JSON.stringify(value),
  merge: (...maps) => Object.assign({}, ...(maps as object[])),
  concat: (...lists) => (lists as unknown[][]).flat(),
  length: (value) => (Array.isArray(value) ? value.length : Object.keys(value as object).length),
  endswith: (text, suffix) => String(text).endsWith(String(suffix)),
  one: (list) => (list as unknown[])[0] ?? null,
};

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly scope: Scope,
  ) {}

  parse(): unknown {
    const value = this.expression();
    if (this.i < this.tokens.length) throw new Error(`unexpected ${this.peek()?.value}`);
    return value;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }
  private take(value?: string): Token {
    const token = this.tokens[this.i++];
    if (!token || (value !== undefined && token.value !== value)) {
      throw new Error(`expected ${value ?? "a token"}, got ${token?.value ?? "the end"}`);
    }
    return token;
  }
  private at(value: string): boolean {
    const token = this.peek();
    return token !== undefined && token.kind !== "str" && token.value === value;
  }

  private expression(): unknown {
    const condition = this.binary(0);
    if (!this.at("?")) return condition;
    this.take("?");
    const yes = this.expression();
    this.take(":");
    const no = this.expression();
    return condition ? yes : no;
  }

  private static readonly LEVELS = [["||"], ["&&"], ["==", "!="], [">", "<", ">=", "<="]];

  private binary(level: number): unknown {
    if (level >= Parser.LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    while (Parser.LEVELS[level]?.some((op) => this.at(op))) {
      const op = this.take().value;
      const right = this.binary(level + 1);
      left = apply(op, left, right);
    }
    return left;
  }

  private unary(): unknown {
    if (this.at("!")) {
      this.take();
      return !this.unary();
    }
    if (this.at("-")) {
      this.take();
      return -(this.unary() as number);
    }
    return this.postfix();
  }

  private postfix(): unknown {
    const token = this.peek();
    if (
      token?.kind === "id" &&
      !["true", "false", "null"].includes(token.value) &&
      this.tokens[this.i + 1]?.value !== "("
    ) {
      // A reference: collect its path, then let the scope resolve it.
      const path = [this.take().value];
      for (;;) {
        if (this.at(".")) {
          this.take();
          path.push(this.take().value);
        } else if (this.at("[")) {
          this.take();
          path.push(String(this.expression()));
          this.take("]");
        } else if (this.at("[*]")) {
          this.take();
          path.push("*");
        } else break;
      }
      return this.scope.resolve(path);
    }
    return this.primary();
  }

  private primary(): unknown {
    const token = this.take();
    if (token.kind === "num") return Number(token.value);
    if (token.kind === "str") return token.value;
    if (token.kind === "id") {
      if (token.value === "true") return true;
      if (token.value === "false") return false;
      if (token.value === "null") return null;
      const fn = FUNCTIONS[token.value];
      if (!fn) throw new Error(`function ${token.value} is outside the subset`);
      this.take("(");
      const args: unknown[] = [];
      while (!this.at(")")) {
        args.push(this.expression());
        if (this.at(",")) this.take(",");
      }
      this.take(")");
      return fn(...args);
    }
    if (token.value === "(") {
      const value = this.expression();
      this.take(")");
      return value;
    }
    if (token.value === "[") {
      const items: unknown[] = [];
      while (!this.at("]")) {
        items.push(this.expression());
        if (this.at(",")) this.take(",");
      }
      this.take("]");
      return items;
    }
    if (token.value === "{") {
      const object: Record<string, unknown> = {};
      while (!this.at("}")) {
        const key = this.take();
        if (key.kind !== "id" && key.kind !== "str") throw new Error(`bad object key ${key.value}`);
        if (this.at("=")) this.take("=");
        else this.take(":");
        object[key.value] = this.expression();
        if (this.at(",")) this.take(",");
      }
      this.take("}");
      return object;
    }
    throw new Error(`unexpected ${token.value}`);
  }
}

function apply(op: string, left: unknown, right: unknown): unknown {
  switch (op) {
    case "||":
      return Boolean(left) || Boolean(right);
    case "&&":
      return Boolean(left) && Boolean(right);
    case "==":
      return JSON.stringify(left) === JSON.stringify(right);
    case "!=":
      return JSON.stringify(left) !== JSON.stringify(right);
    case ">":
      return (left as number) > (right as number);
    case "<":
      return (left as number) < (right as number);
    case ">=":
      return (left as number) >= (right as number);
    default:
      return (left as number) <= (right as number);
  }
}

/** Evaluates an attribute value as hcl2json renders it: `"${expr}"` strings are expressions. */
export function evaluate(value: unknown, scope: Scope): unknown {
  if (typeof value === "string") {
    const m = /^\$\{([\s\S]*)\}$/.exec(value);
    if (!m) {
      if (value.includes("${")) throw new Error(`string templates are outside the subset: ${value}`);
      return value;
    }
    return new Parser(tokenize(m[1] ?? ""), scope).parse();
  }
  if (Array.isArray(value)) return value.map((v) => evaluate(v, scope));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, scope)]));
  }
  return value;
}
