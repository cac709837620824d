// The search page of `engine serve`: plain JS against the JSON API, nothing fetched from elsewhere.
// The address bar holds the search (/?q=...&k=...&modality=... or /?similar=ID...), so a search
// reloads, is shared and follows back/forward. Every text from the index goes in through
// textContent (never innerHTML), isolated with <bdi> and tagged with its language.
"use strict";

const $ = (selector) => document.querySelector(selector);
const form = $("#search"), input = $("#q"), count = $("#k"), modality = $("#modality");
const picker = $("#file"), pixels = $("#pixels"), statusLine = $("#status"), grid = $("#results");
const queryView = $("#query-view"), dialog = $("#details"), details = $("#details-body");
const LABELS = { any: "photos and texts", image: "photos", text: "texts" };
const FIELDS = { q: "the query", k: "the number of results", modality: "the filter", file: "the picture", size: "the size" };

window.engineTimings = []; // ms from submitting each search to its results on screen (read by the tests)
let ticket = 0;            // the latest search; answers to older ones are dropped
let shownItem = null;      // the item open in the details dialog
let lastSearch = null;     // rerun when the number of results or the filter changes

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function element(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

function isolated(text, lang) {
  return element("bdi", { lang: lang || null, dir: "auto" }, text);
}

function setStatus(state, message) {
  statusLine.dataset.state = state;
  statusLine.textContent = message;
  grid.setAttribute("aria-busy", state === "loading" ? "true" : "false");
}

function settings() {
  const k = Math.min(1000, Math.max(1, parseInt(count.value, 10) || 20));
  count.value = k;
  return { k, modality: LABELS[modality.value] ? modality.value : "any" };
}

// --- talking to the API -----------------------------------------------------------------------

async function request(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, "The engine server cannot be reached. Is `engine serve` still running?");
  }
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) throw new ApiError(response.status, explain(response.status, body && body.detail));
  return body;
}

function explain(status, detail) {
  if (Array.isArray(detail)) { // FastAPI's validation errors: [{loc: [..., field], msg}]
    detail = detail.map((d) => `${FIELDS[d.loc[d.loc.length - 1]] || d.loc[d.loc.length - 1]}: ${d.msg}`).join("; ");
  }
  const said = detail ? String(detail) : `the server answered HTTP ${status}`;
  switch (status) {
    case 413: return `That picture is too large for this server (${said}). Try a smaller file.`;
    case 422: return `That search cannot be run: ${said}.`;
    case 504: return `The search took too long (${said}). The server is busy; try again in a moment.`;
    case 400: return `The server could not use that: ${said}.`;
    case 404: return `Not found: ${said}.`;
    default: return `Something went wrong: ${said}.`;
  }
}

// --- searching --------------------------------------------------------------------------------

function addressOf(search, { k, modality: kind }) {
  const params = new URLSearchParams();
  if (search.q !== undefined) params.set("q", search.q);
  if (search.similar !== undefined) params.set("similar", search.similar);
  params.set("k", k);
  params.set("modality", kind);
  return `/?${params}`;
}

async function run(search, { remember = true } = {}) {
  const started = performance.now();
  const mine = ++ticket;
  const chosen = settings();
  const query = new URLSearchParams({ k: chosen.k, modality: chosen.modality });
  let url, init, what;
  if (search.file) {
    const body = new FormData();
    body.append("file", search.file, search.file.name || "pasted-picture");
    url = `/search/image?${query}`; init = { method: "POST", body }; what = "by picture";
  } else if (search.similar !== undefined) {
    url = `/items/${encodeURIComponent(search.similar)}/similar?${query}`; what = `like item ${search.similar}`;
  } else {
    query.set("q", search.q);
    url = `/search?${query}`; what = "";
  }
  lastSearch = search;
  if (remember) { // a picture cannot live in the address: it keeps only the settings then
    const address = addressOf(search.file ? {} : search, chosen);
    if (address !== location.pathname + location.search) history.pushState(null, "", address);
  }
  showQuery(search);
  setStatus("loading", what ? `Searching ${what}…` : "Searching…");
  try {
    const body = await request(url, init);
    if (mine !== ticket) return;
    showResults(body.results);
    const ms = performance.now() - started;
    window.engineTimings.push(ms);
    document.body.dataset.searchMs = ms.toFixed(1);
    const n = body.results.length;
    setStatus(n ? "done" : "empty", n
      ? `${n} result${n === 1 ? "" : "s"} (${LABELS[chosen.modality]}) in ${Math.round(ms)} ms`
      : `Nothing found among the ${LABELS[chosen.modality]}. Try other words, or show photos and texts.`);
  } catch (error) {
    if (mine !== ticket) return;
    grid.replaceChildren();
    setStatus("error", error.message);
  }
}

function showQuery(search) {
  queryView.replaceChildren();
  if (search.file) {
    const preview = element("img", { class: "upload", alt: "the query picture" });
    preview.src = URL.createObjectURL(search.file);
    preview.onload = () => URL.revokeObjectURL(preview.src);
    queryView.append(preview, element("span", { class: "muted" }, "photos and texts like this picture"));
  } else if (search.similar !== undefined) {
    queryView.append(element("span", { class: "muted" }, `more like item ${search.similar}`));
  } else {
    const read = element("figure", { class: "read" });
    read.append(pixelImage(search.q, "the query as the model reads it"),
      element("figcaption", {}, "the query, as the model reads it"));
    queryView.append(read);
  }
  queryView.hidden = false;
}

function pixelImage(text, alt, always = false) {
  const image = element("img", { class: always ? "pixels always" : "pixels", alt, "data-src": `/render?${new URLSearchParams({ text })}` });
  if (always || pixels.checked) image.src = image.dataset.src;
  return image;
}

function showResults(results) {
  grid.replaceChildren(...results.map(card));
}

function card(hit) {
  const item = element("li", { class: `card ${hit.modality}`, tabindex: "0", role: "button",
    "data-id": hit.id, "data-modality": hit.modality, "aria-label": `result ${hit.rank}: details` });
  const body = element("div", { class: "body" });
  if (hit.modality === "image") {
    body.append(thumbnail(hit.id, 256, `photo ${hit.id}`));
  } else {
    const text = element("p", { class: "text", lang: hit.language || null, dir: "auto" });
    text.append(isolated(hit.item, hit.language));
    body.append(text, pixelImage(hit.item, "this text as the model reads it"));
    body.style.flexDirection = "column";
  }
  const footer = element("footer");
  footer.append(element("span", { class: "rank" }, `#${hit.rank}`),
    element("span", { class: "kind" }, hit.modality === "image" ? "photo" : "text"),
    element("span", { class: "lang", title: "language" }, hit.language || "—"),
    element("span", { class: "score", title: "cosine similarity" }, hit.score.toFixed(3)));
  item.append(body, footer);
  item.addEventListener("click", () => openDetails(hit.id));
  item.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openDetails(hit.id); } });
  return item;
}

function thumbnail(id, size, alt, kind = "thumb") {
  const image = element("img", { class: kind, alt, loading: "lazy", decoding: "async" });
  image.addEventListener("error", async () => { // say why: usually a photo deleted since indexing
    const place = element("div", { class: "gone", role: "note" }, "This photo cannot be shown.");
    image.replaceWith(place);
    try { await request(image.src); } catch (error) { place.textContent = error.message; }
  }, { once: true });
  image.src = `/items/${id}/thumbnail?size=${size}`;
  return image;
}

// --- details and "more like this" -------------------------------------------------------------

async function openDetails(id) {
  shownItem = id;
  $("#details-title").textContent = `Item ${id}`;
  details.replaceChildren(element("p", { class: "muted" }, "Loading…"));
  if (!dialog.open) dialog.showModal();
  try {
    const item = await request(`/items/${id}`);
    if (shownItem !== id) return;
    const list = element("dl");
    const row = (name, value) => { const dd = element("dd"); dd.append(value); list.append(element("dt", {}, name), dd); };
    row("id", String(item.id));
    row("kind", item.modality === "image" ? "photo" : "text");
    if (item.modality === "image") row("path", isolated(item.path));
    else row("text", isolated(item.text, item.language));
    row("language", item.language || "not recorded");
    if (item.mtime) row("modified", new Date(item.mtime * 1000).toLocaleString());
    const picture = item.modality === "image" ? thumbnail(id, 512, `photo ${id}`, "large")
      : pixelImage(item.text, "this text as the model reads it", true);
    details.replaceChildren(picture, list);
  } catch (error) {
    details.replaceChildren(element("p", { class: "gone" }, error.message));
  }
}

$("#more").addEventListener("click", () => {
  dialog.close();
  input.value = "";
  run({ similar: shownItem });
});

// --- wiring -----------------------------------------------------------------------------------

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = input.value.trim();
  if (!q) { setStatus("error", "Type something to search for, or choose a picture."); return; }
  run({ q });
});

for (const control of [count, modality]) {
  control.addEventListener("change", () => { if (lastSearch) run(lastSearch); });
}

pixels.addEventListener("change", () => {
  document.body.classList.toggle("show-pixels", pixels.checked);
  if (pixels.checked) for (const image of document.querySelectorAll("img.pixels:not([src])")) image.src = image.dataset.src;
});

function searchPicture(file) {
  if (!file) return;
  if (!file.type.startsWith("image/")) { setStatus("error", `${file.name || "That file"} is not a picture (${file.type || "unknown type"}).`); return; }
  input.value = "";
  run({ file });
}

picker.addEventListener("change", () => { searchPicture(picker.files[0]); picker.value = ""; });

let dragDepth = 0;
document.addEventListener("dragenter", (event) => { event.preventDefault(); dragDepth++; document.body.classList.add("dragging"); });
document.addEventListener("dragleave", () => { if (--dragDepth <= 0) { dragDepth = 0; document.body.classList.remove("dragging"); } });
document.addEventListener("dragover", (event) => event.preventDefault());
document.addEventListener("drop", (event) => {
  event.preventDefault();
  dragDepth = 0;
  document.body.classList.remove("dragging");
  searchPicture(event.dataTransfer && event.dataTransfer.files[0]);
});
document.addEventListener("paste", (event) => {
  const items = event.clipboardData ? [...event.clipboardData.items] : [];
  const picture = items.find((entry) => entry.kind === "file" && entry.type.startsWith("image/"));
  if (picture) { event.preventDefault(); searchPicture(picture.getAsFile()); } // a pasted text goes into the box as usual
});

function fromAddress() {
  const params = new URLSearchParams(location.search);
  const found = {};
  if (params.has("q") && params.get("q").trim()) found.q = params.get("q");
  else if (params.has("similar")) found.similar = params.get("similar");
  return found;
}

function restore() {
  const params = new URLSearchParams(location.search);
  if (params.has("k")) count.value = params.get("k");
  if (LABELS[params.get("modality")]) modality.value = params.get("modality");
  const search = fromAddress();
  input.value = search.q || "";
  if (search.q !== undefined || search.similar !== undefined) run(search, { remember: false });
  else {
    ticket++;
    lastSearch = null;
    grid.replaceChildren();
    queryView.hidden = true;
    setStatus("idle", "Type a query in any language, or drop or paste a picture anywhere on this page.");
  }
}

window.addEventListener("popstate", restore);

async function describeIndex() {
  try {
    const health = await request("/health");
    const { image = 0, text = 0 } = health.counts || {};
    $("#about").textContent = `${image.toLocaleString()} photos and ${text.toLocaleString()} texts · ${health.index} index · checkpoint ${health.checkpoint}`;
    if (health.reads !== "pixels") $(".toggle").hidden = true; // a token model reads no pixels
  } catch (error) {
    $("#about").textContent = error.message;
  }
}

describeIndex();
restore();
