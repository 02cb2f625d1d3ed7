/**
 * A user's own corpus: a `.txt` file (one document), a `.jsonl` file (one document per line: the
 * text under `text_field`, optional `id` and `genre` keys), or a directory holding such files
 * (searched recursively, in path order). No POS tags. Files must be UTF-8 (see utf8.ts).
 */
import { existsSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import type { Corpus, Document } from "./document.ts";
import { readUtf8File } from "./utf8.ts";
import { ignoreBadJson } from "../../pipeline/missing.ts";

const EXTS = [".txt", ".jsonl"];

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    const entries = [...Deno.readDirSync(d)].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory) walk(p);
      else if (EXTS.some((x) => e.name.endsWith(x))) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function readJsonl(path: string, name: string, textField: string): Document[] {
  const docs: Document[] = [];
  const lines = readUtf8File(path).split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      ignoreBadJson(e);
      throw new Error(`${path}:${i + 1}: not a JSON object (each line of a .jsonl corpus must be one)`);
    }
    const text = rec?.[textField];
    if (typeof text !== "string") {
      throw new Error(
        `${path}:${i + 1}: no string field "${textField}" (set pretokenize.text_field to the key holding the text)`,
      );
    }
    const id = typeof rec.id === "string" || typeof rec.id === "number" ? String(rec.id) : `${name}:${i + 1}`;
    const genre = typeof rec.genre === "string" ? rec.genre : null;
    docs.push({ id, genre, text });
  });
  return docs;
}

/** Read a .txt / .jsonl file or a directory of them; one-line errors for a missing or empty path. */
export function readTextCorpus(path: string, textField: string): Corpus {
  const abs = resolve(path);
  if (!existsSync(abs)) {
    throw new Error(
      `corpus path ${abs} does not exist: set pretokenize.corpus to "brown" or to a .txt / .jsonl file or a directory of them`,
    );
  }
  const isDir = statSync(abs).isDirectory();
  const files = isDir ? listFiles(abs) : [abs];
  if (files.length === 0) throw new Error(`corpus directory ${abs} holds no .txt or .jsonl files`);
  const documents: Document[] = [];
  for (const f of files) {
    const name = isDir ? relative(abs, f) : basename(f);
    if (f.endsWith(".jsonl")) documents.push(...readJsonl(f, name, textField));
    else if (f.endsWith(".txt")) documents.push({ id: name, genre: null, text: readUtf8File(f) });
    else throw new Error(`corpus file ${f} is neither .txt nor .jsonl`);
  }
  // Blank documents would only add whitespace tokens; drop them.
  return { name: path, documents: documents.filter((d) => d.text.trim() !== ""), tags: [] };
}
