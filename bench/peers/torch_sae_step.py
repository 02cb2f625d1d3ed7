"""The PyTorch peer: one TopK SAE training step on the CPU, three ways, tokens/s each.
  dense:       SAELens-style (scatter the top-k into a dense latent matrix, dense decode and backward)
  sparse:      embedding_bag decoder (k decoder rows per token), dense encoder backward
  fullsparse:  sparsify/OpenAI-style: embedding_bag decoder and an encoder backward over the k active
               latents only (sparse x^T @ g)
Usage: python3 torch_sae_step.py D_IN D_SAE K BATCH [STEPS]
A copy of the team's PyTorch peer, kept beside the benches so the project stands alone.
Needs Debian's python3-torch with OpenBLAS: apt-get install -y python3-torch libopenblas0-pthread
(without libopenblas0-pthread torch falls back to the reference BLAS and runs ~40x slower).
Run it in the same minute as our bench and compare ratios: this machine is noisy."""
import sys, time, torch
torch.set_num_threads(2)
d_in, d_sae, k, B = map(int, sys.argv[1:5]); steps = int(sys.argv[5]) if len(sys.argv) > 5 else 5
torch.manual_seed(0)
x = torch.randn(B, d_in)
def make():
    W_dec = torch.randn(d_sae, d_in); W_dec /= W_dec.norm(dim=1, keepdim=True)
    p = dict(W_enc=W_dec.t().clone().requires_grad_(), b_enc=torch.zeros(d_sae, requires_grad=True),
             W_dec=W_dec.requires_grad_(), b_dec=torch.zeros(d_in, requires_grad=True))
    return p, torch.optim.Adam(p.values(), lr=1e-4)
def dense_step(p, opt):
    pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
    v, i = pre.topk(k, dim=-1); z = torch.zeros_like(pre).scatter_(-1, i, torch.relu(v))
    xh = z @ p["W_dec"] + p["b_dec"]; loss = (xh - x).pow(2).sum(-1).mean()
    opt.zero_grad(); loss.backward(); opt.step(); return loss.item()
def sparse_step(p, opt):
    pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
    v, i = pre.topk(k, dim=-1); v = torch.relu(v)
    xh = torch.nn.functional.embedding_bag(i, p["W_dec"], per_sample_weights=v, mode="sum") + p["b_dec"]
    loss = (xh - x).pow(2).sum(-1).mean()
    opt.zero_grad(); loss.backward(); opt.step(); return loss.item()
class TopKSparse(torch.autograd.Function):
    """pre -> (values, indices) with a backward that builds dW_enc from the k active latents only
    (the encoder weight gradient as a sparse x^T @ g, as OpenAI's and sparsify's kernels do)."""
    @staticmethod
    def forward(ctx, xc, W_enc, b_enc):
        pre = xc @ W_enc + b_enc
        v, i = pre.topk(k, dim=-1)
        ctx.save_for_backward(xc, W_enc, i)
        return v, i
    @staticmethod
    def backward(ctx, gv, gi):
        xc, W_enc, i = ctx.saved_tensors
        rows = torch.arange(B).repeat_interleave(k)
        g = torch.sparse_coo_tensor(torch.stack([rows, i.reshape(-1)]), gv.reshape(-1), (B, d_sae)).coalesce()
        dW = torch.sparse.mm(g.t(), xc).t()            # [d_in, d_sae], only active columns non-zero
        db = torch.zeros(d_sae).index_add_(0, i.reshape(-1), gv.reshape(-1))
        dx = (gv.unsqueeze(-1) * W_enc.t()[i]).sum(1)  # [B, d_in]
        return dx, dW, db
def fully_sparse_step(p, opt):
    v, i = TopKSparse.apply(x - p["b_dec"], p["W_enc"], p["b_enc"]); v = torch.relu(v)
    xh = torch.nn.functional.embedding_bag(i, p["W_dec"], per_sample_weights=v, mode="sum") + p["b_dec"]
    loss = (xh - x).pow(2).sum(-1).mean()
    opt.zero_grad(); loss.backward(); opt.step(); return loss.item()
for name, f in [("dense(SAELens-style)", dense_step), ("sparse(embedding_bag)", sparse_step),
                ("fullsparse(sparse encoder backward)", fully_sparse_step)]:
    p, opt = make(); f(p, opt)
    t = time.perf_counter()
    for _ in range(steps): f(p, opt)
    dt = (time.perf_counter() - t) / steps
    print(f"torch {torch.__version__} {name}: d_in={d_in} d_sae={d_sae} k={k} B={B}: {dt*1e3:.0f} ms/step, {B/dt:.0f} tokens/s")
