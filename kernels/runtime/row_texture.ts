/**
 * Row-major f32 matrices mirrored into rgba32float storage textures, for kernels that gather rows.
 *
 * Why: on lavapipe a storage-buffer load is a per-lane scalar loop, while a texel read moves 4 floats
 * per lane in one gather (see ../gemm/gemm_tex.wgsl): the sparse kernels gather rows of W_dec,
 * dvec, xc and pre through these textures. On GPUs texel reads are cached and fast as well.
 *
 * Layout: logical row r, texel q (floats 4q..4q+3) sits at (x, y) = ((r % fold)·qw + q, r / fold),
 * qw = cols / 4. `fold` rows share one texture row so that a row of bytes is a multiple of 256 (the
 * buffer→texture copy rule) and the height stays within maxTextureDimension2D; the copy is then a plain
 * reshape of the buffer. WGSL side: ./row_texel.wgsl (`// @include` it).
 */

/** True when this device can read rows of `cols` floats through row textures (cols % 4 == 0). */
export function rowTexturesAvailable(device: GPUDevice, cols: number): boolean {
  const features = (navigator.gpu as { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures;
  if (!features?.has("readonly_and_readwrite_storage_textures")) return false;
  return cols % 4 === 0 && cols > 0 && rowFold(cols) * (cols / 4) <= device.limits.maxTextureDimension2D;
}

/** Rows per texture row so that fold·cols·4 bytes is a multiple of 256. */
function rowFold(cols: number): number {
  let f = 1;
  while ((f * cols * 4) % 256 !== 0) f *= 2;
  return f;
}

/**
 * A texture mirroring `rows × cols` f32 of a buffer; `encodeCopy` refreshes it (needs COPY_SRC usage), or
 * only its first `rows` rows (one texture shared by buffers of several sizes).
 */
export interface RowTexture {
  readonly rows: number;
  readonly cols: number;
  /** Logical rows per texture row. */
  readonly fold: number;
  /** Texels per logical row (cols / 4). */
  readonly qw: number;
  readonly view: GPUTextureView;
  encodeCopy(enc: GPUCommandEncoder, src: GPUBuffer, rows?: number): void;
  destroy(): void;
}

export function createRowTexture(device: GPUDevice, rows: number, cols: number, label: string): RowTexture {
  if (!rowTexturesAvailable(device, cols)) throw new Error(`row texture ${label}: unavailable for ${cols} columns`);
  const max = device.limits.maxTextureDimension2D;
  const qw = cols / 4;
  let fold = rowFold(cols);
  while (Math.ceil(rows / fold) > max && 2 * fold * qw <= max) fold *= 2;
  const height = Math.ceil(rows / fold);
  if (height > max) {
    throw new Error(`row texture ${label}: ${rows} × ${cols} does not fit maxTextureDimension2D ${max}`);
  }
  const texture = device.createTexture({
    label,
    size: [fold * qw, Math.max(1, height)],
    format: "rgba32float",
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
  });
  const rowBytes = fold * cols * 4;
  return {
    rows,
    cols,
    fold,
    qw,
    view: texture.createView(),
    encodeCopy(enc, src, n = rows) {
      const full = Math.floor(n / fold);
      const rest = n % fold;
      if (full > 0) enc.copyBufferToTexture({ buffer: src, bytesPerRow: rowBytes }, { texture }, [fold * qw, full]);
      if (rest > 0) {
        enc.copyBufferToTexture({ buffer: src, offset: full * rowBytes, bytesPerRow: rowBytes }, {
          texture,
          origin: [0, full],
        }, [rest * qw, 1]);
      }
    },
    destroy: () => texture.destroy(),
  };
}
