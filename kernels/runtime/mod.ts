/**
 * The kernel runtime every family builds on: the device and buffer helpers, the one compile path
 * (includes, templates, compile errors, shader and pipeline caches), bindings by name with the
 * binding-size check, row textures, and the `state` / `hyper` slot tables.
 */
export * from "./device.ts";
export { checkBinding, type Resources } from "./bindings.ts";
export { compileShader, pipeline, type Shader, shader } from "./compile.ts";
export { type BoundKernel, compileKernel, groupsFor, INVALID, type Kernel, kernelOf } from "./kernel.ts";
export { createRowTexture, type RowTexture, rowTexturesAvailable } from "./row_texture.ts";
export { HYPER, HYPER_WORDS, hyperArray, STATE, STATE_WORDS } from "./slots.ts";
