import { assertEquals } from "../assert.ts";
import { parsePeerOutput } from "../../bench/torch_peer.ts";

Deno.test("torch peer: parses the three variants' lines and ignores anything else", () => {
  const text = [
    "torch 1.13.0a0+git dense(SAELens-style): d_in=512 d_sae=8192 k=32 B=4096: 1436 ms/step, 2852 tokens/s",
    "some warning",
    "torch 1.13.0a0+git sparse(embedding_bag): d_in=512 d_sae=8192 k=32 B=4096: 799 ms/step, 5126 tokens/s",
    "torch 1.13.0a0+git fullsparse(sparse encoder backward): d_in=512 d_sae=8192 k=32 B=4096: 690 ms/step, 5936 tokens/s",
  ].join("\n");
  assertEquals(parsePeerOutput(text), [
    { variant: "dense", msPerStep: 1436, tokensPerS: 2852 },
    { variant: "sparse", msPerStep: 799, tokensPerS: 5126 },
    { variant: "fullsparse", msPerStep: 690, tokensPerS: 5936 },
  ]);
});
