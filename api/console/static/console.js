// The console's little JavaScript: the live alarm feed (server-sent events), actions through
// the JSON API, SLA countdowns and telemetry charts. No build step, no framework.
"use strict";

const Console = (() => {
  // The page's language: its words for this script (JSON in <body data-words>, filled from the
  // catalogue: the CSP allows no inline script) and the API's error messages in it too.
  const LANG = document.documentElement.lang || "en";
  const WORDS = JSON.parse(document.body.dataset.words || "{}");
  const HEADERS = { "X-Facility-Console": "1", "Accept-Language": LANG };

  function t(message, values) {
    const text = WORDS[message] || message;
    return text.replace(/\{(\w+)\}/g, (_, name) => String(values?.[name] ?? ""));
  }

  function notice(text, isError) {
    const box = document.getElementById("notice");
    if (!box) return;
    box.textContent = text;
    box.className = isError ? "error" : "ok";
    box.hidden = false;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  function describe(body) {
    if (!body) return "";
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) {
      return body.detail.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
    }
    if (body.detail && body.detail.message) return body.detail.message;
    return JSON.stringify(body.detail ?? body);
  }

  async function api(method, url, body) {
    const init = { method, headers: { ...HEADERS }, credentials: "same-origin" };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    if (response.status === 401) {
      location.href = "/console/login?next=" + encodeURIComponent(location.pathname);
      throw new Error(t("logged out"));
    }
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : null;
    if (!response.ok) {
      const message = `${response.status}: ${describe(data) || response.statusText}`;
      notice(message, true);
      throw new Error(message);
    }
    return data;
  }

  // -- SLA countdowns -------------------------------------------------------------------------
  function clock(ms) {
    const s = Math.floor(Math.abs(ms) / 1000);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mm = String(m).padStart(2, "0"), ss = String(sec).padStart(2, "0");
    return h ? t("{h}h {mm}m", { h, mm }) : `${mm}:${ss}`;
  }

  function countdowns() {
    const now = Date.now();
    for (const el of document.querySelectorAll(".countdown[data-due]")) {
      const left = Date.parse(el.dataset.due) - now;
      // The time goes in as a value: t() fills every {name} it is given (and blanks the rest).
      const values = { clock: clock(left) };
      const what = el.dataset.what === "response"
        ? [t("response in {clock}", values), t("response overdue {clock}", values)]
        : [t("resolution in {clock}", values), t("resolution overdue {clock}", values)];
      el.textContent = left >= 0 ? what[0] : what[1];
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("at-risk", left >= 0 && left < 10 * 60 * 1000);
    }
  }

  // -- the live alarm list --------------------------------------------------------------------
  let pending = null;

  async function refreshAlarms() {
    const list = document.getElementById("alarm-list");
    const response = await fetch(list.dataset.src, { credentials: "same-origin" });
    if (response.status === 401) { location.href = "/console/login?next=/console/alarms"; return; }
    if (response.ok) list.innerHTML = await response.text();
    countdowns();
  }

  function scheduleRefresh() {
    // A burst of transitions (a flood) becomes one refresh.
    if (pending) return;
    pending = setTimeout(() => { pending = null; refreshAlarms(); }, 150);
  }

  function openFeed() {
    const badge = document.getElementById("live");
    const feed = new EventSource("/alarms/live");
    let connectedBefore = false;
    // The token the feed was opened with expired (the page renews its cookie): open it again.
    feed.addEventListener("expired", () => {
      feed.close();
      badge.classList.replace("on", "off");
      setTimeout(() => { openFeed(); scheduleRefresh(); }, 500);
    });
    feed.addEventListener("open", () => {
      badge.classList.replace("off", "on");
      if (connectedBefore) scheduleRefresh(); // events missed while away
      connectedBefore = true;
    });
    feed.addEventListener("error", () => badge.classList.replace("on", "off"));
    // The server ends the feed when the session ends: to the login form.
    feed.addEventListener("ended", () => {
      feed.close();
      location.assign(`/console/login?next=${encodeURIComponent(location.pathname)}`);
    });
    feed.addEventListener("alarm", (event) => {
      const alarm = JSON.parse(event.data);
      document.body.dataset.lastAlarm = `${alarm.alarm_id}:${alarm.action}`;
      scheduleRefresh();
    });
  }

  function liveAlarms() {
    openFeed();
    document.getElementById("alarm-list").addEventListener("click", onAlarmAction);
    document.getElementById("shelve-form").addEventListener("submit", onShelve);
  }

  async function onAlarmAction(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = button.closest("tr").dataset.alarm;
    const action = button.dataset.action;
    button.disabled = true;
    try {
      if (action === "acknowledge") {
        await api("POST", `/alarms/${id}/acknowledge`, { actor: "console", note: "" });
      } else if (action === "unshelve") {
        await api("POST", `/alarms/${id}/unshelve`, { actor: "console" });
      } else if (action === "shelve") {
        const dialog = document.getElementById("shelve-dialog");
        dialog.dataset.alarm = id;
        dialog.querySelector("[data-field=alarm]").textContent = `#${id}`;
        dialog.showModal();
        return;
      } else if (action === "reset") {
        await onReset(id);
      } else if (action === "ticket") {
        const made = await api("POST", `/alarms/${id}/ticket`);
        notice(t("Ticket #{ticket} for alarm {alarm}", { ticket: made.ticket_id, alarm: id }));
      }
      await refreshAlarms();
    } catch (error) {
      /* shown by api() */
    } finally {
      button.disabled = false;
    }
  }

  async function onShelve(event) {
    const dialog = document.getElementById("shelve-dialog");
    if (event.submitter && event.submitter.value === "cancel") return;
    // The dialog stays open (and keeps the reason typed) until the shelve went through.
    event.preventDefault();
    const form = event.target;
    try {
      await api("POST", `/alarms/${dialog.dataset.alarm}/shelve`, {
        actor: "console",
        reason: form.reason.value,
        minutes: Number(form.minutes.value),
      });
      form.reset();
      dialog.close();
      await refreshAlarms();
    } catch (error) {
      /* shown by api(); the dialog keeps what was typed */
    }
  }

  async function onReset(id) {
    const reason = prompt(t("Why is the alarm reset (what was done on site)?"));
    if (reason === null) return;
    if (!reason.trim()) { notice(t("A reset needs a reason."), true); return; }
    await api("POST", `/alarms/${id}/reset`, { actor: "console", reason });
  }

  // -- tickets ----------------------------------------------------------------------------------
  function transitionBody(action, card, button) {
    const body = { action, actor: "console" };
    if (button.dataset.finding) body.finding = button.dataset.finding;
    if (action === "accept") {
      const answer = prompt(t("On site within how many minutes?"), "30");
      if (answer === null) return null;
      const minutes = Number(answer.trim());
      if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 7 * 24 * 60) {
        notice(t("\"{answer}\" is not a number of minutes (1 to {most}).", { answer, most: 7 * 24 * 60 }), true);
        return null;
      }
      body.committed_at = new Date(Date.now() + minutes * 60000).toISOString();
    } else if (action === "assign") {
      const id = prompt(t("Technician id"));
      if (!id) return null;
      if (!/^\d+$/.test(id.trim())) { notice(t("\"{id}\" is not a technician id.", { id }), true); return null; }
      body.technician_id = Number(id);
    } else if (["reject", "reopen", "cancel", "escalate"].includes(action)) {
      const question = {
        reject: t("What must be put right?"),
        reopen: t("What must be put right?"),
        cancel: t("Why is it cancelled?"),
        escalate: t("What is beyond your authority?"),
      }[action];
      const note = prompt(question);
      if (note === null) return null;
      if (!note.trim()) { notice(t("Please say why."), true); return null; }
      body.note = note;
    } else if (action === "verify") {
      const actions = card.querySelector("[data-needs-confirmation]") || card;
      if (actions.dataset.needsConfirmation === "yes") {
        body.requester_confirmed = confirm(t("Has the requester accepted the result (by phone or on site)?"));
      }
    } else if (action === "resolve") {
      const note = prompt(t("What was done?"), "");
      if (note === null) return null;
      body.note = note;
    }
    return body;
  }

  function ticket() {
    document.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-transition]");
      if (!button) return;
      const card = button.closest("[data-ticket]");
      const body = transitionBody(button.dataset.transition, card, button);
      if (!body) return;
      body.expected_version = Number(card.dataset.version);
      button.disabled = true;
      try {
        await api("POST", `/tickets/${card.dataset.ticket}/transitions`, body);
        location.reload();
      } catch (error) {
        button.disabled = false;
      }
    });
    const root = document.querySelector("article.ticket");
    if (!root) return;
    const id = root.dataset.ticket;
    const submit = (selector, work) => {
      const form = document.getElementById(selector);
      if (!form) return;
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try { await work(form); location.reload(); } catch (error) { /* shown */ }
      });
    };
    submit("checklist", (form) => api("POST", `/tickets/${id}/checklist`, {
      actor: "console",
      items: [...form.querySelectorAll("tr[data-key]")].map((row) => {
        const reading = row.querySelector("[name=reading]");
        const item = {
          key: row.dataset.key,
          result: row.querySelector("[name=result]").value,
          notes: row.querySelector("[name=notes]").value,
        };
        if (reading && reading.value !== "") item.reading = Number(reading.value);
        return item;
      }),
    }));
    submit("upload", (form) => {
      const data = new FormData(form);
      data.append("actor", "console");
      return api("POST", `/tickets/${id}/attachments`, data);
    });
    submit("comment", (form) => api("POST", `/tickets/${id}/comments`, {
      author: "console", body: form.body.value,
    }));
    submit("rating", (form) => api("POST", `/tickets/${id}/rating`, {
      actor: "console", rating: Number(form.rating.value), comment: form.comment.value,
    }));
  }

  // -- a requester's new request ------------------------------------------------------------------
  function newRequest() {
    const form = document.getElementById("new-request");
    const places = [...form.location_id.options].slice(1);
    const showPlaces = () => {
      for (const option of places) option.hidden = option.dataset.site !== form.site_id.value;
      if (form.location_id.selectedOptions[0]?.hidden) form.location_id.value = "";
    };
    form.site_id.addEventListener("change", showPlaces);
    showPlaces();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const send = form.querySelector("button[type=submit]");
      send.disabled = true;
      try {
        // What was typed stays in the form whatever goes wrong.
        const made = await api("POST", "/tickets", {
          site_id: Number(form.site_id.value),
          type: form.type.value,
          location_id: Number(form.location_id.value),
          title: form.title.value,
          description: form.description.value,
        });
        if (form.file.files.length) {
          const data = new FormData();
          data.append("file", form.file.files[0]);
          try {
            await api("POST", `/tickets/${made.id}/attachments`, data);
          } catch (error) {
            notice(t("Request #{id} was filed, but the photo was not: {why}", { id: made.id, why: error.message }), true);
            setTimeout(() => { location.href = `/console/tickets/${made.id}`; }, 4000);
            return;
          }
        }
        location.href = `/console/tickets/${made.id}`;
      } catch (error) {
        send.disabled = false;
      }
    });
  }

  // -- unmapped devices -------------------------------------------------------------------------
  function unmapped() {
    for (const form of document.querySelectorAll("form.map-device")) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const send = form.querySelector("button[type=submit]");
        send.disabled = true;
        try {
          const mapped = await api("POST", "/devices/unmapped/map", {
            source: form.dataset.source,
            device: form.dataset.device,
            asset_id: Number(form.asset_id.value),
          });
          const held = mapped.still_held
            ? t("; {count} still held (replay again)", { count: mapped.still_held }) : "";
          notice(
            t("{device} is now {device_id} of {asset} ({site}, {system}): {replayed} held messages brought in", {
              device: mapped.device, device_id: mapped.device_id, asset: mapped.asset_code,
              site: mapped.site, system: mapped.system, replayed: mapped.replayed,
            }) + held,
          );
          if (!mapped.still_held) form.closest("tr").remove();
        } catch (error) {
          send.disabled = false;
        }
      });
    }
  }

  // -- telemetry charts -------------------------------------------------------------------------
  const SVG = "http://www.w3.org/2000/svg";

  function timeLabel(ms, spanMs) {
    const d = new Date(ms);
    const hm = d.toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit" });
    return spanMs > 36 * 3600 * 1000 ? `${d.toLocaleDateString(LANG)} ${hm}` : hm;
  }

  function draw(figure, series) {
    const svg = figure.querySelector("svg");
    svg.replaceChildren();
    const points = series.points;
    const range = figure.querySelector(".range");
    const axis = figure.querySelector(".axis");
    if (!points.length) { range.textContent = t("no data in this window"); axis.hidden = true; return; }
    let low = Infinity, high = -Infinity;
    for (const [, , min, max] of points) { low = Math.min(low, min); high = Math.max(high, max); }
    const seenLow = low, seenHigh = high;
    // A metric behind an anomaly finding: the range the model learned as normal, shaded.
    const normal = "normalLow" in figure.dataset
      ? [Number(figure.dataset.normalLow), Number(figure.dataset.normalHigh)] : null;
    if (normal) { low = Math.min(low, normal[0]); high = Math.max(high, normal[1]); }
    if (high === low) { const pad = Math.abs(high) * 0.05 || 1; high += pad; low -= pad; } // a flat line in the middle
    // A device newer than the window is drawn from its first point, not as a sliver at the end.
    const span = series.end_ms - series.start_ms;
    const first = points[0][0];
    const start = Math.max(series.start_ms, first - Math.max(60000, (series.end_ms - first) * 0.05));
    const x = (t) => ((t - start) / (series.end_ms - start)) * 600;
    const y = (v) => 155 - ((v - low) / (high - low)) * 150;
    const band = points.map(([t, , , max]) => `${x(t)},${y(max)}`)
      .concat(points.slice().reverse().map(([t, , min]) => `${x(t)},${y(min)}`));
    const area = document.createElementNS(SVG, "polygon");
    area.setAttribute("points", band.join(" "));
    area.setAttribute("class", "band");
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.map(([t, mean]) => `${x(t)},${y(mean)}`).join(" "));
    line.setAttribute("class", "mean");
    const last = points[points.length - 1];
    const newest = document.createElementNS(SVG, "circle"); // visible even with one bucket
    newest.setAttribute("cx", x(last[0]));
    newest.setAttribute("cy", y(last[1]));
    newest.setAttribute("r", 3);
    newest.setAttribute("class", "newest");
    svg.append(area, line, newest);
    if (normal) {
      const shade = document.createElementNS(SVG, "rect");
      shade.setAttribute("x", 0);
      shade.setAttribute("width", 600);
      shade.setAttribute("y", y(normal[1]));
      shade.setAttribute("height", Math.max(1, y(normal[0]) - y(normal[1])));
      shade.setAttribute("class", "normal");
      svg.prepend(shade);
    }
    const unit = figure.dataset.unit;
    const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
    axis.hidden = false;
    axis.querySelector(".hi").textContent = `${fmt(high)} ${unit}`;
    axis.querySelector(".lo").textContent = `${fmt(low)} ${unit}`;
    axis.querySelector(".t0").textContent = timeLabel(start, span);
    axis.querySelector(".t1").textContent = t("now");
    range.textContent = t("min {low} · max {high} · newest {newest} {unit}", {
      low: fmt(seenLow), high: fmt(seenHigh), newest: fmt(last[1]), unit,
    });
  }

  async function loadCharts() {
    const hours = document.getElementById("window").value;
    for (const figure of document.querySelectorAll("figure.chart")) {
      try {
        draw(figure, await api("GET", `${figure.dataset.series}&hours=${hours}`));
      } catch (error) { /* shown */ }
    }
  }

  function charts() {
    document.getElementById("window").addEventListener("change", loadCharts);
    loadCharts();
    setInterval(loadCharts, 15000); // live: the newest window from the telemetry store
  }

  // -- the account's language ------------------------------------------------------------------
  function chooseLanguage() {
    const select = document.getElementById("language");
    if (!select) return;
    select.addEventListener("change", async () => {
      try {
        await api("PUT", "/users/me/language", { language: select.value || null });
        location.reload();
      } catch (error) { /* shown */ }
    });
  }

  // -- patrol rounds ----------------------------------------------------------------------------
  function patrols() {
    const form = document.getElementById("patrol-code");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = form.code.value.trim().toUpperCase();
      if (code) location.href = `/console/patrols/check-in/${encodeURIComponent(code)}?typed=1`;
    });
  }

  function patrolCheckIn() {
    const form = document.getElementById("check-in");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (form.abnormal.checked && !form.observation.value.trim()) {
        notice(t("Say what is wrong here."), true);
        form.observation.focus();
        return;
      }
      const send = form.querySelector("button[type=submit]");
      send.disabled = true;
      const data = new FormData();
      data.append("code", form.dataset.code);
      data.append("method", form.dataset.method);
      data.append("observation", form.observation.value);
      data.append("abnormal", form.abnormal.checked ? "true" : "false");
      if (form.photo.files.length) data.append("photo", form.photo.files[0]);
      try {
        const made = await api("POST", "/patrols/check-ins", data);
        location.href = `/console/patrols/runs/${made.run_id}`;
      } catch (error) {
        send.disabled = false; // what was typed stays in the form
      }
    });
  }

  // -- every page -------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    // Which page script runs comes from <body data-page>: no inline scripts (the CSP allows
    // none).
    const boot = { alarms: liveAlarms, charts, ticket, newRequest, unmapped, patrols, patrolCheckIn }[
      document.body.dataset.page
    ];
    if (boot) boot();
    chooseLanguage();
    countdowns();
    setInterval(countdowns, 1000);
    // Keep the session while the page is open: short-lived tokens, renewed.
    // A session that ended (logged out elsewhere, account disabled, maximum lifetime) goes to
    // the login form instead of failing quietly.
    setInterval(async () => {
      const renewed = await fetch("/console/session", { method: "POST", headers: HEADERS });
      if (renewed.status === 401) {
        location.assign(`/console/login?next=${encodeURIComponent(location.pathname)}`);
      }
    }, 5 * 60000);
  });

  return { api, liveAlarms, ticket, charts, notice, newRequest };
})();
