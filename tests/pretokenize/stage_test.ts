import { assert, assertEquals, assertMatch } from "../assert.ts";
import { makeTinyModelDir } from "../fixtures/tiny_model.ts";
import { errorOf, readTree, runStage, tempDir } from "./run_stage.ts";
import { pretokenizeStage } from "../../stages/pretokenize/mod.ts";
import { loadModelTokenizer } from "../../stages/pretokenize/tokenizer.ts";
import { readBrown } from "../../stages/pretokenize/brown.ts";
import { NO_DOC, NO_TAG } from "../../stages/pretokenize/pack.ts";

const modelDir = tempDir("tiny-model-");
await makeTinyModelDir(modelDir);
const inputs = { model: modelDir };
const FIXTURE = new URL("../../data/fixtures/own_text", import.meta.url).pathname;

function readOut(dir: string) {
  const meta = JSON.parse(Deno.readTextFileSync(`${dir}/meta.json`));
  const vocab: string[] = JSON.parse(Deno.readTextFileSync(`${dir}/vocab.json`));
  const docs: { id: string; genre: string | null }[] = JSON.parse(Deno.readTextFileSync(`${dir}/docs.json`));
  const buf = (f: string) => Deno.readFileSync(`${dir}/${f}`).buffer;
  const tokens = new Uint32Array(buf("tokens.bin")), doc = new Uint32Array(buf("doc.bin"));
  const tag = new Uint16Array(buf("tag.bin")), genre = new Uint8Array(buf("genre.bin"));
  const at = (i: number) => ({
    piece: vocab[tokens[i]],
    tag: meta.tags[tag[i]] ?? null,
    doc: docs[doc[i]]?.id ?? null,
    genre: meta.genres[genre[i]] ?? null,
  });
  return { meta, vocab, docs, tokens, doc, tag, genre, at };
}

Deno.test("pretokenize Brown: files, shapes, and a hand-checked line of ca01 (tag, doc, genre per token)", async () => {
  const out = readOut(await runStage(pretokenizeStage, { shuffle: false, max_tokens: 300, context_size: 32 }, inputs));
  const { meta } = out;
  assertEquals([meta.n_seq, meta.context_size, meta.n_tokens, meta.n_docs], [10, 32, 300, 500]);
  assertEquals(out.tokens.length, 320);
  assertEquals([out.doc.length, out.tag.length, out.genre.length], [320, 320, 320]);
  assertEquals(meta.genres.slice(0, 3), ["news", "editorial", "reviews"]);
  assertEquals(out.docs[0], { id: "ca01", genre: "news" });
  assertEquals(out.vocab.length, meta.vocab_size);
  // ca01: "The/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at investigation/nn"
  // tiny vocab: "▁the" and "▁said" are pieces, "Fulton" is spelled ▁f u l t o n.
  assertEquals(out.at(0), { piece: "▁the", tag: "at", doc: "ca01", genre: "news" });
  for (let i = 1; i <= 6; i++) assertEquals(out.at(i).tag, "np-tl");
  assertEquals(out.at(1).piece, "▁f");
  assertEquals(out.at(7), { piece: "▁c", tag: "nn-tl", doc: "ca01", genre: "news" });
  assertEquals(out.at(22), { piece: "▁said", tag: "vbd", doc: "ca01", genre: "news" });
  assertEquals(out.at(29), { piece: "▁an", tag: "at", doc: "ca01", genre: "news" });
  assertEquals(out.at(30), { piece: "▁in", tag: "nn", doc: "ca01", genre: "news" });
  // every whole-word "▁the" is an article, every "▁said" a past verb form
  for (let i = 0; i < meta.n_tokens; i++) {
    const a = out.at(i);
    if (a.piece === "▁the") assertMatch(a.tag, /^at/);
    if (a.piece === "▁said") assertMatch(a.tag, /^vb[dn]/);
  }
  // padding: flat index >= n_tokens, pad id and "none" metadata
  for (let i = 300; i < 320; i++) assertEquals([out.tokens[i], out.doc[i], out.tag[i]], [0, NO_DOC, NO_TAG]);
});

Deno.test("pretokenize is deterministic (byte-identical reruns) and the seed matters", async () => {
  const cfg = { max_tokens: 2000, context_size: 64, seed: 7 };
  const a = readTree(await runStage(pretokenizeStage, cfg, inputs));
  const b = readTree(await runStage(pretokenizeStage, cfg, inputs));
  assertEquals([...a.keys()], [
    "doc.bin",
    "docs.json",
    "genre.bin",
    "meta.json",
    "tag.bin",
    "token_text.json",
    "tokens.bin",
    "vocab.json",
  ]);
  for (const [k, v] of a) assertEquals(v, b.get(k), `${k} differs between runs`);
  const c = readTree(await runStage(pretokenizeStage, { ...cfg, seed: 8 }, inputs));
  assert(!a.get("tokens.bin")!.every((v, i) => v === c.get("tokens.bin")![i]), "another seed gave the same tokens");
  // shuffled documents: the capped slice does not simply start at ca01
  const docs = new Set(new Uint32Array(a.get("doc.bin")!.buffer));
  assert(!docs.has(0) && docs.size >= 2, `unexpected documents in a shuffled slice: ${[...docs]}`);
});

Deno.test("pretokenize own text: .txt and .jsonl in a directory, ids and genres, no tags, specials", async () => {
  const out = readOut(
    await runStage(pretokenizeStage, {
      corpus: FIXTURE,
      shuffle: false,
      context_size: 16,
      begin_batch_token: 1,
      sequence_separator_token: "eos",
    }, inputs),
  );
  assertEquals(out.docs.map((d) => d.id), ["letters.txt", "n1", "more/notes.jsonl:2", "q1"]);
  assertEquals(out.docs.map((d) => d.genre), [null, "notes", "notes", "questions"]);
  assertEquals(out.meta.genres, ["notes", "questions"]);
  assertEquals(out.meta.tags, []);
  assertEquals([out.meta.bos_token_id, out.meta.prepend_bos, out.meta.sequence_separator_token_id], [1, true, 1]);
  for (let s = 0; s < out.meta.n_seq; s++) assertEquals(out.tokens[s * 16], 1);
  assertEquals(out.at(1), { piece: "▁the", tag: null, doc: "letters.txt", genre: null });
  assert(out.tag.every((t) => t === NO_TAG));
  // one separator before each of the 3 later documents, plus one begin token per sequence
  const real = [...out.doc.subarray(0, out.meta.n_tokens)].filter((d) => d !== NO_DOC).length;
  assertEquals(out.meta.n_tokens - real, out.meta.n_seq + 3);
});

Deno.test("pretokenize: one-line errors for bad input", async () => {
  const run = (o: Record<string, unknown>, inp: Record<string, string> = inputs) =>
    errorOf(() => runStage(pretokenizeStage, { context_size: 32, ...o }, inp));
  const empty = tempDir();
  const emptyTxt = tempDir();
  Deno.writeTextFileSync(`${emptyTxt}/blank.txt`, "   \n");
  // Valid text, then a Latin-1 "é" (0xe9 followed by an ASCII byte is not UTF-8) at byte 11.
  const latin1 = tempDir();
  Deno.writeFileSync(`${latin1}/a.txt`, new Uint8Array([...new TextEncoder().encode("fine text, "), 0xe9, 0x74]));
  const badJsonl = tempDir();
  Deno.writeFileSync(
    `${badJsonl}/b.jsonl`,
    new Uint8Array([...new TextEncoder().encode('{"text": "'), 0xff, 0x22, 0x7d]),
  );
  const cases: [Promise<string>, RegExp][] = [
    [run({ corpus: "/nonexistent/corpus.txt" }), /corpus path .* does not exist: set pretokenize.corpus/],
    [run({ corpus: empty }), /holds no \.txt or \.jsonl files/],
    [run({ corpus: emptyTxt }), /is empty: no document holds any text/],
    [run({ corpus: FIXTURE, text_field: "body" }), /no string field "body" \(set pretokenize.text_field/],
    [run({ corpus: latin1 }), /corpus file .*\/a\.txt is not UTF-8 text: invalid byte 0xe9 at offset 11 \(convert/],
    [run({ corpus: badJsonl }), /corpus file .*\/b\.jsonl is not UTF-8 text: invalid byte 0xff at offset 10 /],
    [run({}, { model: empty }), /has no tokenizer\.json: re-run the model stage/],
    [run({ context_size: 128 }), /context_size 128 is above the max positions of tiny-test-model \(64\)/],
    [run({ begin_batch_token: "bos" }), /has no bos token; set it to null/],
    [run({ sequence_separator_token: "first" }), /pretokenize.sequence_separator_token.*expected/],
    [run({ begin_sequence_token: 100000 }), /token id 100000 is outside the vocabulary/],
  ];
  for (const [p, re] of cases) {
    const msg = await p;
    assertMatch(msg, re);
    assert(!msg.includes("\n"), `multi-line error: ${msg}`);
  }
});

Deno.test("tokenizer: the word memo gives the same ids as transformers.js on whole documents", async () => {
  const fast = await loadModelTokenizer(modelDir);
  const exact = await loadModelTokenizer(modelDir, { exact: true });
  const docs = readBrown().documents.filter((_, i) => i % 50 === 0);
  let n = 0;
  for (const d of docs) {
    const text = d.text.slice(0, 3000) + "  Naïve ﬁne ½ — “quoted”  x";
    const a = fast.encode(text);
    assertEquals(a, exact.encode(text), `memo differs on ${d.id}`);
    n += a.length;
  }
  assert(n > 10000);
});
