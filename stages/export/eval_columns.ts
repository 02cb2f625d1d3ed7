/**
 * The column names of the evaluate stage's Parquet files, typed by its schemas: export reads exactly
 * these (a rename in evaluate fails type checking here instead of silently dropping a dashboard column).
 */
import type { EXAMPLES_SCHEMA, LATENTS_SCHEMA } from "../evaluate/parquet_schemas.ts";

/** A column of `latents.parquet`. */
export type LatentColumn = keyof typeof LATENTS_SCHEMA;
/** A column of `examples.parquet`. */
export type ExampleColumn = keyof typeof EXAMPLES_SCHEMA;
