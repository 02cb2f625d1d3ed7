import { assert, assertEquals } from "../assert.ts";
import { buildSaelens, SAELENS_FORMAT_VERSION } from "../../stages/export/saelens.ts";
import { readSaelens6Config } from "./saelens6_reader.ts";
import { makeFixture, type TrainArch } from "./fixtures.ts";

for (const arch of ["topk", "batchtopk", "standard"] as TrainArch[]) {
  Deno.test(`saelens 6 reads our cfg.json (${arch}) as a 6.x config and keeps all of its metadata`, async () => {
    const root = await Deno.makeTempDir();
    try {
      const dIn = 8, dSae = 20, k = 3;
      const fx = await makeFixture(root, { arch, dIn, dSae, k, seed: 3, logSteps: 1 });
      const cfg = JSON.parse(buildSaelens({ trainCfg: fx.trainCfg, weights: fx.weights, density: null })["cfg.json"]);
      assertEquals(cfg.metadata.sae_lens_version, SAELENS_FORMAT_VERSION);
      assert("sae_lens_training_version" in cfg.metadata);
      assertEquals(cfg.metadata.sae_lens_training_version, null);

      const read = readSaelens6Config(cfg);
      assertEquals(read.pre6, false);
      assertEquals(read.architecture, arch === "batchtopk" ? "jumprelu" : arch);
      const fields: Record<string, unknown> = {
        d_in: dIn,
        d_sae: dSae,
        dtype: "float32",
        device: "cpu",
        apply_b_dec_to_input: true,
        normalize_activations: "none",
        reshape_activations: "none",
      };
      if (arch === "topk") Object.assign(fields, { k, rescale_acts_by_decoder_norm: false });
      assertEquals(read.fields, fields);
      // Every LLM key SAELens uses, and ours, survive with their values.
      assertEquals(read.metadata, cfg.metadata);
      for (const key of ["model_name", "hook_name", "hook_head_index", "context_size", "prepend_bos", "dataset_path"]) {
        assert(key in read.metadata, `metadata lacks ${key}`);
      }
      // Ours: the train stage's metadata (k, seed, activation_scaling_factor, ...) and hook_layer.
      const ours = { ...(fx.trainCfg.metadata as Record<string, unknown>), hook_layer: 0 };
      assertEquals(Object.keys(ours).length, 5);
      for (const [key, v] of Object.entries(ours)) assertEquals(read.metadata[key], v, key);

      // Control: without the version SAELens takes the pre-6.0 path and drops our keys (the bug).
      const { sae_lens_version: _, ...oldMeta } = cfg.metadata;
      const old = readSaelens6Config({ ...cfg, metadata: oldMeta });
      assertEquals(old.pre6, true);
      for (const key of Object.keys(ours)) assert(!(key in old.metadata), `pre-6.0 path keeps ${key}?`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}
