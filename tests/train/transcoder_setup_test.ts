/** The train stage's transcoder checks: the output side's one-binding limit, one line naming what to lower. */
import { assert, assertThrows } from "../assert.ts";
import { checkTranscoderBindings } from "../../stages/train/transcoder_setup.ts";

Deno.test("checkTranscoderBindings: max(d_sae, batch, d_in) × d_out f32 must fit one binding", () => {
  const c = { d_in: 512, d_sae: 4096, batch: 2048, d_out: 2048, architecture: "standard" }; // 4096 × 2048 × 4 = 32 MiB
  checkTranscoderBindings(c, 32 * 2 ** 20);
  const e = assertThrows(() => checkTranscoderBindings(c, 32 * 2 ** 20 - 4));
  assert(
    /4096 × d_out 2048 .*32 MiB.*lower d_sae or batch_size/.test(e.message) && !e.message.includes("\n"),
    e.message,
  );
  assertThrows(() => checkTranscoderBindings({ ...c, d_sae: 16, batch: 5000 }, 32 * 2 ** 20)); // the batch side
});

Deno.test("checkTranscoderBindings: the sparse path splits W_dec; only a skip transcoder's W_skip must fit one binding", () => {
  const c = { d_in: 4096, d_sae: 65536, batch: 4096, d_out: 4096, architecture: "topk" }; // W_dec 1 GiB: slabs
  checkTranscoderBindings(c, 32 * 2 ** 20);
  const e = assertThrows(() => checkTranscoderBindings({ ...c, skip: true }, 32 * 2 ** 20)); // W_skip 64 MiB
  assert(
    /W_skip \(d_in 4096 × d_out 4096.*skip_transcoder false/.test(e.message) && !e.message.includes("\n"),
    e.message,
  );
});
