/**
 * `openResults({store, run})`: an in-process DuckDB connection with the result views of a run
 * (see views.ts). Close it with `close()`.
 */
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { resolveRun } from "./resolve_run.ts";
import { createViews } from "./views.ts";

export interface ResultsOptions {
  /** The store directory (default `data/store`). */
  store?: string;
  /** A run id from runs.ndjson (default: the latest run, from pipeline.lock.json). */
  run?: string | null;
  /** Build the `tokens` view (reads pretokenize's files into memory; default true). */
  tokens?: boolean;
}

export interface Results {
  connection: DuckDBConnection;
  run_id: string;
  /** Views created. */
  views: string[];
  /** Views not available for this run, with the reason. */
  missing: Record<string, string>;
  close(): void;
}

export async function openResults(opts: ResultsOptions = {}): Promise<Results> {
  const store = opts.store ?? "data/store";
  const run = await resolveRun(store, opts.run);
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const close = () => {
    connection.closeSync();
    instance.closeSync();
  };
  try {
    const { views, missing } = await createViews(connection, run, store, opts.tokens ?? true);
    return { connection, run_id: run.run_id, views, missing, close };
  } catch (e) {
    close();
    throw e;
  }
}
