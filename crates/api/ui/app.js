// haplane's console: every screen is built from the API's own
// specification (/v3/specification): the sections and their children from
// its paths, each form from the schema of the resource it edits.
"use strict";

const CONFIG = "/services/haproxy/configuration";
const state = { spec: null, version: null, tx: sessionStorage.getItem("haplane-tx") };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick" || k === "onchange" || k === "onsubmit") node[k] = v;
    else if (k === "text") node.textContent = v;
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function api(path, { method = "GET", body, text = false } = {}) {
  const headers = {};
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = text ? "text/plain" : "application/json";
    payload = text ? body : JSON.stringify(body);
  }
  const r = await fetch("/v3" + path, { method, headers, body: payload, credentials: "same-origin" });
  const raw = await r.text();
  let data = raw;
  try { data = JSON.parse(raw); } catch (_) { /* text */ }
  if (!r.ok) throw { status: r.status, body: data };
  return { status: r.status, body: data, headers: r.headers };
}

function errorText(e) {
  if (e && e.body && typeof e.body === "object") return `${e.status}: ${e.body.message}`;
  return e && e.status ? `${e.status}: ${e.body}` : String(e);
}

function banner(kind, text) {
  return el("div", { class: `banner ${kind}`, role: kind === "fail" ? "alert" : "status", text });
}

async function refreshVersion() {
  const r = await api(`${CONFIG}/version`);
  state.version = r.body;
  $("version").textContent = `version ${r.body}`;
}

// --- the specification ------------------------------------------------------

function resolve(schema) {
  let s = schema;
  for (let i = 0; s && s.$ref && i < 8; i++) s = state.spec.components.schemas[s.$ref.split("/").pop()];
  return s || {};
}

function itemSchema(template) {
  const op = state.spec.paths[template] && state.spec.paths[template].get;
  const schema = op && op.responses["200"].content["application/json"].schema;
  return resolve(schema);
}

// The item path below `collection` (a path template): one more segment
// that is a parameter (`{name}`, `{username}`, `{index}`).
function itemOf(collection) {
  const depth = collection.split("/").length + 1;
  const json = (p) => {
    const ok = state.spec.paths[p].get.responses["200"];
    return ok && ok.content && ok.content["application/json"];
  };
  return Object.keys(state.spec.paths).find((p) => p.startsWith(collection + "/{")
    && p.split("/").length === depth && state.spec.paths[p].get && json(p)) || null;
}

// The query parameter that names a collection's parent section
// (`groups?userlist=NAME`), if it has one.
function parentQuery(path) {
  const params = (state.spec.paths[path].get.parameters || []).map((p) =>
    p.$ref ? state.spec.components.parameters[p.$ref.split("/").pop()] : p);
  const q = params.find((p) => p && p.in === "query" && p.required);
  return q ? q.name : null;
}

function topCollections() {
  return Object.keys(state.spec.paths)
    .filter((p) => p.startsWith(CONFIG + "/") && /^[a-z_]+$/.test(p.slice(CONFIG.length + 1)))
    .filter((p) => state.spec.paths[p].get && itemOf(p) && !parentQuery(p))
    .sort();
}

// The child collections of an item, as links: those under its path, and
// those that name it in a query parameter.
function childLinks(itemTemplate, name) {
  const parent = itemTemplate.replace(/\{name\}$/, "{parent_name}");
  const below = Object.keys(state.spec.paths)
    .filter((p) => p.startsWith(parent + "/") && /^[a-z_]+$/.test(p.slice(parent.length + 1)))
    .filter((p) => state.spec.paths[p].get)
    .map((p) => ({ label: p.split("/").pop(), href: `#/list${fill(p, { parent_name: name })}` }));
  const top = itemTemplate.split("/")[4];
  const named = Object.keys(state.spec.paths)
    .filter((p) => p.startsWith(CONFIG + "/") && /^[a-z_]+$/.test(p.slice(CONFIG.length + 1)))
    .filter((p) => state.spec.paths[p].get && itemOf(p))
    .filter((p) => { const q = parentQuery(p); return q && (top === q || top === q + "s"); })
    .map((p) => ({ label: p.split("/").pop(), href: `#/list${p}?${parentQuery(p)}=${encodeURIComponent(name)}` }));
  return below.concat(named).sort((a, b) => a.label.localeCompare(b.label));
}

function withQuery(path, ...parts) {
  const query = parts.filter(Boolean).join("&");
  return query ? `${path}?${query}` : path;
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(values[k]));
}

function where() {
  return state.tx ? `transaction_id=${encodeURIComponent(state.tx)}` : `version=${state.version}`;
}

function inTx() {
  return state.tx ? `transaction_id=${encodeURIComponent(state.tx)}` : "";
}

// --- screens ----------------------------------------------------------------

function sidebar() {
  const aside = $("sections");
  aside.replaceChildren(el("h3", { text: "Sections" }),
    ...topCollections().map((p) => el("a", { href: `#/list${p}`, text: p.slice(CONFIG.length + 1) })));
}

async function showList(template, values, query) {
  const path = fill(template, values);
  const r = await api(withQuery(path, query, inTx()));
  const item = itemOf(template);
  const items = Array.isArray(r.body) ? r.body : [];
  const key = item ? item.slice(item.lastIndexOf("{") + 1, -1) : "name";
  const rows = items.map((it, i) => {
    const id = key === "index" ? i : it[key];
    const href = `#/item${withQuery(fill(item || "", { ...values, [key]: id }), query)}`;
    const link = item ? el("a", { href, text: String(id) }) : String(id);
    const summary = Object.entries(it).filter(([k]) => k !== key).slice(0, 4)
      .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join("  ");
    return el("tr", {}, el("td", {}, link), el("td", { class: "muted", text: summary }));
  });
  const title = path.slice(CONFIG.length + 1) + (query ? ` (${query})` : "");
  return [el("h2", { text: title }),
    rows.length ? el("table", {}, el("tbody", {}, rows)) : el("p", { class: "muted", text: "None." }),
    item ? newItemForm(template, item, values, key, query) : ""];
}

function newItemForm(template, item, values, key, query) {
  const schema = itemSchema(item);
  const holder = el("div");
  const open = el("button", { text: "Add…", onclick: () => {
    holder.replaceChildren(form(schema, {}, async (value) => {
      const path = key === "index"
        ? `${fill(template, values)}/${Number(value.index || 0)}`
        : fill(template, values);
      delete value.index;
      return api(withQuery(path, query, where()), { method: "POST", body: value });
    }, true));
  } });
  return el("div", {}, open, holder);
}

async function showItem(path, query) {
  const template = matchTemplate(path);
  const schema = itemSchema(template);
  const r = await api(withQuery(path, query, inTx()));
  const view = [el("h2", { text: path.slice(CONFIG.length + 1) })];
  view.push(form(schema, r.body, (value) => api(withQuery(path, query, where()), { method: "PUT", body: value })));
  const children = childLinks(template, decodeURIComponent(path.split("/").pop()));
  if (children.length) {
    view.push(el("h3", { text: "Children" }), el("p", {},
      ...children.flatMap((c) => [el("a", { href: c.href, text: c.label }), " "])));
  }
  return view;
}

function matchTemplate(path) {
  const parts = path.split("/");
  for (const template of Object.keys(state.spec.paths)) {
    const t = template.split("/");
    if (t.length !== parts.length) continue;
    if (t.every((seg, i) => seg.startsWith("{") || seg === parts[i])) {
      if (state.spec.paths[template].get) return template;
    }
  }
  return null;
}

// A form generated from `schema`, saved by `save(value)`.
function form(schema, current, save, creating = false) {
  const props = schema.properties || {};
  const names = Object.keys(props).sort((a, b) => (a === "name" ? -1 : b === "name" ? 1 : a.localeCompare(b)));
  const set = names.filter((n) => current[n] !== undefined);
  const unset = names.filter((n) => current[n] === undefined);
  const inputs = {};
  const row = (name) => {
    const p = resolve(props[name]);
    const v = current[name];
    let input;
    if (p.enum) {
      input = el("select", { name }, el("option", { value: "", text: "" }),
        ...p.enum.map((o) => el("option", { value: o, text: o, selected: String(v) === String(o) })));
    } else if (p.type === "boolean") {
      input = el("input", { type: "checkbox", name, checked: v === true });
    } else if (p.type === "integer" || p.type === "number") {
      input = el("input", { type: "number", name, value: v === undefined ? "" : v });
    } else if (p.type === "object" || p.type === "array") {
      input = el("textarea", { name, rows: 2 });
      input.value = v === undefined ? "" : JSON.stringify(v);
    } else {
      input = el("input", { type: "text", name, value: v === undefined ? "" : v });
    }
    inputs[name] = { input, schema: p };
    return el("div", { class: "field", "data-field": name }, el("label", { text: name }), input);
  };
  const status = el("div");
  const submit = el("button", { type: "submit", text: creating ? "Create" : "Save" });
  const f = el("form", {}, ...set.map(row),
    unset.length ? el("details", { open: creating && set.length === 0 ? true : false },
      el("summary", { text: `${unset.length} more fields` }), ...unset.map(row)) : "",
    submit, status);
  f.onsubmit = async (ev) => {
    ev.preventDefault();
    f.querySelectorAll(".field.error").forEach((x) => { x.classList.remove("error"); x.querySelector(".message")?.remove(); });
    const value = {};
    for (const [name, { input, schema: p }] of Object.entries(inputs)) {
      if (p.type === "boolean") { if (input.checked) value[name] = true; continue; }
      const raw = input.value;
      if (raw === "") continue;
      if (p.type === "integer" || p.type === "number") value[name] = Number(raw);
      else if (p.type === "object" || p.type === "array") {
        try { value[name] = JSON.parse(raw); } catch (_) { value[name] = raw; }
      } else value[name] = raw;
    }
    try {
      const r = await save(value);
      await refreshVersion();
      const how = r.status === 202 ? (state.tx ? "kept in the transaction" : "written, reload queued") : "written and applied";
      status.replaceChildren(banner("ok", `Saved (${how}).`));
    } catch (e) {
      status.replaceChildren(banner("fail", errorText(e)));
      markFields(e, inputs, value);
    }
  };
  return f;
}

// Puts an error on the field it is about: the field it names, or the one
// whose value HAProxy's message quotes.
function markFields(e, inputs, value) {
  const body = (e && e.body) || {};
  const texts = [body.message || ""].concat((body.problems || []).map((p) => p.message || ""));
  const lines = texts.flatMap((t) => t.split("\n")).filter((l) => l.trim());
  const named = new Map();
  const name = (field, line) => { if (!named.has(field)) named.set(field, line); };
  for (const t of lines) {
    for (const m of t.matchAll(/field '([^']+)'/g)) name(m[1].split(".")[0], t);
    for (const m of t.matchAll(/(?:^|\s)([a-z_][\w-]*)(?:\.\S+)? in body/g)) name(m[1], t);
    for (const [field, v] of Object.entries(value)) {
      const shown = typeof v === "object" ? "" : String(v);
      if (shown.length > 1 && (t.includes(`'${shown}'`) || t.includes(`:${shown}`) || t.includes(` ${shown} `))) name(field, t);
    }
  }
  for (const [field, line] of named) {
    const entry = inputs[field];
    if (!entry) continue;
    const row = entry.input.closest(".field");
    row.classList.add("error");
    row.append(el("div", { class: "message", text: line.trim() }));
    row.closest("details")?.setAttribute("open", "");
  }
}

async function showServers() {
  const backends = (await api(`${CONFIG}/backends`)).body;
  const view = [el("h2", { text: "Live servers" })];
  for (const b of backends) {
    let servers;
    try { servers = (await api(`/services/haproxy/runtime/backends/${encodeURIComponent(b.name)}/servers`)).body; }
    catch (e) { view.push(el("p", { class: "muted", text: `${b.name}: ${errorText(e)}` })); continue; }
    if (!servers.length) continue;
    const rows = servers.map((s) => {
      const act = (admin) => el("button", { text: admin, onclick: async () => {
        try {
          await api(`/services/haproxy/runtime/backends/${encodeURIComponent(b.name)}/servers/${encodeURIComponent(s.name)}`,
            { method: "PUT", body: { admin_state: admin } });
          route();
        } catch (e) { alert(errorText(e)); }
      } });
      return el("tr", { "data-server": `${b.name}/${s.name}` }, el("td", { text: s.name }), el("td", { text: s.address ? `${s.address}:${s.port}` : "" }),
        el("td", { class: "state", text: `${s.operational_state || ""} / ${s.admin_state || ""}` }),
        el("td", { text: s.weight ?? "" }), el("td", {}, act("ready"), act("drain"), act("maint")));
    });
    view.push(el("h3", { text: b.name }), el("table", {},
      el("thead", {}, el("tr", {}, ...["server", "address", "state", "weight", ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, rows)));
  }
  return view;
}

function diffView(text) {
  return el("pre", { class: "diff" }, ...String(text).split("\n").map((line) => {
    const cls = line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "";
    return el("span", { class: cls, text: line + "\n" });
  }));
}

async function showHistory() {
  const list = (await api(`${CONFIG}/history`)).body;
  const detail = el("div");
  const rows = list.map((h) => el("tr", {},
    el("td", {}, el("a", { href: "javascript:void 0", text: String(h.version), onclick: async () => {
      const d = await api(`${CONFIG}/history/${h.version}/diff`);
      const restore = el("button", { text: `Restore version ${h.version}`, onclick: async () => {
        try {
          await api(`${CONFIG}/history/${h.version}/restore?version=${state.version}`, { method: "POST" });
          await refreshVersion();
          detail.prepend(banner("ok", `Version ${h.version} restored as version ${state.version}.`));
        } catch (e) { detail.prepend(banner("fail", errorText(e))); }
      } });
      detail.replaceChildren(el("h3", { text: `Version ${h.version}` }), restore, diffView(d.body));
    } })),
    el("td", { text: h.time || "" }), el("td", { text: h.user || "—" }), el("td", { text: h.origin || "" }),
    el("td", { text: (h.changes || []).join(", ") }), el("td", { text: `${h.applied || ""} ${h.reload_status || ""}` })));
  return [el("h2", { text: "History" }), el("table", {},
    el("thead", {}, el("tr", {}, ...["version", "time", "user", "origin", "changes", "applied"].map((x) => el("th", { text: x })))),
    el("tbody", {}, rows)), detail];
}

async function showReloads() {
  const list = (await api("/services/haproxy/reloads")).body;
  return [el("h2", { text: "Reloads" }), el("table", {}, el("tbody", {},
    list.map((r) => el("tr", {}, el("td", { text: r.id }), el("td", { text: r.status }),
      el("td", { text: r.reload_timestamp ? new Date(r.reload_timestamp * 1000).toISOString() : "" }),
      el("td", { text: r.response || "" })))))];
}

async function showFiles() {
  const list = (await api(`${CONFIG}/files`)).body;
  return [el("h2", { text: "Files" }), el("table", {}, el("tbody", {},
    list.map((f) => el("tr", {}, el("td", { text: f.file }), el("td", { text: f.read_only ? "read-only" : "" }),
      el("td", { text: f.sections.join(", ") })))))];
}

async function showOverview() {
  return [el("h2", { text: "Configuration" }),
    el("p", { text: "Pick a section on the left. Changes are written at once, or kept in a transaction:" }),
    el("button", { id: "txstart", text: "Start a transaction", onclick: startTransaction })];
}

// --- transactions -------------------------------------------------------------

function showTx() {
  $("txbar").hidden = !state.tx;
  $("txid").textContent = state.tx || "";
}

async function startTransaction() {
  try {
    const r = await api(`/services/haproxy/transactions?version=${state.version}`, { method: "POST" });
    state.tx = r.body.id;
    sessionStorage.setItem("haplane-tx", state.tx);
    showTx();
  } catch (e) { alert(errorText(e)); }
}

function endTransaction() {
  state.tx = null;
  sessionStorage.removeItem("haplane-tx");
  showTx();
}

$("txdiff").onclick = async () => {
  const d = await api(`/services/haproxy/transactions/${state.tx}/diff`);
  $("view").replaceChildren(el("h2", { text: `Transaction ${state.tx}` }), diffView(d.body));
};
$("txcommit").onclick = async () => {
  const id = state.tx;
  try {
    await api(`/services/haproxy/transactions/${id}`, { method: "PUT" });
    endTransaction();
    await refreshVersion();
    $("view").replaceChildren(banner("ok", `Transaction ${id} committed: version ${state.version}.`));
  } catch (e) {
    const problems = (e.body && e.body.problems) || [];
    $("view").replaceChildren(banner("fail", errorText(e)),
      ...problems.filter((p) => p.resource).map((p) => el("p", {},
        el("a", { href: `#/item${CONFIG}${p.resource}`, text: p.resource }), `: ${p.message}`)));
  }
};
$("txdiscard").onclick = async () => {
  try { await api(`/services/haproxy/transactions/${state.tx}`, { method: "DELETE" }); } catch (_) { /* gone */ }
  endTransaction();
  route();
};

// --- routing ------------------------------------------------------------------

async function route() {
  const hash = decodeURI(location.hash.slice(1) || "/");
  const view = $("view");
  try {
    await refreshVersion();
    let content;
    const [screen, query] = hash.split("?");
    if (screen.startsWith("/list/")) {
      const path = screen.slice(5);
      const template = matchTemplate(path);
      const values = {};
      if (template) template.split("/").forEach((seg, i) => { if (seg.startsWith("{")) values[seg.slice(1, -1)] = decodeURIComponent(path.split("/")[i]); });
      content = await showList(template || path, values, query);
    } else if (screen.startsWith("/item/")) content = await showItem(screen.slice(5), query);
    else if (hash === "/servers") content = await showServers();
    else if (hash === "/history") content = await showHistory();
    else if (hash === "/reloads") content = await showReloads();
    else if (hash === "/files") content = await showFiles();
    else content = await showOverview();
    view.replaceChildren(...content);
  } catch (e) {
    view.replaceChildren(banner("fail", errorText(e)));
  }
}

(async () => {
  state.spec = (await api("/specification")).body;
  sidebar();
  showTx();
  window.addEventListener("hashchange", route);
  await route();
})();
