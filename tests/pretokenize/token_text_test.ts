/**
 * Token display text by the tokenizer's own decoder, for each family the pipeline accepts: byte-level
 * BPE (the tiny GPT-2 fixture), SentencePiece/Metaspace (the tiny Unigram fixture) and WordPiece (a
 * small BERT-style tokenizer.json written here). Property: the texts of a text's tokens, concatenated,
 * are the decoder's text of the whole sequence (up to the first token's leading space).
 */
import { assertEquals } from "../assert.ts";
import { loadModelTokenizer } from "../../stages/pretokenize/tokenizer.ts";
import { tokenTexts } from "../../stages/pretokenize/token_text.ts";
import { makeTinyGpt2Dir } from "../fixtures/tiny_gpt2.ts";
import { makeTinyModelDir } from "../fixtures/tiny_model.ts";

const root = await Deno.makeTempDir({ prefix: "token_text_" });
const SENTENCE = "Dear friend, the weather is lovely this morning. Write soon!";

async function wordPieceDir(dir: string): Promise<void> {
  const vocab = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "dear",
    "friend",
    ",",
    "the",
    "weather",
    "is",
    "love",
    "##ly",
    "this",
  ]
    .concat(["morning", ".", "write", "soon", "!", "w", "##rite", "##s"]);
  const special = (id: number) => ({
    id,
    content: vocab[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/tokenizer.json`,
    JSON.stringify({
      version: "1.0",
      added_tokens: [0, 1, 2, 3].map(special),
      normalizer: {
        type: "BertNormalizer",
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: null,
        lowercase: true,
      },
      pre_tokenizer: { type: "BertPreTokenizer" },
      post_processor: null,
      decoder: { type: "WordPiece", prefix: "##", cleanup: false },
      model: {
        type: "WordPiece",
        unk_token: "[UNK]",
        continuing_subword_prefix: "##",
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(vocab.map((p, i) => [p, i])),
      },
    }),
  );
  await Deno.writeTextFile(
    `${dir}/tokenizer_config.json`,
    JSON.stringify({
      tokenizer_class: "BertTokenizer",
      unk_token: "[UNK]",
      pad_token: "[PAD]",
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      clean_up_tokenization_spaces: false,
    }),
  );
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ model_type: "bert", pad_token_id: 0 }));
}

async function textsOf(dir: string) {
  const tok = await loadModelTokenizer(dir);
  const texts = tokenTexts(tok);
  const ids = tok.encode(SENTENCE);
  return { tok, texts, ids, joined: ids.map((i) => texts[i]).join("") };
}

Deno.test("token text: byte-level BPE (GPT-2) pieces read as text", async () => {
  await makeTinyGpt2Dir(`${root}/gpt2`);
  const { tok, texts, ids, joined } = await textsOf(`${root}/gpt2`);
  assertEquals(joined, tok.decode(ids));
  assertEquals(joined, SENTENCE);
  const G = "\u0120"; // Ġ, byte-level for the space byte
  for (const [id, p] of tok.vocab.entries()) {
    if (p.startsWith(G) && p.length > 1) assertEquals(texts[id], " " + p.slice(1));
  }
  assertEquals(texts[tok.vocab.indexOf("\u010a")], "\n"); // Ċ is the newline byte
  assertEquals(texts.at(-1), "<|endoftext|>");
});

Deno.test("token text: SentencePiece (Metaspace) pieces keep their leading space", async () => {
  await makeTinyModelDir(`${root}/sp`);
  const { tok, texts, ids, joined } = await textsOf(`${root}/sp`);
  assertEquals(joined.trimStart(), tok.decode(ids));
  assertEquals(texts[tok.vocab.indexOf("\u2581the")], " the");
  assertEquals(texts[tok.vocab.indexOf("s")], "s");
});

Deno.test("token text: WordPiece continuation pieces join, word starts get a space", async () => {
  await wordPieceDir(`${root}/wp`);
  const { tok, texts, ids, joined } = await textsOf(`${root}/wp`);
  assertEquals(joined.trimStart(), tok.decode(ids));
  assertEquals(texts[tok.vocab.indexOf("##ly")], "ly");
  assertEquals(texts[tok.vocab.indexOf("the")], " the");
  assertEquals(texts[0], " [PAD]");
});
