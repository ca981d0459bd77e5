// The dashboard page's script (served as /app.js from memory; no framework, nothing from the
// network). Every piece of data is put on the page as text (textContent, attribute values), never
// parsed as HTML: message bodies come from other sessions and may contain anything. Text shown to
// people also goes through safe(): control, C1 and bidi characters appear escaped, as the CLI
// shows them on a terminal, so a body cannot reverse or hide what the page says.
"use strict";
(() => {
  const token = new URLSearchParams(location.search).get("token") || "";
  const withToken = (path) => `${path}?token=${encodeURIComponent(token)}`;
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  // The characters src/lib/text.ts neutralize() escapes: C0 controls but tab and newline, DEL,
  // C1 controls, and the bidi embedding/override/isolate marks (U+202A–U+202E, U+2066–U+2069).
  const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
  const safe = (text) => String(text).replace(UNSAFE, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);

  const state = { snap: null, project: null, role: "", chain: "", selected: null, updates: 0 };

  // ---- building DOM without HTML parsing ----
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    setProps(node, props);
    append(node, children);
    return node;
  }
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    append(node, children);
    return node;
  }
  function setProps(node, props) {
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = safe(v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      // Shown as tooltips and read aloud: text for people. Other attributes (value) stay exact.
      else if (k === "title" || k === "aria-label") node.setAttribute(k, safe(v));
      else node.setAttribute(k, String(v));
    }
  }
  function append(node, children) {
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(typeof c === "string" ? document.createTextNode(safe(c)) : c);
    }
  }

  // ---- formatting ----
  function ago(ts) {
    const ms = Date.now() - Date.parse(ts);
    if (!Number.isFinite(ms)) return "";
    const s = Math.round(ms / 1000);
    if (s < 5) return "just now";
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.round(s / 60)} min ago`;
    if (s < 86400) return `${Math.round(s / 3600)} h ago`;
    return `${Math.round(s / 86400)} d ago`;
  }
  function clock(ts) {
    const d = new Date(ts);
    if (Number.isNaN(d.getTime())) return "--:--:--";
    const p = (n) => String(n).padStart(2, "0");
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }
  const PALETTE = ["#3b5bdb", "#e8590c", "#0c8599", "#9c36b5", "#2b8a3e", "#c2255c", "#b08800", "#5f3dc4"];
  // Colours go to chains in the order they first appear (oldest first) in the room, so the few
  // chains on screen get distinct colours and keep them as new messages arrive.
  let colors = new Map();
  function assignColors(p) {
    colors = new Map();
    if (!p) return;
    for (let i = p.messages.length - 1; i >= 0; i--) {
      const chain = p.messages[i].chain;
      if (!colors.has(chain)) colors.set(chain, PALETTE[colors.size % PALETTE.length]);
    }
  }
  const chainColor = (chain) => colors.get(chain) || PALETTE[0];
  const shortChain = (chain) => (chain.length > 8 ? `c…${chain.slice(-6)}` : chain);
  const firstLine = (text) => text.replace(/\s+/g, " ").trim();
  // Cuts text to fit `px` at the preview's font, measured (not guessed) on a canvas.
  const measure = document.createElement("canvas").getContext("2d");
  function fit(whole, px) {
    const text = whole.slice(0, 300); // no preview line is wider than this
    measure.font = '11.5px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
    if (text === whole && measure.measureText(text).width <= px) return text;
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (measure.measureText(`${text.slice(0, mid)}…`).width <= px) lo = mid;
      else hi = mid - 1;
    }
    return lo < 3 ? "" : `${text.slice(0, lo).trimEnd()}…`;
  }

  // ---- the stream ----
  function connect() {
    const source = new EventSource(withToken("/api/events"));
    source.addEventListener("snapshot", (e) => {
      state.snap = JSON.parse(e.data);
      state.updates++;
      document.body.dataset.state = "live";
      document.body.dataset.updates = String(state.updates);
      $("conn-text").textContent = "live";
      render();
    });
    source.addEventListener("error", () => {
      document.body.dataset.state = "reconnecting";
      // CLOSED: the server refused the stream (a restarted dashboard has a new token): only its new URL works.
      $("conn-text").textContent =
        source.readyState === EventSource.CLOSED ? "disconnected: open the URL the dashboard printed" : "reconnecting…";
    });
  }

  async function post(path, body) {
    document.querySelectorAll("[data-admin]").forEach((b) => (b.disabled = true));
    try {
      const res = await fetch(withToken(path), {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Bridge-Token": token },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      let answer = null;
      try {
        answer = JSON.parse(text);
      } catch {
        // Not JSON: a refusal before the action ran (token, Host, origin); its text says why.
      }
      if (res.ok && answer) notify(answer.text, "ok");
      else notify(answer?.error ? `${answer.error.code}: ${answer.error.message}` : `refused (${res.status}): ${text.trim()}`, "error");
    } catch (err) {
      notify(`the request failed: ${err.message}`, "error");
    } finally {
      document.querySelectorAll("[data-admin]").forEach((b) => (b.disabled = false));
    }
  }
  function notify(text, kind) {
    $("notice-text").textContent = safe(text);
    $("notice").className = `notice ${kind === "error" ? "error" : ""}`;
    $("notice").hidden = false;
  }

  // ---- rendering ----
  function render() {
    const snap = state.snap;
    if (!snap) return;
    const names = snap.projects.map((p) => p.name);
    if (!names.includes(state.project)) state.project = busiest(snap.projects);
    assignColors(snap.projects.find((p) => p.name === state.project));
    renderTop(snap);
    renderRooms(snap);
    renderTimeline(snap);
    renderDetails(snap);
    renderSpawner(snap);
  }

  function busiest(projects) {
    let best = null;
    for (const p of projects) if (!best || latest(p) > latest(best)) best = p;
    return best ? best.name : null;
  }
  const latest = (p) => (p.messages[0] ? p.messages[0].ts : "");

  function renderTop(snap) {
    $("version").textContent = `v${snap.version}`;
    $("root").textContent = safe(snap.rootLabel);
    $("root").title = safe(
      snap.store
        ? `the store (BRIDGE_URL) ${snap.store.where}; settings and daemon in ${snap.root}`
        : `the bus folder (BRIDGE_ROOT): ${snap.root}`,
    );
    const a = snap.automation;
    const pill = $("automation");
    pill.textContent = a.configError ? "settings file invalid" : a.enabled ? "automation on" : "automation off";
    pill.className = `pill ${a.configError ? "bad" : a.enabled ? "on" : ""}`;
    pill.title = safe(a.configError || (a.enabled ? `default mode ${a.defaultMode}` : "nothing is woken automatically"));
    const slot = $("admin-switch");
    slot.replaceChildren();
    if (snap.admin) {
      slot.append(
        el("button", {
          type: "button",
          "data-admin": "automation",
          "data-testid": "admin-automation",
          text: a.enabled ? "Turn automation off" : "Turn automation on",
          onclick: () => post("/api/automation", { enabled: !a.enabled }),
        }),
      );
    }
    const problems = $("problems");
    problems.hidden = snap.problems.length === 0;
    problems.textContent = snap.problems.length ? safe(`Could not read everything: ${snap.problems.join("; ")}`) : "";
    // On Redis: where the rooms come from and what is not shown there (src/dashboard/store-data.ts).
    const notes = $("store-notes");
    notes.hidden = !snap.store;
    notes.textContent = snap.store ? safe(snap.store.notes.join(" ")) : "";
  }

  function renderRooms(snap) {
    const box = $("rooms");
    if (snap.projects.length === 0) {
      box.replaceChildren(
        el(
          "div",
          { class: "card empty" },
          "No rooms yet. A room appears when a session connects, e.g. ",
          el("code", { text: "BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude" }),
          ", or when a message is sent with ",
          el("code", { text: "session-bridge send" }),
          ".",
        ),
      );
      return;
    }
    box.replaceChildren(...snap.projects.map((p) => roomCard(snap, p)));
  }

  function roomCard(snap, p) {
    const live = p.roles.filter((r) => r.live).length;
    const unread = p.roles.reduce((n, r) => n + r.unread, 0);
    const stats = `${p.roles.length} role${p.roles.length === 1 ? "" : "s"} · ${live} live · ${p.totalMessages} message${p.totalMessages === 1 ? "" : "s"}${unread ? ` · ${unread} unread` : ""}`;
    return el(
      "section",
      { class: `card room${p.name === state.project ? " selected" : ""}`, "data-testid": `room-${p.name}` },
      el(
        "div",
        { class: "room-head", title: "show this room's timeline", onclick: () => selectProject(p.name) },
        el("h3", { text: p.name }),
        el("span", { class: "room-stats", text: stats }),
      ),
      el(
        "ul",
        { class: "roles" },
        p.roles.map((r) => roleRow(snap, p, r)),
      ),
    );
  }

  function roleRow(snap, p, r) {
    const paused = r.mode === "auto" && !r.auto;
    const modeBadge = el("span", {
      class: `badge ${paused ? "paused" : r.mode}`,
      "data-testid": "mode",
      text: r.mode,
      title: r.why || (r.auto ? "woken automatically" : ""),
    });
    const side = el("div", { class: "role-side" });
    if (r.unread > 0) side.append(el("span", { class: "badge unread", "data-testid": "unread", text: `${r.unread} unread` }));
    if (snap.admin) {
      const next = r.mode === "auto" ? "manual" : "auto";
      side.append(
        el("button", {
          type: "button",
          "data-admin": "role-mode",
          "data-testid": `admin-mode-${p.name}-${r.role}`,
          text: `Set ${next}`,
          title: `session-bridge spawner set ${p.name} ${r.role} mode=${next}`,
          onclick: () => post("/api/role-mode", { project: p.name, role: r.role, mode: next }),
        }),
      );
    }
    const details = [];
    if (!r.joined) details.push(el("div", { class: "role-detail", text: "configured, not joined yet" }));
    else if (r.live)
      details.push(el("div", { class: "role-detail", "data-testid": "where", text: r.sessions.map((s) => s.where).join("; ") }));
    else
      details.push(
        el("div", {
          class: "role-detail",
          "data-testid": "where",
          text: r.sessions[0] ? `offline · last seen ${ago(r.sessions[0].lastSeen)}` : "offline · no session has connected",
        }),
      );
    if (r.driver === "spawn" || r.target.startsWith("tmux target"))
      details.push(el("div", { class: "role-detail", text: `wakes: ${r.target}` }));
    if (r.run)
      details.push(el("div", { class: "role-detail wake", text: `claude -p running (pid ${r.run.pid}) since ${ago(r.run.startedAt)}` }));
    else if (r.inFlightSince) details.push(el("div", { class: "role-detail wake", text: `wake in flight since ${ago(r.inFlightSince)}` }));
    // A run that failed says why in its last lines (Not logged in, a missing folder…).
    if (!r.run && r.lastRun?.tail?.length)
      details.push(
        el(
          "div",
          { class: "role-detail refusal", "data-testid": "last-run", title: r.lastRun.endedAt },
          `last run ${ago(r.lastRun.endedAt)}: ${r.lastRun.outcome}`,
          el("pre", { class: "run-tail", text: r.lastRun.tail.join("\n") }),
        ),
      );
    if (r.lastWake) {
      const w = r.lastWake;
      details.push(
        el("div", {
          class: "role-detail wake",
          "data-testid": "last-wake",
          title: w.at,
          text: `woken ${ago(w.at)} via ${w.driver} · chain ${shortChain(w.chain)} hop ${w.hop}${w.detail ? ` · ${w.detail}` : ""}`,
        }),
      );
    }
    if (r.lastRefusal && (!r.lastWake || r.lastRefusal.at >= r.lastWake.at)) {
      const f = r.lastRefusal;
      details.push(
        el("div", {
          class: "role-detail refusal",
          "data-testid": "refusal",
          title: f.at,
          text: `not woken ${ago(f.at)} (${f.code}): ${f.reason}`,
        }),
      );
    }
    return el(
      "li",
      {
        class: `role${r.live ? " live" : ""}${r.joined ? "" : " not-joined"}`,
        "data-testid": `role-${p.name}-${r.role}`,
        "data-live": String(r.live),
      },
      el("span", { class: "live-dot", title: r.live ? "a live session holds this role" : "no live session" }),
      el(
        "div",
        { class: "role-line" },
        el("span", { class: "role-name", text: r.role }),
        modeBadge,
        el("span", { class: "badge driver", text: r.driver, title: `wake driver: ${r.target}` }),
      ),
      side,
      details,
    );
  }

  function selectProject(name) {
    if (state.project === name) return;
    state.project = name;
    state.role = "";
    state.chain = "";
    state.selected = null;
    render();
  }

  function visibleMessages(p) {
    return p.messages.filter(
      (m) =>
        (!state.role || m.from === state.role || m.recipients.some((r) => r.role === state.role)) &&
        (!state.chain || m.chain === state.chain),
    );
  }

  function renderTimeline(snap) {
    const tabs = $("project-tabs");
    tabs.replaceChildren(
      ...snap.projects.map((p) =>
        el("button", {
          type: "button",
          role: "tab",
          "aria-selected": String(p.name === state.project),
          text: p.name,
          onclick: () => selectProject(p.name),
        }),
      ),
    );
    const box = $("timeline");
    const p = snap.projects.find((x) => x.name === state.project);
    if (!p) {
      setOptions($("filter-role"), [], "");
      setOptions($("filter-chain"), [], "");
      $("timeline-count").textContent = "";
      box.replaceChildren(el("div", { class: "empty", text: "No messages yet." }));
      return;
    }
    const lanes = laneNames(p);
    setOptions(
      $("filter-role"),
      lanes.map((r) => [r, r]),
      state.role,
    );
    const chains = [];
    for (const m of p.messages)
      if (!chains.some((c) => c[0] === m.chain))
        chains.push([m.chain, `${shortChain(m.chain)} (${p.messages.filter((x) => x.chain === m.chain).length})`]);
    setOptions($("filter-chain"), chains, state.chain);
    const rows = visibleMessages(p);
    const more = p.totalMessages > p.messages.length ? ` (newest ${p.messages.length} of ${p.totalMessages})` : "";
    $("timeline-count").textContent = `${rows.length} shown${more}`;
    if (rows.length === 0) {
      box.replaceChildren(
        el(
          "div",
          { class: "empty" },
          p.messages.length ? "No message matches the filters." : "No messages yet in this room. Send one: ",
          p.messages.length ? "" : el("code", { text: `session-bridge send --project ${p.name} --role ROLE TO "hello"` }),
        ),
      );
      return;
    }
    box.replaceChildren(...drawTimeline(p, lanes, rows, box.clientWidth || 800));
  }

  function laneNames(p) {
    const names = p.roles.map((r) => r.role);
    for (const m of p.messages) for (const n of [m.from, ...m.recipients.map((r) => r.role)]) if (!names.includes(n)) names.push(n);
    return names;
  }

  function setOptions(select, options, value) {
    const all = [["", "all"], ...options];
    select.replaceChildren(...all.map(([v, label]) => el("option", { value: v, text: label })));
    select.value = all.some(([v]) => v === value) ? value : "";
  }

  const GUTTER = 104;
  const ROW = 46;
  function drawTimeline(p, lanes, rows, width) {
    const laneW = Math.max(120, (width - GUTTER - 12) / Math.max(lanes.length, 1));
    const W = Math.round(GUTTER + laneW * lanes.length + 12);
    const H = rows.length * ROW + 6;
    const x = (role) => GUTTER + laneW * (lanes.indexOf(role) + 0.5);
    const live = new Set(p.roles.filter((r) => r.live).map((r) => r.role));
    const head = el(
      "div",
      { class: "lanes-head" },
      lanes.map((role) => {
        const label = el("div", { class: `lane-label${live.has(role) ? " live" : ""}`, title: role }, el("span", { class: "ldot" }), role);
        label.style.left = `${x(role) - laneW / 2}px`;
        label.style.width = `${laneW}px`;
        return label;
      }),
    );
    head.style.width = `${W}px`;
    const root = svg("svg", {
      class: "tl",
      width: W,
      height: H,
      viewBox: `0 0 ${W} ${H}`,
      role: "list",
      "aria-label": "messages, newest first",
    });
    for (const role of lanes) root.append(svg("line", { class: "lane", x1: x(role), x2: x(role), y1: 0, y2: H }));
    rows.forEach((m, i) => root.append(drawRow(m, i * ROW, W, x)));
    return [head, root];
  }

  function drawRow(m, y0, W, x) {
    const color = chainColor(m.chain);
    const mid = y0 + 29;
    const from = x(m.from);
    const targets = m.recipients.length ? m.recipients : [{ role: m.to, read: false }];
    const broadcast = m.to === "*";
    const g = svg("g", {
      class: `row${state.selected === m.id ? " selected" : ""}`,
      tabindex: 0,
      role: "listitem",
      "data-id": m.id,
      "data-testid": `msg-${m.id}`,
    });
    g.setAttribute("aria-label", safe(`${m.from} to ${broadcast ? "everyone" : m.to}, ${clock(m.ts)}, chain ${m.chain} hop ${m.hop}`));
    g.addEventListener("click", () => select(m.id));
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        select(m.id);
      }
    });
    g.append(svg("rect", { class: "hit", x: 0, y: y0 + 2, width: W, height: ROW - 4, rx: 6 }));
    const time = svg("text", { class: "t-time", x: 10, y: y0 + 21 });
    time.textContent = clock(m.ts);
    const chain = svg("text", { class: "t-chain", x: 10, y: y0 + 36 });
    chain.textContent = safe(shortChain(m.chain));
    const tip = svg("title");
    tip.textContent = safe(`${m.ts} · chain ${m.chain} · hop ${m.hop}`);
    g.append(tip, time, chain);
    const xs = targets.map((t) => x(t.role));
    const lo = Math.min(from, ...xs);
    const hi = Math.max(from, ...xs);
    g.append(svg("line", { class: `arrow${broadcast ? " broadcast" : ""}`, x1: lo, x2: hi, y1: mid, y2: mid, stroke: color }));
    for (const t of targets) {
      const tx = x(t.role);
      const dir = tx >= from ? 1 : -1;
      const pts = `${tx},${mid} ${tx - dir * 10},${mid - 5.5} ${tx - dir * 10},${mid + 5.5}`;
      g.append(svg("polygon", { class: `tip${t.read ? "" : " unread"}`, points: pts, fill: t.read ? color : undefined, stroke: color }));
    }
    g.append(svg("circle", { cx: from, cy: mid, r: 9, fill: color }));
    const hop = svg("text", { class: "t-hop", x: from, y: mid + 0.5 });
    hop.textContent = String(m.hop);
    g.append(hop);
    // The preview sits above the arrow, from its left end on: nothing else is drawn in that row.
    const start = lo + 14;
    const text = fit(safe(`${broadcast ? "to all: " : ""}${firstLine(m.body)}`), W - start - 12);
    if (text) {
      const prev = svg("text", { class: "t-prev", x: start, y: mid - 11 });
      prev.textContent = text;
      g.append(prev);
    }
    return g;
  }

  function select(id) {
    state.selected = state.selected === id ? null : id;
    render();
  }

  function renderDetails(snap) {
    const box = $("details");
    const p = snap.projects.find((x) => x.name === state.project);
    const m = p && state.selected ? p.messages.find((x) => x.id === state.selected) : null;
    if (!m) {
      box.replaceChildren(
        el("h2", { text: "Message" }),
        el("p", { class: "muted small", text: "Click an arrow in the timeline to read the message." }),
      );
      return;
    }
    const color = chainColor(m.chain);
    const recipients = m.recipients.map((r) =>
      el(
        "span",
        { class: "recipient" },
        el("span", { text: r.role }),
        el("span", { class: `badge${r.read ? "" : " unread"}`, text: r.read ? "read" : "unread" }),
      ),
    );
    const rows = [
      ["id", el("span", { class: "mono", text: m.id })],
      ["sent", `${clock(m.ts)} · ${ago(m.ts)}`],
      [
        "chain",
        el(
          "button",
          { type: "button", class: "link", title: "show only this chain", onclick: () => filterChain(m.chain) },
          el("span", { class: "swatch" }),
          m.chain,
        ),
      ],
      ["hop", String(m.hop)],
      ["to", recipients.length ? recipients : m.to],
    ];
    if (m.replyTo) {
      const target = p.messages.find((x) => x.id === m.replyTo);
      rows.push([
        "reply to",
        target
          ? el("button", {
              type: "button",
              class: "link",
              text: `${target.from}: ${fit(safe(firstLine(target.body)), 220)}`,
              onclick: () => select(target.id),
            })
          : el("span", { class: "mono", text: m.replyTo }),
      ]);
    }
    const dl = el(
      "dl",
      {},
      rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]),
    );
    const swatch = dl.querySelector(".swatch");
    if (swatch) swatch.style.background = color;
    const parts = [
      el("h2", { text: "Message" }),
      el(
        "h3",
        {},
        el("span", { text: m.from }),
        el("span", { class: "muted", text: "→" }),
        el("span", { text: m.to === "*" ? "everyone (broadcast)" : m.to }),
      ),
      dl,
      el("pre", { class: "body-text", "data-testid": "detail-body", text: m.body }),
    ];
    if (m.bodyChars > m.body.length)
      parts.push(
        el("p", {
          class: "muted small",
          text: `Showing the first ${m.body.length.toLocaleString()} of ${m.bodyChars.toLocaleString()} characters; \`session-bridge tail\` for the recipient prints it all.`,
        }),
      );
    box.replaceChildren(...parts);
  }

  function filterChain(chain) {
    state.chain = state.chain === chain ? "" : chain;
    render();
  }

  function renderSpawner(snap) {
    const d = snap.daemon;
    const a = snap.automation;
    const status = el("span", {
      class: `pill ${d.running ? "on" : ""}`,
      "data-testid": "daemon",
      text: d.running ? "running" : "not running",
    });
    const line = d.running
      ? `pid ${d.pid} · started ${d.startedAt ? `${clock(d.startedAt)} (${ago(d.startedAt)})` : "?"}`
      : "Nothing is woken while no daemon runs: session-bridge spawner run";
    const kv = (k, v, title) => el("div", { title: title || v }, el("span", { class: "k", text: k }), el("span", { class: "v", text: v }));
    const parts = [
      el("div", { class: "spawner-head" }, el("h2", { text: "Wake daemon" }), status),
      el("div", { class: "muted small", text: line }),
      el(
        "div",
        { class: "kv" },
        kv("automation", a.enabled ? "on" : "off"),
        kv("default mode", a.defaultMode),
        kv("driver", a.driver),
        kv("max hops", String(a.maxHops)),
        kv("rate limit", `${a.rateLimitPerMinute} / min`),
        kv("cooldown", `${a.cooldownSeconds} s`),
      ),
      el("div", { class: "muted small", text: `default-off roles: ${a.defaultOffRoles.join(", ") || "none"}` }),
    ];
    if (a.configError) parts.push(el("div", { class: "role-detail refusal", text: a.configError }));
    parts.push(el("h2", { class: "events-title", text: "Recent wakes and refusals" }));
    const list = snap.events
      .slice(0, 50)
      .map((e) =>
        el(
          "li",
          { class: "event", "data-testid": "event", "data-event": e.event },
          el("span", { class: "when", title: e.ts, text: clock(e.ts) }),
          el("span", { class: `ev ${e.event}`, text: e.event }),
          el("span", { class: "who", text: e.project ? `${e.project}/${e.role || "?"}` : "" }),
          el("span", { class: "msg", text: e.msg }),
        ),
      );
    parts.push(
      list.length
        ? el("ul", { class: "events" }, list)
        : el("p", { class: "muted small", text: "No events yet: the daemon logs its wakes and refusals here." }),
    );
    $("spawner").replaceChildren(...parts);
  }

  // ---- wiring ----
  document.addEventListener("DOMContentLoaded", () => {
    $("filter-role").addEventListener("change", (e) => {
      state.role = e.target.value;
      render();
    });
    $("filter-chain").addEventListener("change", (e) => {
      state.chain = e.target.value;
      render();
    });
    $("notice-close").addEventListener("click", () => ($("notice").hidden = true));
    let resize;
    window.addEventListener("resize", () => {
      clearTimeout(resize);
      resize = setTimeout(render, 100);
    });
    // Relative times ("3 min ago") move on even when nothing changes.
    setInterval(render, 15000);
    connect();
  });
})();
