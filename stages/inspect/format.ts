/** Text rendering of an inspect result: one block per token, one line per latent. */
import type { InspectResult, LatentInfo } from "./inspect.ts";

const num = (v: number | null, digits = 3) => (v === null ? "—" : Number(v.toPrecision(digits)).toString());
const shown = (s: string) => s.replaceAll("\n", "⏎").replaceAll("\t", "⇥");

/** "tag at (F1 0.81) · genre learned · tokens ▁the | ▁a" (what the evaluate stage knows of the latent). */
export function latentLabel(l: LatentInfo): string {
  const parts: string[] = [];
  if (l.top_tag) parts.push(`tag ${l.top_tag} (F1 ${num(l.top_tag_f1, 2)})`);
  if (l.top_genre) parts.push(`genre ${l.top_genre}`);
  if (l.top_tokens.length) parts.push(`tokens ${l.top_tokens.map(shown).join(" | ")}`);
  return parts.join(" · ");
}

export function formatInspect(r: InspectResult): string {
  const withLogits = r.tokens.some((t) => t.latents.some((l) => l.boosted));
  const head = ["pos", "token", "latent", "act", "freq", "label", ...(withLogits ? ["boosts / suppresses"] : [])];
  const rows: string[][] = [];
  for (const t of r.tokens) {
    const first = [String(t.position), shown(t.piece)];
    if (!t.latents.length) rows.push([...first, "—", "", "", "no latent fires"]);
    t.latents.forEach((l, i) => {
      const cells = [
        ...(i === 0 ? first : ["", ""]),
        String(l.latent),
        num(l.activation),
        num(l.frequency),
        latentLabel(l),
      ];
      if (withLogits) {
        const b = (l.boosted ?? []).map((x) => shown(x.token)).join(" "),
          s = (l.suppressed ?? []).map((x) => shown(x.token)).join(" ");
        cells.push(`+ ${b}  − ${s}`);
      }
      rows.push(cells);
    });
  }
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 2 || i === 3 || i === 4 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ").trimEnd();
  return [
    `${r.model} · ${r.hook} · SAE ${r.architecture} d_sae ${r.d_sae} · top ${
      Math.max(0, ...r.tokens.map((t) => t.latents.length))
    } latents per token`,
    line(head),
    ...rows.map(line),
    ...r.notes,
  ].join("\n");
}
