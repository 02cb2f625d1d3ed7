/**
 * The texture GEMM path: each call packs A and B into zero-padded rgba32float textures (a buffer copy
 * when the buffer has COPY_SRC usage and rows are 256-byte multiples, else pack_tex.wgsl) and runs the
 * register-tiled gemm_tex.wgsl template. Why textures and the limits: ./mod.ts.
 */
import { bindEntries } from "../runtime/bindings.ts";
import { pipeline, shader } from "../runtime/compile.ts";
import type { RowTexture } from "../runtime/row_texture.ts";
import { fitTile, type GemmTile, gemmTile, tileBlock } from "./tile.ts";
import {
  checkBuffers,
  checkGroups,
  type Encode,
  flagBits,
  type GemmSpec,
  lastGroupCache,
  type Owned,
  paramsBuffer,
  requiredBytes,
} from "./spec.ts";

const TEX_SHADER = new URL("./gemm_tex.wgsl", import.meta.url);
const PACK_SHADER = new URL("./pack_tex.wgsl", import.meta.url);

interface OperandShape {
  size: number[];
  rows: number;
  cols: number;
  transpose: boolean;
  subMode: number;
}

/** Texture sides for the padded operands: [width in texels, height]. */
function textureShapes(
  spec: GemmSpec,
  tile: GemmTile,
): { a: OperandShape; b: OperandShape; KQ: number; groups: number[] } {
  const { M, K, N } = spec;
  const block = tileBlock(tile);
  const Mpad = Math.ceil(M / block.M) * block.M;
  const Npad = Math.ceil(N / block.N) * block.N;
  const KQ = Math.ceil(K / 4);
  // The texture holds the logical matrix L[rows, cols] (texel = 4 consecutive columns); transpose: the
  // buffer stores Lᵀ. subMode 1 subtracts sub[col] (sub is indexed by k, a column of opA).
  const a = { size: [KQ, Mpad], rows: M, cols: K, transpose: !!spec.transA, subMode: spec.subtractInput ? 1 : 0 };
  const b = spec.transB
    ? { size: [KQ, Npad], rows: N, cols: K, transpose: false, subMode: 0 }
    : { size: [Npad / 4, 4 * KQ], rows: K, cols: N, transpose: false, subMode: 0 };
  return { a, b, KQ, groups: [Npad / block.N, Mpad / block.M] };
}

/** The register tile this GEMM uses: the spec's override (fitted to the limits) or the device's (./tile.ts). */
function tileOf(device: GPUDevice, spec: GemmSpec): GemmTile {
  return spec.tile ? fitTile(device, spec.tile) : gemmTile(device);
}

/** Whether the texture path applies: the WGSL feature and every padded side within the device limit. */
export function textureFits(device: GPUDevice, spec: GemmSpec): boolean {
  const features = (navigator.gpu as { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures;
  if (!features?.has("readonly_and_readwrite_storage_textures")) return false;
  const { a, b } = textureShapes(spec, tileOf(device, spec));
  const max = device.limits.maxTextureDimension2D;
  return [...a.size, ...b.size].every((s) => s <= max);
}

export function textureGemm(
  device: GPUDevice,
  spec: GemmSpec,
  owned: Owned,
): { encode: Encode; packedA?: RowTexture; tile: GemmTile } {
  const { M, K, N } = spec;
  const tile = tileOf(device, spec);
  const shapes = textureShapes(spec, tile);
  checkGroups(device, spec, shapes.groups[0], shapes.groups[1]);
  const packA = createPacker(device, shapes.a, "A", owned);
  const packB = createPacker(device, shapes.b, "B", owned);
  const s = shader(device, TEX_SHADER, { ...tile });
  const { pipeline: p } = pipeline(device, s, "main", { B_T: spec.transB ? 1 : 0, OUT_TEX: spec.outTexture ? 1 : 0 });
  const outTex = spec.outTexture;
  const fields = [{ u32: M }, { u32: N }, { u32: shapes.KQ }, { u32: flagBits(spec) & 3 }, { f32: spec.alpha ?? 1 }];
  const params = paramsBuffer(device, [...fields, { u32: outTex?.fold ?? 1 }, { u32: outTex?.qw ?? 1 }]);
  const need = requiredBytes(spec);
  const dummy = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  const dummyTex = device.createTexture({
    size: [1, 1],
    format: "rgba32float",
    usage: GPUTextureUsage.STORAGE_BINDING,
  });
  owned.push(params, dummy, dummyTex);
  const aView = packA.texture.createView();
  const bView = packB.texture.createView();
  const dummyView = dummyTex.createView();
  const group = lastGroupCache(([out, bias]) =>
    device.createBindGroup({
      layout: p.getBindGroupLayout(0),
      entries: bindEntries(device, s.bindings, "main", {
        at: aView,
        bt: bView,
        bias: spec.bias ? { buffer: bias, size: need.bias } : dummy,
        c: outTex ? dummy : { buffer: out, size: need.out },
        p: params,
        ct: outTex ? outTex.view : dummyView,
      }),
    })
  );
  // The packed A doubles as a row texture (fold 1: row m at texel row m) when it holds plain opA.
  const packedA: RowTexture | undefined = !spec.transA && K % 4 === 0
    ? {
      rows: M,
      cols: K,
      fold: 1,
      qw: K / 4,
      view: aView,
      encodeCopy: () => {
        throw new Error("gemm: packedA is filled by the GEMM's encode, not copied");
      },
      destroy: () => {},
    }
    : undefined;
  return {
    packedA,
    tile,
    encode: (enc, bufs) => {
      checkBuffers(spec, bufs);
      const bg = group([outTex ? undefined : bufs.out, bufs.bias]);
      packA.encode(enc, bufs.a, bufs.sub);
      packB.encode(enc, bufs.b);
      const pass = enc.beginComputePass({ label: "gemm_tex" });
      pass.setPipeline(p);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(shapes.groups[0], shapes.groups[1]);
      pass.end();
    },
  };
}

/** Owns one operand texture and fills it from a buffer: a plain copy when possible, else pack_tex.wgsl. */
function createPacker(device: GPUDevice, shape: OperandShape, label: string, owned: Owned) {
  const [width, height] = shape.size;
  const texture = device.createTexture({
    label: `gemm ${label}`,
    size: [width, height],
    format: "rgba32float",
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
  });
  owned.push(texture);
  const s = shader(device, PACK_SHADER);
  const { pipeline: p } = pipeline(device, s, "main");
  const params = paramsBuffer(device, [{ u32: shape.rows }, { u32: shape.cols }, { u32: shape.subMode }, {
    u32: shape.transpose ? 1 : 0,
  }]);
  const srcBytes = shape.rows * shape.cols * 4;
  const subBytes = shape.cols * 4; // subMode 1 only (sub[k] along opA's columns)
  const view = texture.createView();
  const dummy = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  owned.push(params, dummy);
  const group = lastGroupCache(([src, sub]) =>
    device.createBindGroup({
      layout: p.getBindGroupLayout(0),
      entries: bindEntries(device, s.bindings, "main", {
        src: { buffer: src, size: srcBytes },
        sub: shape.subMode ? { buffer: sub, size: subBytes } : dummy,
        dst: view,
        p: params,
      }),
    })
  );
  // A copy leaves the padding as created (zero); it needs 256-byte rows and a COPY_SRC buffer.
  const copyable = shape.subMode === 0 && !shape.transpose && (shape.cols * 4) % 256 === 0;
  return {
    texture,
    encode(enc: GPUCommandEncoder, src: GPUBuffer, sub?: GPUBuffer) {
      if (copyable && (src.usage & GPUBufferUsage.COPY_SRC)) {
        enc.copyBufferToTexture(
          { buffer: src, bytesPerRow: shape.cols * 4, rowsPerImage: shape.rows },
          { texture },
          [shape.cols / 4, shape.rows],
        );
        return;
      }
      const bg = group([src, sub]);
      const pass = enc.beginComputePass({ label: `gemm pack ${label}` });
      pass.setPipeline(p);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(Math.ceil(width / 8), Math.ceil(height / 8));
      pass.end();
    },
  };
}
