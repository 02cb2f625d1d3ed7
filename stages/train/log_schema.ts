/** Columns of `train_log.parquet`, one row per logged step (export and query read them by these names). */
export const LOG_SCHEMA = {
  step: "BIGINT",
  tokens: "BIGINT",
  lr: "DOUBLE",
  loss: "DOUBLE",
  mse: "DOUBLE",
  explained_variance: "DOUBLE",
  l0: "DOUBLE",
  l1: "DOUBLE",
  dead_latents: "BIGINT",
  aux_loss: "DOUBLE",
  resampled_latents: "BIGINT",
  val_mse: "DOUBLE",
  val_explained_variance: "DOUBLE",
  val_l0: "DOUBLE",
};
