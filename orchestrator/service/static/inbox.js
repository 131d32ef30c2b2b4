// The approval inbox's keyboard and buttons. It calls the JSON API and writes
// only text (textContent), never HTML: drafts come from models and lead files.
"use strict";

(function () {
  const cards = () => Array.from(document.querySelectorAll("article.card"));
  const open = () => cards().filter((c) => !c.classList.contains("decided"));
  const status = document.getElementById("status");
  let current = null;

  function say(text) {
    status.textContent = text;
  }

  function select(card) {
    if (!card) return;
    if (current) current.classList.remove("selected");
    current = card;
    card.classList.add("selected");
    card.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const list = open();
    if (!list.length) return;
    const at = list.indexOf(current);
    const next = at < 0 ? 0 : Math.min(list.length - 1, Math.max(0, at + step));
    select(list[next]);
  }

  async function call(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (_) {
      data = { message: response.statusText };
    }
    return { ok: response.ok, status: response.status, data };
  }

  function done(card, state) {
    card.classList.add("decided");
    card.querySelector(".result").textContent = state;
    card.querySelectorAll("button, input, textarea").forEach((el) => (el.disabled = true));
    const left = open().length;
    document.getElementById("count").textContent = left + " awaiting";
    const list = open();
    if (list.length) select(list[0]);
  }

  function problems(card, data) {
    const list = card.querySelector(".problems");
    list.replaceChildren();
    const checks = (data.quality && data.quality.checks) || [];
    for (const check of checks.filter((c) => !c.passed)) {
      const item = document.createElement("li");
      item.textContent = check.rule + ": " + check.detail;
      list.appendChild(item);
    }
  }

  async function decide(card, verb) {
    if (!card || card.classList.contains("decided")) return;
    const id = card.dataset.id;
    say(verb + " " + id + "…");
    const { ok, data } = await call("/workflows/" + encodeURIComponent(id) + "/" + verb);
    if (ok) {
      done(card, data.state);
      say(id + ": " + data.state);
    } else {
      card.querySelector(".result").textContent = data.message || "failed";
      say(data.message || "failed");
    }
  }

  async function save(card) {
    const form = card.querySelector("form.edit");
    const body = {};
    for (const name of ["subject", "body", "linkedin_note"]) {
      const field = form.elements.namedItem(name);
      if (field) body[name] = field.value;
    }
    const id = card.dataset.id;
    say("saving " + id + "…");
    const { ok, data } = await call("/workflows/" + encodeURIComponent(id) + "/edit", body);
    if (ok) {
      card.querySelector(".problems").replaceChildren();
      done(card, data.state + " (edited)");
      say(id + ": " + data.state);
    } else {
      card.querySelector(".result").textContent = data.message || "failed";
      problems(card, data);
      say(data.message || "failed");
    }
  }

  async function approveAll() {
    const byBatch = new Map();
    for (const card of open()) {
      const ids = byBatch.get(card.dataset.batch) || [];
      ids.push(card.dataset.id);
      byBatch.set(card.dataset.batch, ids);
    }
    let approved = 0;
    for (const [batch, ids] of byBatch) {
      const { ok, data } = await call("/batches/" + encodeURIComponent(batch) + "/approve", { ids });
      if (!ok) {
        say(data.message || "failed");
        return;
      }
      for (const id of data.approved) {
        const card = document.getElementById("wf-" + id);
        if (card) done(card, "completed");
        approved += 1;
      }
    }
    say("approved " + approved);
  }

  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest && event.target.closest("input, textarea, select");
    if (typing) {
      if (event.key === "Escape") {
        event.target.blur();
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        const card = event.target.closest("article.card");
        if (card) {
          event.preventDefault();
          save(card);
        }
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const keys = {
      j: () => move(1),
      k: () => move(-1),
      a: () => decide(current, "approve"),
      r: () => decide(current, "reject"),
      e: () => {
        const field = current && current.querySelector("input, textarea");
        if (field) field.focus();
      },
    };
    if (keys[event.key]) {
      event.preventDefault();
      keys[event.key]();
    }
  });

  for (const card of cards()) {
    card.addEventListener("click", () => select(card));
    card.querySelector("form.edit").addEventListener("submit", (event) => {
      event.preventDefault();
      save(card);
    });
    card.querySelector("button.approve").addEventListener("click", () => decide(card, "approve"));
    card.querySelector("button.reject").addEventListener("click", () => decide(card, "reject"));
  }
  const all = document.getElementById("approve-all");
  if (all) all.addEventListener("click", approveAll);
  move(0);
})();
