// charrnn viewer: colors each character by one unit's activation (or by the model's surprise),
// shows the value and the model's top-5 next-character guesses on hover. All corpus text is
// inserted with textContent, never as HTML.
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("charrnn-data").textContent);
  const textBox = document.getElementById("text");
  const tip = document.getElementById("tip");
  const chars = Array.from(D.text);  // code points: an emoji is one character, not two
  const T = chars.length;
  const decoded = {};

  function bytesOf(b64) {
    const bin = atob(b64), out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  // Diverging palette: -1 red, 0 white, +1 blue (256 precomputed CSS colors).
  const diverging = [], sequential = [];
  for (let k = 0; k < 256; k++) {
    const v = k / 127.5 - 1;
    const r = v < 0 ? 255 : Math.round(255 - 200 * v), g = Math.round(255 - 175 * Math.abs(v));
    const b = v > 0 ? 255 : Math.round(255 + 200 * v);
    diverging.push(`rgb(${r},${g},${b})`);
    const s = k / 255;
    sequential.push(`rgb(255,${Math.round(255 - 200 * s)},${Math.round(255 - 215 * s)})`);
  }

  // One span per character; newlines get a visible mark and a real line break; a carriage
  // return only its mark (in a <pre> a lone CR would break the line a second time in CRLF text).
  const spans = new Array(T);
  const frag = document.createDocumentFragment();
  for (let t = 0; t < T; t++) {
    const ch = chars[t], s = document.createElement("span");
    s.dataset.t = t;
    if (ch === "\n") { s.className = "nl"; s.textContent = "\n"; }
    else if (ch === "\r") { s.className = "cr"; s.textContent = "\u240D"; }
    else { s.textContent = ch; }
    spans[t] = s;
    frag.appendChild(s);
  }
  textBox.appendChild(frag);
  // Characters the model never saw: mapped ones outlined, skipped ones marked where they were.
  const marks = D.marks || {};
  (marks.mapped || []).forEach((t) => { spans[t].classList.add("unseen"); });
  Object.entries(marks.skipped || {}).forEach(([t, n]) => {
    spans[+t].classList.add("after-skip");
    spans[+t].dataset.skipped = n;
  });
  if (marks.skipped_at_end && T) spans[T - 1].classList.add("skip-after");
  function markNote(t) {
    if (spans[t].classList.contains("unseen"))
      return `\n(a character the model never saw, read as ${JSON.stringify(marks.read_as)}; scored apart)`;
    if (spans[t].dataset.skipped)
      return `\n(${spans[t].dataset.skipped} ${spans[t].dataset.skipped === "1" ? "character" : "characters"} the model never saw skipped before this one)`;
    return "";
  }

  const top5ids = D.top5 ? new Uint16Array(bytesOf(D.top5.ids).buffer) : null;
  const top5p = D.top5 ? bytesOf(D.top5.p) : null;
  // compare mode: the baseline's guesses and both models' bits per character
  const otherIds = D.top5b ? new Uint16Array(bytesOf(D.top5b.ids).buffer) : null;
  const otherP = D.top5b ? bytesOf(D.top5b.p) : null;
  const bitsA = D.compare ? new Float32Array(bytesOf(D.compare.bits_a).buffer) : null;
  const bitsB = D.compare ? new Float32Array(bytesOf(D.compare.bits_b).buffer) : null;
  const plain = D.mode === "surprise" || D.mode === "compare";  // no unit to choose
  const sel = { layer: 0, quantity: D.quantities ? Object.keys(D.quantities)[0] : null, unit: 0 };
  let current = null;  // Uint8Array of T codes for the shown series
  let scale = 1, kind = "h";

  function series() {
    if (D.mode === "surprise") return bytesOf(D.surprise.b64);
    if (D.mode === "compare") return bytesOf(D.compare.b64);
    const q = D.quantities[sel.quantity], key = sel.quantity + "/" + sel.layer;
    if (!decoded[key]) decoded[key] = bytesOf(q.b64[sel.layer]);
    const all = decoded[key];
    return all.subarray(sel.unit * T, (sel.unit + 1) * T);
  }
  function valueAt(t) {
    if (D.mode === "surprise") return current[t] / 255 * D.surprise.max;
    if (D.mode === "compare") return bitsB[t] - bitsA[t];
    return (current[t] / 127.5 - 1) * scale;
  }
  function colorIndex(t) {
    const c = current[t];
    if (D.mode === "surprise") return sequential[c];
    if (D.mode === "compare") return diverging[c];
    if (kind === "gate") return diverging[Math.min(255, Math.max(0, Math.round((c / 127.5 - 1) * 255)))];
    if (kind === "cell") {
      const v = Math.tanh((c / 127.5 - 1) * scale);
      return diverging[Math.round((v + 1) * 127.5)];
    }
    return diverging[c];
  }
  function paint() {
    if (!plain) {
      const q = D.quantities[sel.quantity];
      kind = q.kind;
      scale = q.scales[sel.layer][sel.unit];
    }
    current = series();
    for (let t = 0; t < T; t++) spans[t].style.backgroundColor = colorIndex(t);
    if (!plain) {  // the legend's ends in the units of what is shown
      const [lo, hi, note] = kind === "gate" ? ["0", "1", "(a gate: 0 … 1)"]
        : kind === "cell" ? ["-1", "+1", "(tanh of the value: it is unbounded)"]
        : ["-1", "+1", ""];
      document.getElementById("legend-lo").textContent = lo;
      document.getElementById("legend-hi").textContent = hi;
      document.getElementById("legend-note").textContent = note;
    }
    const label = document.getElementById("selection");
    if (label) label.textContent = D.mode === "surprise" ? "loss in bits"
      : D.mode === "compare" ? `bits ${D.compare.names[1]} minus ${D.compare.names[0]}`
      : `layer ${D.layers[sel.layer]} · ${sel.quantity} · unit ${D.units[sel.unit]}`;
    if (!plain) location.hash = `layer=${sel.layer}&q=${sel.quantity}&unit=${sel.unit}`;
  }

  function guesses(t, ids = top5ids, probs = top5p, names = D.symbols) {
    if (!ids || t < 0) return "";
    let lines = [];
    for (let k = 0; k < 5; k++) {
      const id = ids[t * 5 + k], p = probs[t * 5 + k] / 255;
      lines.push(`  ${JSON.stringify(names[id])} ${(p * 100).toFixed(1)}%`);
    }
    return lines.join("\n");
  }
  textBox.addEventListener("mousemove", (e) => {
    const s = e.target;
    if (!s.dataset || s.dataset.t === undefined) { tip.style.display = "none"; return; }
    const t = +s.dataset.t;
    const v = valueAt(t);
    if (D.mode === "compare") {
      const [a, b] = D.compare.names;
      tip.textContent = `${JSON.stringify(chars[t])}  ${a} ${bitsA[t].toFixed(2)} bits, ${b} `
        + `${bitsB[t].toFixed(2)} bits${markNote(t)}\n${a} expected:\n${guesses(t - 1)}`
        + `\n${b} expected:\n${guesses(t - 1, otherIds, otherP, D.symbolsB)}`;
    } else {
      const head = D.mode === "surprise"
        ? `${JSON.stringify(chars[t])}  ${v.toFixed(2)} bits\nthe model expected:`
        : `${JSON.stringify(chars[t])}  value ${v.toFixed(3)}\nnext-character guesses:`;
      tip.textContent = head + markNote(t) + "\n" + guesses(D.mode === "surprise" ? t - 1 : t);
    }
    tip.style.display = "block";
    tip.style.left = Math.min(e.clientX + 12, window.innerWidth - 260) + "px";
    tip.style.top = (e.clientY + 16) + "px";
  });
  textBox.addEventListener("mouseleave", () => { tip.style.display = "none"; });

  // Controls (activation mode only).
  const layerSel = document.getElementById("layer"), qSel = document.getElementById("quantity");
  const unitIn = document.getElementById("unit");
  function select(layer, quantity, unit) {
    sel.layer = Math.max(0, Math.min(D.layers.length - 1, layer));
    sel.quantity = D.quantities[quantity] ? quantity : sel.quantity;
    sel.unit = Math.max(0, Math.min(D.units.length - 1, unit));
    if (layerSel) { layerSel.value = sel.layer; qSel.value = sel.quantity; unitIn.value = sel.unit; }
    paint();
  }
  window.charrnnSelect = select;  // for tests and the console
  if (!plain) {
    D.layers.forEach((l, i) => layerSel.add(new Option(`layer ${l}`, i)));
    Object.keys(D.quantities).forEach((q) => qSel.add(new Option(D.quantities[q].label, q)));
    unitIn.max = D.units.length - 1;
    layerSel.onchange = () => select(+layerSel.value, sel.quantity, sel.unit);
    qSel.onchange = () => select(sel.layer, qSel.value, sel.unit);
    unitIn.oninput = () => select(sel.layer, sel.quantity, +unitIn.value || 0);
    document.getElementById("prev").onclick = () => select(sel.layer, sel.quantity, sel.unit - 1);
    document.getElementById("next").onclick = () => select(sel.layer, sel.quantity, sel.unit + 1);
    document.addEventListener("keydown", (e) => {
      if (e.target.tagName === "INPUT") return;
      if (e.key === "ArrowRight") select(sel.layer, sel.quantity, sel.unit + 1);
      if (e.key === "ArrowLeft") select(sel.layer, sel.quantity, sel.unit - 1);
    });
    document.querySelectorAll("tr.pick").forEach((row) => {
      row.onclick = () => {
        select(D.layers.indexOf(+row.dataset.layer), row.dataset.quantity,
               D.units.indexOf(+row.dataset.unit));
        window.scrollTo({ top: 0, behavior: "smooth" });
      };
    });
    const h = new URLSearchParams(location.hash.slice(1));
    const first = D.initial || {};
    select(+(h.get("layer") ?? first.layer ?? 0), h.get("q") ?? first.quantity ?? sel.quantity,
           +(h.get("unit") ?? first.unit ?? 0));
  } else {
    paint();
  }
  document.body.dataset.ready = "1";
})();
