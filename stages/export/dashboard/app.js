// The dashboard's client: a virtualised, searchable, sortable latent list over window.SAE (data.js) and a
// detail view whose histogram and examples come from examples/NNNN.js, loaded on demand with a script tag
// (works from file://). Plain ES2020, no dependencies, inlined into index.html by the export stage.
(function () {
  "use strict";
  const D = globalThis.SAE;
  const ROW = 24;
  const colByName = Object.fromEntries(D.cols.map((c) => [c.name, c]));
  const listCols = D.list.map((n) => colByName[n]).filter(Boolean);
  const strCols = D.cols.filter((c) => c.kind === "str");
  let order = Array.from({ length: D.n }, (_, i) => i);
  let view = order;
  let sort = { col: "latent", dir: 1 };
  let selected = -1;
  const chunks = {};
  const waiting = {};

  const $ = (id) => document.getElementById(id);
  const listEl = $("list"), spacer = $("list-spacer"), head = $("list-head"), detail = $("detail");

  function fmt(v) {
    if (v === null || v === undefined || v === "") return "";
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(2) : String(+v.toPrecision(3));
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  }
  function shownToken(t) {
    return t.replace(/\n/g, "\u23ce").replace(/\t/g, "\u21e5");
  }

  // ---- list ----
  function renderHead() {
    head.innerHTML = listCols.map((c) => {
      const arrow = sort.col === c.name ? (sort.dir > 0 ? " \u25b2" : " \u25bc") : "";
      return `<span class="cell ${c.kind}" data-col="${esc(c.name)}" title="sort by ${esc(c.name)}">${
        esc(c.name)
      }${arrow}</span>`;
    }).join("");
  }
  function applySort() {
    const c = colByName[sort.col];
    const v = c.v, dir = sort.dir;
    order = Array.from({ length: D.n }, (_, i) => i);
    order.sort((a, b) => {
      const x = v[a], y = v[b];
      const xn = x === null || x === "", yn = y === null || y === "";
      if (xn || yn) return xn && yn ? a - b : xn ? 1 : -1; // empty values last either way
      if (x < y) return -dir;
      if (x > y) return dir;
      return a - b;
    });
    applyFilter();
  }
  function applyFilter() {
    const q = $("search").value.trim().toLowerCase();
    if (!q) view = order;
    else {
      const asId = /^\d+$/.test(q) ? Number(q) : -1;
      view = order.filter((i) => i === asId || strCols.some((c) => c.v[i] && String(c.v[i]).toLowerCase().includes(q)));
    }
    $("count").textContent = `${view.length} of ${D.n} latents`;
    spacer.style.height = `${view.length * ROW}px`;
    renderRows(true);
  }
  let lastRange = "";
  function renderRows(force) {
    const top = listEl.scrollTop, h = listEl.clientHeight || 400;
    const start = Math.max(0, Math.floor(top / ROW) - 5), end = Math.min(view.length, Math.ceil((top + h) / ROW) + 5);
    const key = `${start}:${end}:${selected}`;
    if (!force && key === lastRange) return;
    lastRange = key;
    let html = "";
    for (let r = start; r < end; r++) {
      const i = view[r];
      html += `<div class="row${i === selected ? " sel" : ""}" data-latent="${i}" style="top:${r * ROW}px">` +
        listCols.map((c) => `<span class="cell ${c.kind}">${esc(fmt(c.v[i]))}</span>`).join("") + `</div>`;
    }
    spacer.innerHTML = html;
  }

  // ---- detail ----
  function loadChunk(ci, cb) {
    if (chunks[ci]) return cb(chunks[ci]);
    (waiting[ci] = waiting[ci] || []).push(cb);
    if (waiting[ci].length > 1) return;
    const s = document.createElement("script");
    s.src = `examples/${String(ci).padStart(4, "0")}.js`;
    s.onerror = () => {
      const cbs = waiting[ci];
      delete waiting[ci];
      cbs.forEach((f) => f(null));
    };
    document.head.appendChild(s);
  }
  globalThis.SAE_CHUNK = function (ci, data) {
    chunks[ci] = data;
    const cbs = waiting[ci] || [];
    delete waiting[ci];
    cbs.forEach((f) => f(data));
  };
  function unb64(s, width) {
    const bin = atob(s);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    return width === 4 ? new Uint32Array(u8.buffer) : width === 2 ? new Uint16Array(u8.buffer) : u8;
  }
  function histSvg(counts, lo, hi) {
    const W = 360, H = 120, L = 40, B = 22, T = 8;
    const max = Math.max(1, ...counts);
    const bw = (W - L - 4) / counts.length;
    let bars = "";
    counts.forEach((c, i) => {
      const h = (c / max) * (H - B - T);
      bars += `<rect x="${(L + i * bw).toFixed(1)}" y="${(H - B - h).toFixed(1)}" width="${
        Math.max(1, bw - 1).toFixed(1)
      }" height="${h.toFixed(1)}"><title>${c}</title></rect>`;
    });
    const axisLo = lo === null ? "" : fmt(lo), axisHi = hi === null ? `${counts.length} bins` : fmt(hi);
    return `<svg class="hist" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}"><g fill="#2563eb">${bars}</g>` +
      `<line x1="${L}" x2="${W - 4}" y1="${H - B}" y2="${H - B}" stroke="#111"/>` +
      `<text x="${L}" y="${H - 6}" font-size="11">${esc(axisLo)}</text><text x="${W - 4}" y="${
        H - 6
      }" font-size="11" text-anchor="end">${esc(axisHi)}</text>` +
      `<text x="${L - 4}" y="${T + 8}" font-size="11" text-anchor="end">${max}</text>` +
      `<text x="${(L + W) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">activation</text></svg>`;
  }
  function exampleHtml(chunk, scale, ex) {
    const [kind, center, act, tokB64, actB64, quantile, note] = ex;
    const toks = unb64(tokB64, chunk.w), q = unb64(actB64, 1);
    const label = quantile === null || quantile === undefined ? "" : `q${fmt(quantile)} `;
    let html = `<div class="example" data-kind="${esc(chunk.k[kind])}"><span class="act" title="${esc(note || "")}">` +
      `${esc(label + fmt(act))}</span><span class="ctx">`;
    for (let i = 0; i < toks.length; i++) {
      const a = q[i] / 255, v = a * scale;
      const bg = a > 0 ? `background:rgba(234,88,12,${(0.12 + 0.88 * a).toFixed(3)})` : "";
      html += `<span class="tok${i === center ? " center" : ""}" style="${bg}" title="${esc(fmt(v))}">${
        esc(shownToken(chunk.s[toks[i]]))
      }</span>`;
    }
    return html + `</span></div>`;
  }
  function statsHtml(i) {
    const assoc = D.cols.filter((c) => /tag|genre|pos/i.test(c.name));
    const other = D.cols.filter((c) => !assoc.includes(c) && c.name !== "latent");
    const kv = (cs) => cs.map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(fmt(c.v[i]))}</td></tr>`).join("");
    const card = (D.cards && D.cards[i]) || [];
    const lines = (kind, title) => {
      const ls = card.filter((c) => c[0] === kind);
      return ls.length
        ? `<h4>${title}</h4><ul class="card" data-card="${kind}">${
          ls.map((c) => `<li>${esc(c[1])}</li>`).join("")
        }</ul>`
        : "";
    };
    return `<h3>Latent ${i}</h3><table class="kv">${kv(other)}</table>` +
      (assoc.length ? `<h4>POS / genre association</h4><table class="kv assoc">${kv(assoc)}</table>` : "") +
      lines("probe", "Sparse-probe associations") + lines("absorption", "Absorption role") +
      (D.topTokensNote
        ? `<h4>Top boosted / suppressed tokens</h4><p class="muted" data-card="logits">${esc(D.topTokensNote)}</p>`
        : lines("logits", "Top boosted / suppressed tokens (W_dec \u00b7 W_U)"));
  }
  function select(i) {
    selected = i;
    renderRows(true);
    if (location.hash !== `#${i}`) history.replaceState(null, "", `#${i}`);
    detail.innerHTML = statsHtml(i) + `<div id="detail-examples" class="muted">loading examples\u2026</div>`;
    loadChunk(Math.floor(i / D.chunk), (chunk) => {
      if (selected !== i) return;
      const box = $("detail-examples");
      const entry = chunk && chunk.l.find((r) => r[0] === i);
      if (!entry) {
        box.textContent = "no examples for this latent";
        return;
      }
      const [, scale, hist, lo, hi, exs] = entry;
      let html = hist ? `<h4>Activation histogram</h4>${histSvg(hist, lo, hi)}` : "";
      const groups = {};
      for (const ex of exs) (groups[chunk.k[ex[0]]] = groups[chunk.k[ex[0]]] || []).push(ex);
      const names = Object.keys(groups).sort((a, b) => (a === "top" ? -1 : b === "top" ? 1 : a < b ? -1 : 1));
      for (const g of names) {
        const title = g === "top"
          ? "Top activating contexts"
          : `Lower-quantile examples${g === "quantile" ? "" : ` (${g})`}`;
        html += `<h4>${esc(title)}</h4><div class="examples" data-group="${esc(g)}">` +
          groups[g].map((ex) => exampleHtml(chunk, scale, ex)).join("") + `</div>`;
      }
      if (!exs.length) {
        html += `<div class="muted">this latent has no examples (it never fired on the held-out set)</div>`;
      }
      box.className = "";
      box.innerHTML = html;
    });
  }

  // ---- wiring ----
  head.addEventListener("click", (e) => {
    const cell = e.target.closest("[data-col]");
    if (!cell) return;
    const name = cell.getAttribute("data-col");
    sort = {
      col: name,
      dir: sort.col === name ? -sort.dir : (colByName[name].kind === "num" && name !== "latent" ? -1 : 1),
    };
    renderHead();
    applySort();
  });
  // Select on press, by the pointer's y position: rows are re-rendered while scrolling, and a click whose
  // pressed row was replaced before the release never fires.
  listEl.addEventListener("mousedown", (e) => {
    if (e.button !== 0 || e.target === listEl) return; // listEl itself: its scrollbar
    const r = Math.floor((e.clientY - spacer.getBoundingClientRect().top) / ROW);
    if (r >= 0 && r < view.length) select(view[r]);
  });
  let raf = 0;
  listEl.addEventListener("scroll", () => {
    if (!raf) raf = requestAnimationFrame(() => (raf = 0, renderRows(false)));
  });
  let timer = 0;
  $("search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(applyFilter, 80);
  });
  document.addEventListener("keydown", (e) => {
    if (e.target === $("search") || selected < 0 || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    const r = view.indexOf(selected) + (e.key === "ArrowDown" ? 1 : -1);
    if (r >= 0 && r < view.length) {
      e.preventDefault();
      select(view[r]);
      if (r * ROW < listEl.scrollTop || (r + 1) * ROW > listEl.scrollTop + listEl.clientHeight) {
        listEl.scrollTop = r * ROW - 100;
      }
    }
  });
  renderHead();
  applySort();
  const fromHash = Number(location.hash.slice(1));
  if (location.hash.length > 1 && Number.isInteger(fromHash) && fromHash >= 0 && fromHash < D.n) select(fromHash);
  globalThis.SAE_READY = true;
})();
