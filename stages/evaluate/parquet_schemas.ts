/**
 * Column names and DuckDB types of the evaluate stage's Parquet files (meanings: ./latent_rows.ts,
 * ./examples.ts). Kept apart from the code that fills them so readers (export, query fixtures) can import
 * the names without pulling evaluate's code into their fingerprint.
 */

/** `latents.parquet`: one row per latent. */
export const LATENTS_SCHEMA = {
  latent: "INTEGER",
  fires: "BIGINT",
  frequency: "DOUBLE",
  log10_frequency: "DOUBLE",
  mean_activation: "DOUBLE",
  max_activation: "DOUBLE",
  dead: "BOOLEAN",
  dense: "BOOLEAN",
  decoder_norm: "DOUBLE",
  enc_dec_cosine: "DOUBLE",
  act_hist: "INTEGER[]",
  act_hist_max: "DOUBLE",
  top_tag: "VARCHAR",
  top_tag_precision: "DOUBLE",
  top_tag_recall: "DOUBLE",
  top_tag_f1: "DOUBLE",
  top_genre: "VARCHAR",
  top_genre_precision: "DOUBLE",
  top_genre_recall: "DOUBLE",
  top_genre_f1: "DOUBLE",
} as const;

/** `examples.parquet`: top and lower-quantile example contexts per latent. */
export const EXAMPLES_SCHEMA = {
  latent: "INTEGER",
  kind: "VARCHAR",
  rank: "INTEGER",
  quantile: "DOUBLE",
  activation: "FLOAT",
  token_index: "UINTEGER",
  seq: "INTEGER",
  pos: "INTEGER",
  token: "VARCHAR",
  tag: "VARCHAR",
  genre: "VARCHAR",
  doc: "VARCHAR",
  center: "INTEGER",
  tokens: "VARCHAR[]",
  acts: "FLOAT[]",
  text: "VARCHAR",
} as const;
