/** The buffer GEMM path: gemm_buffer.wgsl reads the operand buffers directly (any device, any shape). */
import { bindEntries } from "../runtime/bindings.ts";
import { pipeline, shader } from "../runtime/compile.ts";
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

const BUFFER_SHADER = new URL("./gemm_buffer.wgsl", import.meta.url);

/** gemm_buffer.wgsl: outputs per workgroup along M and N (TM·WG_Y, TN·WG_X). */
const BUF_TILE = { M: 32, N: 32 };

export function bufferGemm(device: GPUDevice, spec: GemmSpec, owned: Owned): Encode {
  const { M, K, N } = spec;
  const groupsX = Math.ceil(N / BUF_TILE.N);
  const groupsY = Math.ceil(M / BUF_TILE.M);
  checkGroups(device, spec, groupsX, groupsY);
  const s = shader(device, BUFFER_SHADER);
  const { pipeline: p } = pipeline(device, s, "main", { TRANS_A: spec.transA ? 1 : 0, TRANS_B: spec.transB ? 1 : 0 });
  const params = paramsBuffer(device, [{ u32: M }, { u32: K }, { u32: N }, { u32: flagBits(spec) }, {
    f32: spec.alpha ?? 1,
  }]);
  const need = requiredBytes(spec);
  const dummy = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  owned.push(params, dummy);
  const group = lastGroupCache(([a, b, out, bias, sub]) =>
    device.createBindGroup({
      layout: p.getBindGroupLayout(0),
      entries: bindEntries(device, s.bindings, "main", {
        a: { buffer: a, size: need.a },
        b: { buffer: b, size: need.b },
        bias: spec.bias ? { buffer: bias, size: need.bias } : dummy,
        sub: spec.subtractInput ? { buffer: sub, size: need.sub } : dummy,
        c: { buffer: out, size: need.out },
        p: params,
      }),
    })
  );
  return (enc, bufs) => {
    checkBuffers(spec, bufs);
    const bg = group([bufs.a, bufs.b, bufs.out, bufs.bias, bufs.sub]);
    const pass = enc.beginComputePass({ label: "gemm_buffer" });
    pass.setPipeline(p);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(groupsX, groupsY);
    pass.end();
  };
}
