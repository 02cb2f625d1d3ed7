import { assert, assertEquals } from "../assert.ts";
import { firstInvalidUtf8 } from "../../stages/pretokenize/utf8.ts";
import { Rng } from "../../stages/train/rng.ts";

const fatal = new TextDecoder("utf-8", { fatal: true });
const decodes = (b: Uint8Array) => {
  try {
    fatal.decode(b);
    return true;
  } catch {
    return false;
  }
};

Deno.test("firstInvalidUtf8: hand-checked cases", () => {
  const at = (...b: number[]) => firstInvalidUtf8(new Uint8Array(b));
  assertEquals(at(0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80), -1); // a é € 😀
  assertEquals(at(0x61, 0xe9, 0x74), 1); // Latin-1 é
  assertEquals(at(0xc0, 0x80), 0); // overlong NUL
  assertEquals(at(0x61, 0xed, 0xa0, 0x80), 1); // surrogate U+D800
  assertEquals(at(0xf4, 0x90, 0x80, 0x80), 0); // above U+10FFFF
  assertEquals(at(0x61, 0x62, 0xe2, 0x82), 2); // truncated at the end
  assertEquals(at(0xff, 0xfe, 0x61, 0x00), 0); // UTF-16 LE BOM
});

Deno.test("firstInvalidUtf8 agrees with a fatal TextDecoder on random bytes (mostly-valid and random)", () => {
  const r = new Rng(7), rand = () => r.next();
  const pieces = [[0x41], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0x0a]];
  let invalid = 0;
  for (let t = 0; t < 3000; t++) {
    const bytes: number[] = [];
    const len = 1 + Math.floor(rand() * 24);
    for (let i = 0; i < len; i++) {
      if (t % 2 === 0) bytes.push(...pieces[Math.floor(rand() * pieces.length)]);
      else bytes.push(Math.floor(rand() * 256));
    }
    if (rand() < 0.5) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256); // one corrupted byte
    const b = new Uint8Array(bytes);
    const at = firstInvalidUtf8(b);
    assertEquals(at === -1, decodes(b), `bytes ${bytes}`);
    if (at >= 0) {
      invalid++;
      assert(decodes(b.subarray(0, at)), `prefix before ${at} is valid: ${bytes}`);
      assert(!decodes(b.subarray(at)), `the sequence at ${at} is invalid: ${bytes}`);
    }
  }
  assert(invalid > 1000 && invalid < 2900, `both outcomes exercised (${invalid} invalid)`);
});
