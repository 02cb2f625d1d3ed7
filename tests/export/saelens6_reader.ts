/**
 * How SAELens 6.18 turns a folder's cfg.json into an SAE config, ported line by line from its source
 * (github.com/jbloomAus/SAELens, sae_lens/loading/pretrained_sae_loaders.py `handle_config_defaulting`,
 * `handle_pre_6_0_config`, `LLM_METADATA_KEYS`; sae_lens/saes/sae.py `SAEConfig.from_dict`; the config
 * dataclasses of sae_lens/saes/{standard,topk,jumprelu}_sae.py), so tests can check which of our keys it
 * keeps without Python. Only the parts that decide which keys survive are ported.
 */

export const LLM_METADATA_KEYS = new Set([
  "model_name",
  "hook_name",
  "model_class_name",
  "hook_head_index",
  "model_from_pretrained_kwargs",
  "prepend_bos",
  "exclude_special_tokens",
  "neuronpedia_id",
  "context_size",
  "seqpos_slice",
  "dataset_path",
  "sae_lens_version",
  "sae_lens_training_version",
  "hook_name_out",
  "hook_head_index_out",
]);

/** Dataclass fields of each inference config class (SAEConfig's plus the architecture's own). */
const BASE_FIELDS = [
  "d_in",
  "d_sae",
  "dtype",
  "device",
  "apply_b_dec_to_input",
  "normalize_activations",
  "reshape_activations",
  "metadata",
];
export const CONFIG_FIELDS: Record<string, string[]> = {
  standard: BASE_FIELDS,
  jumprelu: BASE_FIELDS,
  topk: [...BASE_FIELDS, "k", "rescale_acts_by_decoder_norm"],
};

export interface Saelens6Config {
  /** True when handle_config_defaulting took the pre-6.0 conversion path. */
  pre6: boolean;
  architecture: string;
  /** Values SAEConfig.from_dict passes to the config class (metadata aside). */
  fields: Record<string, unknown>;
  /** What SAEMetadata(**metadata) holds. */
  metadata: Record<string, unknown>;
}

/** `Version(v) < Version("6.0.0-rc.0")` for the release strings SAELens writes (major version below 6). */
function before6(v: string): boolean {
  return Number(/^(\d+)/.exec(v)?.[1] ?? 0) < 6;
}

function pick(dict: Record<string, unknown>, keys: Iterable<string>): Record<string, unknown> {
  const want = new Set(keys);
  return Object.fromEntries(Object.entries(dict).filter(([k]) => want.has(k)));
}

/** SAE.load_from_disk's config path: handle_config_defaulting, then SAEConfig.from_dict. */
export function readSaelens6Config(cfgJson: Record<string, unknown>): Saelens6Config {
  let cfg = { ...cfgJson };
  const meta = cfg.metadata as Record<string, unknown> | undefined;
  const version = (cfg.sae_lens_version ?? meta?.sae_lens_version) as string | undefined;
  const pre6 = !version || before6(version);
  if (pre6) {
    // handle_pre_6_0_config (the renames and defaults that matter for which keys survive)
    const renames: Record<string, string> = {
      hook_point: "hook_name",
      hook_point_head_index: "hook_head_index",
      activation_fn_str: "activation_fn",
    };
    const renamed = Object.fromEntries(Object.entries(cfg).map(([k, v]) => [renames[k] ?? k, v]));
    renamed.architecture ??= "standard";
    const kwargs = renamed.activation_fn_kwargs as { k?: number } | undefined;
    if (renamed.activation_fn === "topk" && kwargs?.k != null) {
      renamed.architecture = "topk";
      renamed.k = kwargs.k;
    }
    const arch = String(renamed.architecture);
    const out = pick(renamed, CONFIG_FIELDS[arch]);
    if (arch === "topk" && "activation_fn_kwargs" in renamed) out.k = kwargs?.k;
    out.metadata = pick(renamed, LLM_METADATA_KEYS);
    out.architecture = arch;
    cfg = out;
  }
  const architecture = String(cfg.architecture);
  const fieldNames = CONFIG_FIELDS[architecture];
  if (!fieldNames) throw new Error(`SAELens 6 has no inference SAE "${architecture}"`);
  const { metadata = {}, ...fields } = pick(cfg, fieldNames);
  return { pre6, architecture, fields, metadata: metadata as Record<string, unknown> };
}
